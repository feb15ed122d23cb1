"""The ``icp-notify batch`` progress bar (:class:`icp_notify.commands.batch.Progress`, on tqdm)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from icp_notify.commands.batch import Progress


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _rows(path: Path, offsets: list[int]) -> list[dict[str, object]]:
    return [{"seq": i, "source": {"file": str(path), "offset": o}} for i, o in enumerate(offsets)]


def _last_frame(out: str) -> str:
    return out.replace("\n", "\r").rstrip("\r").rsplit("\r", 1)[-1]


def test_silent_when_not_a_terminal(tmp_path: Path) -> None:
    data = tmp_path / "in.txt"
    data.write_bytes(b"x" * 400)
    stream = io.StringIO()
    p = Progress(stream, 400, enabled=True, interval=0)
    for row in _rows(data, [100, 200, 300, 400]):
        p.update(row)
    p.close()
    assert stream.getvalue() == ""
    assert (p.enabled, p.rows) == (False, 4)


def test_silent_with_no_progress_even_on_a_terminal(tmp_path: Path) -> None:
    stream = Terminal()
    p = Progress(stream, 400, enabled=False, interval=0)
    p.update(_rows(tmp_path / "in.txt", [100])[0])
    p.close()
    assert stream.getvalue() == ""


def test_bar_follows_bytes_read_and_counts_rows(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_bytes(b"x" * 1000)
    b.write_bytes(b"y" * 1000)
    stream = Terminal()
    p = Progress(stream, 2000, enabled=True, interval=0)
    p.update(_rows(a, [500])[0])
    middle = _last_frame(stream.getvalue())
    assert middle.startswith(" 25%")  # 500 of 2000 bytes
    assert "1 rows" in middle
    assert "rows/s" in middle
    assert "<" in middle  # elapsed<remaining: the ETA
    for row in _rows(a, [1000]) + _rows(b, [250, 600]):
        p.update(row)
    assert _last_frame(stream.getvalue()).startswith(" 80%")  # a read, 600 of b
    p.close()
    out = stream.getvalue()
    assert out.endswith("\n")  # the line is finished
    final = _last_frame(out)
    assert final.startswith("100%")
    assert "4 rows" in final


def test_interrupted_bar_stays_where_the_last_row_was(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_bytes(b"x" * 1000)
    stream = Terminal()
    p = Progress(stream, 1000, enabled=True, interval=0)
    p.update(_rows(a, [300])[0])
    p.close(complete=False)
    assert _last_frame(stream.getvalue()).startswith(" 30%")


def test_unknown_size_shows_rows_without_eta() -> None:
    stream = Terminal()
    p = Progress(stream, 0, enabled=True, interval=0)
    for i in range(3):
        p.update({"seq": i, "source": None})
    p.close()
    final = _last_frame(stream.getvalue())
    assert "3 rows" in final
    assert "%" not in final


def test_tqdm_is_not_imported_when_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # an import would fail
    p = Progress(io.StringIO(), 10, enabled=True)
    p.update({"seq": 0, "source": None})
    p.close()
    assert p.rows == 1
