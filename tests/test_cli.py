"""The command line: bytes on standard input, and a reader that goes away (``| head``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import types
from pathlib import Path

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
    "import gc, sys\n"
    "from icp_notify.cli import main, program\n"
    "entry = program if sys.argv.pop(1) == 'program' else main\n"
    "code = entry() if entry is program else entry(sys.argv[1:])\n"
    "print('state', code, gc.get_freeze_count() > 0, gc.isenabled(), file=sys.stderr)\n"
)


@pytest.mark.parametrize("argv", [["classify", CANCELLED, "--json"], ["analyze", CANCELLED]])
def test_the_program_gives_mains_output_and_freezes_what_is_left(argv: list[str]) -> None:
    """``program`` (the installed ``icp-notify``) runs a one-notice command with the collector
    off and freezes what is left; the output is :func:`main`'s, and the collector is back on."""
    runs = {
        entry: subprocess.run(
            [sys.executable, "-c", _PROGRAM, entry, *argv],
            capture_output=True,
            text=True,
            check=True,
        )
        for entry in ("main", "program")
    }
    assert runs["program"].stdout == runs["main"].stdout
    assert "access_cancelled" in runs["main"].stdout or "refile_now" in runs["main"].stdout
    assert runs["main"].stderr.split()[-4:] == ["state", "0", "False", "True"]
    assert runs["program"].stderr.split()[-4:] == ["state", "0", "True", "True"]


def test_the_program_leaves_the_collector_alone_for_other_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, "program", "demo"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr.split()[-4:] == ["state", "0", "False", "True"]
