"""Plain-text archives: one notice per line, or notices separated by blank lines.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "notices.txt"
>>> _ = p.write_text("第一条\\n\\n第二条\\n续行\\n", encoding="utf-8")
>>> [m.text for m in read_text(p)]
['第一条', '第二条', '续行']
>>> [m.text for m in read_text(p, split="blank")]
['第一条', '第二条\\n续行']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from icp_notify.models import RawMessage
from icp_notify.readers.common import (
    MAX_RECORD_CHARS,
    ReadItem,
    Split,
    error,
    guard,
    open_error,
    sniff_file_encoding,
    source_ref,
)


def read_text(path: str | Path, *, split: Split = "line") -> Iterator[ReadItem]:
    """Read notices from a text file in UTF-8 (with or without BOM), GB18030 or UTF-16.

    Parameters
    ----------
    path : str or Path
        The file.
    split : {"line", "blank"}
        ``"line"``: every non-blank line is a notice; ``"blank"``: notices are separated by
        one or more blank lines (a notice may span lines).

    Yields
    ------
    RawMessage or ReadError
        A message per notice (``source`` has file, 1-based first line, byte offset and index);
        a ``ReadError`` (``undecodable``, ``too_large``, ``not_found``, ``unreadable``) per
        record that cannot be read.
    """
    try:
        encoding = sniff_file_encoding(path)
    except OSError as exc:
        yield open_error(path, exc)
        return
    yield from guard(path, _read(path, encoding, split))


def _lines(path: str | Path, encoding: str) -> Iterator[tuple[int, int, str | None]]:
    """Yield (line number, byte offset, text or None when undecodable)."""
    if encoding == "utf-16":
        with open(path, encoding=encoding, errors="replace", newline=None) as fh:
            for number, line in enumerate(fh, start=1):
                yield number, 0, line.rstrip("\r\n")
        return
    offset = 0
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            data = raw
            if number == 1 and encoding == "utf-8-sig":
                data = data.removeprefix(b"\xef\xbb\xbf")
            try:
                text: str | None = data.decode("utf-8" if encoding == "utf-8-sig" else encoding)
            except UnicodeDecodeError:
                text = None
            yield number, offset, None if text is None else text.rstrip("\r\n")
            offset += len(raw)


def _read(path: str | Path, encoding: str, split: Split) -> Iterator[ReadItem]:
    index = 0
    block: list[str] = []
    start_line = start_offset = 0

    def flush() -> ReadItem:
        text = "\n".join(block)
        if len(text) > MAX_RECORD_CHARS:
            return error(
                "too_large",
                f"notice longer than {MAX_RECORD_CHARS} characters",
                path,
                position=f"line {start_line}",
                line=start_line,
                index=index,
            )
        return RawMessage(
            text=text,
            source=source_ref(path, line=start_line, offset=start_offset, index=index),
        )

    for number, offset, text in _lines(path, encoding):
        if text is None:
            if block:
                yield flush()
                index += 1
                block = []
            yield error(
                "undecodable",
                f"line {number} is neither UTF-8 nor GB18030",
                path,
                position=f"line {number}",
                line=number,
                offset=offset,
                index=index,
            )
            index += 1
            continue
        if not text.strip():
            if block:
                yield flush()
                index += 1
                block = []
            continue
        if not block:
            start_line, start_offset = number, offset
        block.append(text.strip() if split == "line" else text.rstrip())
        if split == "line":
            yield flush()
            index += 1
            block = []
    if block:
        yield flush()
