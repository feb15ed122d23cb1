"""The command line: bytes on standard input, and a reader that goes away (``| head``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from icp_notify.cli import main

CANCELLED = "【阿里云】您的网站 lvshan-tea.cn 已完成取消接入。"


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    # a UTF-8 text stream over the bytes, like a terminal's sys.stdin
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


@pytest.mark.parametrize("command", ["classify", "parse", "analyze"])
def test_gb18030_standard_input_is_decoded(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, CANCELLED.encode("gb18030"))
    assert main([command, "-", "--json"]) == 0
    out = capsys.readouterr().out
    if command != "classify":
        assert "lvshan-tea.cn" in out
    if command != "parse":
        assert "access_cancelled" in out


def test_classify_standard_input_reads_an_email(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mail = (
        "From: notice@example-cloud.cn\nSubject: x\nContent-Type: text/plain; charset=gbk\n\n"
        + CANCELLED
        + "\n"
    ).encode("gbk")
    _stdin(monkeypatch, mail)
    assert main(["classify", "-"]) == 0
    assert "access_cancelled" in capsys.readouterr().out


def _run_with_closed_stdout(*argv: str) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI with standard output a pipe whose reading end is already closed."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "icp_notify.cli", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "argv",
    [("classify", CANCELLED), ("parse", CANCELLED, "--json")],
    ids=["classify", "parse"],
)
def test_closed_pipe_exits_quietly(argv: tuple[str, ...]) -> None:
    done = _run_with_closed_stdout(*argv)
    assert done.stderr.decode() == ""
    assert done.returncode == 141


def test_discard_stdout_tolerates_a_stream_without_fileno(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from icp_notify import cli

    stream = types.SimpleNamespace()
    monkeypatch.setattr(sys, "stdout", stream)
    assert cli._discard_stdout() is None  # no exception, the stream left as it was
    assert sys.stdout is stream
    assert vars(stream) == {}


def test_discard_stdout_sends_what_is_written_later_to_devnull(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from icp_notify import cli

    target = tmp_path / "stdout.txt"
    with target.open("w", encoding="utf-8") as stream:
        stream.write("kept\n")
        stream.flush()
        monkeypatch.setattr(sys, "stdout", stream)
        cli._discard_stdout()
        stream.write("dropped\n")
    assert target.read_text(encoding="utf-8") == "kept\n"


_PROGRAM = (
    "import atexit, gc, sys\n"
    "from icp_notify.cli import main, program\n"
    "entry = program if sys.argv.pop(1) == 'program' else main\n"
    "atexit.register(lambda: print('state', gc.get_freeze_count() > 0, gc.isenabled(),\n"
    "                              gc.get_threshold()[0], file=sys.stderr))\n"
    "code = entry() if entry is program else entry(sys.argv[1:])\n"
    "print('returned', code, file=sys.stderr)\n"
    "sys.exit(code)\n"
)
"""Runs ``program`` or ``main``; the collector's state is printed by an :mod:`atexit` handler
(``program`` ends the process without returning, after running the handlers)."""


def _program(*argv: str, entry: str = "program", **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROGRAM, entry, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,
    )


@pytest.mark.parametrize("argv", [["classify", CANCELLED, "--json"], ["analyze", CANCELLED]])
def test_the_program_gives_mains_output_and_freezes_what_is_left(argv: list[str]) -> None:
    """``program`` (the installed ``icp-notify``) runs a one-notice command with the collector
    off and freezes what is left; the output is :func:`main`'s, and the collector is back on.
    It ends the process itself, after the :mod:`atexit` handlers, with main's status."""
    runs = {entry: _program(*argv, entry=entry) for entry in ("main", "program")}
    assert runs["program"].stdout == runs["main"].stdout
    assert "access_cancelled" in runs["main"].stdout or "refile_now" in runs["main"].stdout
    assert runs["main"].stderr.split()[-6:] == ["returned", "0", "state", "False", "True", "700"]
    assert runs["program"].stderr.split() == ["state", "True", "True", "700"]
    assert runs["main"].returncode == runs["program"].returncode == 0


def test_the_program_raises_the_young_threshold_for_other_commands() -> None:
    done = _program("demo")
    assert done.returncode == 0, done.stderr
    assert done.stderr.split()[-4:] == ["state", "False", "True", "20000"]
    assert "returned" not in done.stderr


def test_the_program_ends_with_mains_status_on_an_error(tmp_path: Path) -> None:
    done = _program("batch", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "out.jsonl"))
    assert done.returncode == 1
    assert "could not be opened" in done.stderr
    assert "returned" not in done.stderr
    assert "state" in done.stderr


def test_the_program_loses_no_output_when_it_ends_the_process(tmp_path: Path) -> None:
    """Every row reaches the output file, and standard output's whole stream (more than a
    pipe's buffer) reaches the reader, though the process ends without the interpreter's
    teardown."""
    import json

    archive = tmp_path / "in.jsonl"
    texts = [f"【示例云】您的备案订单 BA{n:010d} 已通过初审，已提交管局审核。" for n in range(300)]
    archive.write_text(
        "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    to_file = _program("batch", str(archive), "-o", str(out))
    assert to_file.returncode == 0, to_file.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["notice"]["raw_text"] for row in rows] == texts
    assert "read 300: labelled 300" in to_file.stderr
    to_stdout = _program("batch", str(archive))
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert len(to_stdout.stdout.encode()) > 65536
    assert to_stdout.stdout.encode() == out.read_bytes()


_WITH_THREAD = (
    "import sys, threading, time\n"
    "from icp_notify.cli import program\n"
    "def late():\n"
    "    time.sleep(0.3)\n"
    "    print('thread done', flush=True)\n"
    "threading.Thread(target=late).start()\n"
    "sys.argv = ['icp-notify', 'parse', '您的备案信息已被变更']\n"
    "code = program()\n"
    "print('returned', code, flush=True)\n"
)


def test_the_program_leaves_the_ending_to_the_interpreter_while_a_thread_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITH_THREAD],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["returned 0", "thread done"]


class _Unflushable(io.StringIO):
    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_end_process_returns_when_a_stream_cannot_be_flushed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from icp_notify import cli

    calls: list[str] = []
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: calls.append("atexit"))
    monkeypatch.setattr(cli.os, "_exit", lambda code: calls.append(f"exit {code}"))
    monkeypatch.setattr(sys, "stdout", _Unflushable())
    assert cli.end_process(0) is None
    assert calls == []
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    cli.end_process(3)
    assert calls == ["atexit", "exit 3"]
