"""Cold start of ``import icp_notify; icp_notify.classify(GENERIC)`` in callgrind instructions, phase by phase.

Run from the repository root (needs valgrind)::

    .venv/bin/python bench/cold_phases.py [--code DIR]

It runs a new interpreter under ``valgrind --tool=callgrind --dump-before=getppid`` (with
``PYTHONHASHSEED=0``, bytecode allowed, after one warm-up run that writes any missing ``.pyc``):
the child calls ``os.getppid()`` between phases, so callgrind writes one profile per phase, and
the instructions of each are printed (deterministic: the same on a loaded machine). ``--code
DIR`` puts ``DIR`` first on ``sys.path`` (a checkout of another commit: ``git archive COMMIT
icp_notify | tar -x -C DIR``). The phases are cumulative steps of one process, in the order a
classification meets them; "exit" is the interpreter's finalisation. Nothing here is a test.
"""

from __future__ import annotations

import os
import sys

GENERIC = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"

PHASES = (
    "python start",
    "import icp_notify",
    "import icp_notify.classifier",
    "import numpy",
    "import icp_notify.tokenize",
    "text model",
    "rules",
    "calibration + combiner",
    "tokenizer",
    "first answer",
)


def child() -> None:
    """The measured process: each phase ends with ``os.getppid()`` (callgrind dumps there)."""
    os.getppid()  # end of "python start"
    import icp_notify

    os.getppid()
    import icp_notify.classifier

    os.getppid()
    import numpy  # noqa: F401

    os.getppid()
    import icp_notify.tokenize

    os.getppid()
    from icp_notify.textmodel import default_model

    default_model()
    os.getppid()
    from icp_notify.rules import default_rules

    default_rules()
    os.getppid()
    from icp_notify.classifier import Classifier, default_tokenizer

    Classifier.default()
    os.getppid()
    default_tokenizer("x")
    os.getppid()
    icp_notify.classify(GENERIC)
    os.getppid()


def _total(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit(f"{path}: no total")


def main() -> None:
    """Run the child under callgrind and print each phase's instructions."""
    import argparse
    import glob
    import subprocess
    import tempfile

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--code", help="a directory holding the icp_notify package to measure")
    args = p.parse_args()
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [sys.executable, os.path.abspath(__file__), "--child"]
    if args.code:
        cmd += ["--code", os.path.abspath(args.code)]
    subprocess.run(cmd, check=True, env=env, cwd=tempfile.gettempdir())  # writes the .pyc
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--dump-before=getppid",
                f"--callgrind-out-file={out}",
                *cmd,
            ],
            check=True,
            env=env,
            cwd=tempfile.gettempdir(),
            capture_output=True,
        )
        dumps = sorted(glob.glob(out + ".*"), key=lambda f: int(f.rsplit(".", 1)[1]))
        counts = [_total(f) for f in dumps] + [_total(out)]
    for name, count in zip((*PHASES, "exit"), counts, strict=True):
        print(f"{name:30s} {count / 1e6:9.1f} M")
    print(f"{'total':30s} {sum(counts) / 1e6:9.1f} M")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # the measured process imports nothing the harness needs
        if sys.argv[2:3] == ["--code"]:
            sys.path.insert(0, sys.argv[3])
        child()
    else:
        main()
