"""JSON Lines archives: one JSON object per line.

The text is read from ``text_field`` or the first of ``text``/``body``/``content``; ``id``,
``channel``, ``sender``, ``received_at``, ``subject`` and ``context`` are optional.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "n.jsonl"
>>> _ = p.write_bytes(b'{"id": "a1", "body": "\\xe5\\xa4\\x87\\xe6\\xa1\\x88"}\\nnot json\\n')
>>> [(type(i).__name__, getattr(i, "code", None)) for i in read_jsonl(p)]
[('RawMessage', None), ('ReadError', 'invalid_json')]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from icp_notify.readers.common import (
    MAX_RECORD_CHARS,
    ReadItem,
    error,
    guard,
    message_from_record,
)

_SCAN: Callable[[str, int], tuple[object, int]] = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The C scanner ``json.loads`` decodes with (the default decoder's kind)."""


def _loads(line: str) -> object:
    """``json.loads(line)``: a value scanned from the line's first character and followed only
    by JSON whitespace is what ``json.loads`` returns (it scans the same way after skipping
    leading whitespace, then refuses anything but whitespace after the value); any other line
    goes through ``json.loads``, which returns or raises as it does."""
    try:
        value, end = _SCAN(line, 0)
    except (StopIteration, ValueError):
        return json.loads(line)
    if end != len(line) and line[end:].strip(" \t\n\r"):
        return json.loads(line)  # extra data: json.loads says where
    return value


def read_jsonl(path: str | Path, *, text_field: str | None = None) -> Iterator[ReadItem]:
    """Read notices from a JSON Lines file.

    Parameters
    ----------
    path : str or Path
        The file (UTF-8, a BOM is accepted; lines in GB18030 are accepted too).
    text_field : str, optional
        The field holding the notice text (default: ``text``, ``body``, ``content``…).

    Yields
    ------
    RawMessage or ReadError
        One message per object line; a ``ReadError`` for a line that is not valid UTF-8
        (``undecodable``), not JSON (``invalid_json``), not an object (``not_an_object``),
        has no text (``missing_text``) or a bad field (``invalid_field``). Blank lines are
        skipped.
    """
    yield from guard(path, _read(path, text_field))


def _read(path: str | Path, text_field: str | None) -> Iterator[ReadItem]:
    with open(path, "rb") as fh:
        offset = 0
        index = 0
        for number, raw in enumerate(fh, start=1):
            where = {"line": number, "offset": offset, "index": index}
            position = f"line {number}"
            offset += len(raw)
            data = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
            if not data.strip():
                continue
            index += 1
            if len(data) > 4 * MAX_RECORD_CHARS:
                yield error("too_large", "line too long", path, position=position, **where)
                continue
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                try:
                    line = data.decode("gb18030")
                except UnicodeDecodeError:
                    yield error(
                        "undecodable",
                        f"invalid UTF-8 at byte {exc.start} of the line",
                        path,
                        position=position,
                        **where,
                    )
                    continue
            try:
                record = _loads(line)
            except json.JSONDecodeError as exc:
                yield error(
                    "invalid_json",
                    f"not JSON: {exc.msg} (column {exc.colno})",
                    path,
                    position=position,
                    **where,
                )
                continue
            if not isinstance(record, dict):
                yield error(
                    "not_an_object",
                    "the line is JSON but not an object",
                    path,
                    position=position,
                    **where,
                )
                continue
            yield message_from_record(
                record, path=path, text_field=text_field, where=where, position=position
            )
