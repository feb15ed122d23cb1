"""The ``icp-notify`` command.

Each subcommand lives in its own module under :mod:`icp_notify.commands`, exposing
``add_arguments(parser)`` and ``run(args) -> int``; this module only wires them together, so
``icp-notify --version`` imports nothing heavy.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import sys
import threading
from collections.abc import Sequence

from icp_notify._version import __version__
from icp_notify.errors import IcpNotifyError

#: subcommand name → (module under icp_notify.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "parse": ("parse", "parse one notice and print the Notice"),
    "classify": ("classify", "classify one notice"),
    "analyze": ("analyze", "parse, classify and advise: print a card or the Report"),
    "demo": ("demo", "analyze the built-in example notices"),
    "batch": ("batch", "label archived notices (mbox, .eml, XML, CSV, JSONL, text)"),
    "check-corpus": ("corpus", "validate the labelled corpus"),
    "train": ("train", "train the text model and export the artefact"),
    "eval": ("evaluate", "evaluate the classifier on a labelled JSONL file"),
    "calibrate": ("calibrate", "measure by leave-one-writer-out and write the calibration table"),
    "serve": ("serve", "run the HTTP service"),
    "reclassify": ("reclassify", "recompute stored classifications after a model update"),
    "alerts": ("alerts", "alert channels: `alerts test` sends a sample to each"),
    "simulate": ("simulate", "score the context engine on simulated filing histories"),
}


ONE_SHOT = frozenset({"parse", "classify", "analyze"})
"""Commands that read one notice, print and end: :func:`program` runs them with the cyclic garbage
collector off (docs/performance.md, "Cold start, third round")."""

YOUNG_THRESHOLD = 20_000
"""The collector's first threshold (Python's default: 700) for every other command, under
:func:`program`: a batch keeps thousands of notices' objects in its caches, and each young
collection walks those not yet old, so at 700 the collector took ≈ 9 % of a no-repeats batch
(docs/performance.md, "Batch, the collector"). The young generation then holds at most 20,000
objects (a few MB) before cyclic garbage is freed."""


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subparser's ``_run`` default is the command's ``run`` function.
    """
    parser = argparse.ArgumentParser(
        prog="icp-notify",
        description="Read ICP filing notices, say which situation each means, and what to do.",
    )
    parser.add_argument("--version", action="version", version=f"icp-notify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(f"icp_notify.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"icp_notify.commands.{module_name}":
                raise
            continue  # command not available in this build
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status: 0 on success, 1 for bad input or a data-file error, 2 for usage errors,
        141 (128 + SIGPIPE) when the reader of standard output went away (``| head``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        code = int(run(args))
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return code
    except BrokenPipeError:
        _discard_stdout()
        return 141
    except IcpNotifyError as exc:
        print(f"icp-notify {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"icp-notify {args.command}: interrupted", file=sys.stderr)
        return 130


def program() -> int:
    """The ``icp-notify`` executable: :func:`main` on ``sys.argv``, in a process that ends with it.

    A command of :data:`ONE_SHOT` runs with the cyclic garbage collector disabled, and the
    objects left when it returns are frozen (:func:`gc.freeze`), so the interpreter's last
    collection at exit does not walk them. The collector's passes during start-up (the imports,
    the model and the rules) and at exit free nothing such a command would miss: it handles one
    notice and the process ends, freeing everything. The output is the same; start-up and exit
    take ≈ 120 M fewer instructions. Every other command (batch, serve, train …) runs with the
    collector's first threshold raised to :data:`YOUNG_THRESHOLD` (worker processes forked by
    ``batch --workers`` inherit it). Tests call :func:`main`, which leaves the collector alone.

    Then the process ends at once (:func:`end_process`): the objects left (the model, the rules,
    a batch's caches) are not torn down one by one.

    Returns
    -------
    int
        :func:`main`'s exit status, when :func:`end_process` leaves the ending to the
        interpreter (a thread still running, a standard stream that cannot be flushed).
    """
    one_shot = len(sys.argv) > 1 and sys.argv[1] in ONE_SHOT
    if not one_shot:
        gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        code = main()
    else:
        enabled = gc.isenabled()
        gc.disable()
        try:
            code = main()
        finally:
            gc.freeze()
            if enabled:
                gc.enable()
    end_process(code)
    return code


def end_process(code: int) -> None:
    """End the process with ``code`` now, without tearing down its objects one by one.

    What the interpreter's own exit does that matters is done first: the standard streams are
    flushed and the :mod:`atexit` handlers run (the worker pools', logging's, temporary
    directories', coverage's), then :func:`os._exit` ends the process, so the module teardown
    that frees the text model's, the rules' and a batch's caches' objects one by one is left to
    the operating system (≈ 100 M instructions of a one-row ``icp-notify batch``, 5 % of it).
    Every file a command writes is closed by the command itself. When a thread other than a
    daemon is still running, or a standard stream cannot be flushed, this returns and the
    interpreter ends the process as it always does (joining the thread, reporting the stream).

    Parameters
    ----------
    code : int
        The exit status.
    """
    others = (t for t in threading.enumerate() if t is not threading.main_thread())
    if any(t.is_alive() and not t.daemon for t in others):
        return
    if not _flushed():
        return
    atexit._run_exitfuncs()
    if not _flushed():  # an atexit handler's output
        return
    os._exit(code)


def _flushed() -> bool:
    """Whether standard output and error flushed (a closed pipe or stream: ``False``)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError, AttributeError):
            return False
    return True


def _discard_stdout() -> None:
    """Point standard output at /dev/null so the flush at exit cannot raise again.

    The recipe of the Python docs (``signal`` module, "Note on SIGPIPE").
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # replaced or closed stream (tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(program())
