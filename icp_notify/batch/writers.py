"""Writing batch rows (JSONL, CSV) and finding where an earlier output stopped (``--resume``).

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> _ = list(write_rows([{"seq": 0, "source": None, "error": {"code": "empty"}}], out))
>>> out.getvalue()
'{"seq": 0, "source": null, "error": {"code": "empty"}}\\n'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

from icp_notify.batch.jsontext import dumps
from icp_notify.batch.labeller import LabelledLine
from icp_notify.batch.rows import Row

__all__ = ["CSV_COLUMNS", "csv_record", "last_seq", "row_json", "write_rows"]

CSV_COLUMNS: tuple[str, ...] = (
    "seq",
    "file",
    "line",
    "index",
    "message_id",
    "channel",
    "sender",
    "received_at",
    "text",
    "situation",
    "ambiguous",
    "candidates",
    "confidence",
    "kind",
    "urgency",
    "action",
    "summary",
    "error_code",
    "error_message",
)
"""The columns of ``--format csv`` output."""

_RowT = TypeVar("_RowT", bound="Row | LabelledLine")


def row_json(row: Row | LabelledLine) -> str:
    """A row's JSON line: the one it carries, else ``json.dumps(row, ensure_ascii=False)``.

    Parameters
    ----------
    row : dict or LabelledLine
        A row from :func:`~icp_notify.batch.label` or :func:`~icp_notify.batch.label_lines`.

    Returns
    -------
    str

    Examples
    --------
    >>> row_json({"seq": 1, "source": None})
    '{"seq": 1, "source": null}'
    """
    line = getattr(row, "json", None)
    if isinstance(line, str):
        return line
    assert isinstance(row, dict)
    return dumps(row)


def write_rows(
    rows: Iterable[_RowT],
    out: Any,
    fmt: Literal["jsonl", "csv"] = "jsonl",
    *,
    binary: Any = None,
) -> Iterator[_RowT]:
    """Write rows to a text stream as they pass; yield them on.

    ``jsonl`` writes one line per row (:func:`row_json`); ``csv`` writes a flat table
    (:data:`CSV_COLUMNS`); the caller writes the header. Rows are written before they are
    yielded, so a consumer that stops (Ctrl-C) leaves only whole rows once the stream is flushed.

    Parameters
    ----------
    rows : iterable of dict or LabelledLine
        Rows from :func:`~icp_notify.batch.label` or :func:`~icp_notify.batch.label_lines`.
    out : text stream
        Where to write (an open file, ``sys.stdout``).
    fmt : {"jsonl", "csv"}
        Output format.
    binary : binary stream, optional
        ``out``'s buffer, when ``out`` is a write-through UTF-8 text stream without newline
        translation (``io.TextIOWrapper(buffer, "utf-8", newline="", write_through=True)``, as
        ``icp-notify batch`` opens its output): a JSONL row that carries its line as UTF-8
        (``raw``: the rows of worker processes) is written to it as it came, not decoded and
        encoded again; the other rows go through ``out``, in order.

    Yields
    ------
    dict or LabelledLine
        Each row, after it was written.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> rows = [{"seq": 2, "source": {"file": "a.txt", "line": 3},
    ...          "error": {"code": "empty", "message": "blank line"}}]
    >>> _ = list(write_rows(rows, out, "csv"))
    >>> out.getvalue()
    '2,a.txt,3,,,,,,,,,,,,,,,empty,blank line\\n'
    """
    if fmt == "jsonl":
        for row in rows:
            raw = None if binary is None else getattr(row, "raw", None)
            if raw is None:
                out.write(row_json(row) + "\n")
            else:
                binary.write(raw + b"\n")
            yield row
        return
    import csv

    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(csv_record(row.row() if isinstance(row, LabelledLine) else row))
        yield row


def csv_record(row: Row) -> list[Any]:
    """Flatten a row into the values of :data:`CSV_COLUMNS`.

    Parameters
    ----------
    row : dict
        A labelled row or an error row.

    Returns
    -------
    list
        One value per column of :data:`CSV_COLUMNS`.

    Examples
    --------
    >>> csv_record({"seq": 3, "source": {"file": "a.txt", "line": 4},
    ...             "error": {"code": "empty", "message": "blank"}})[:4] + csv_record(
    ...             {"seq": 3, "source": None, "error": {"code": "empty", "message": "blank"}})[-2:]
    [3, 'a.txt', 4, None, 'empty', 'blank']
    """
    source = row.get("source") or {}
    head = [
        row["seq"],
        source.get("file"),
        source.get("line"),
        source.get("index"),
        source.get("message_id"),
    ]
    if "error" in row:
        return [*head, *([None] * 12), row["error"]["code"], row["error"]["message"]]
    n, c, a = row["notice"], row["classification"], row["advice"]
    return [
        *head,
        n["channel"],
        n["sender"],
        n["received_at"],
        n["raw_text"],
        c["situation"],
        c["ambiguous"],
        "|".join(c["candidates"]),
        c["confidence"],
        c["kind"],
        a["urgency"],
        a["action"],
        a["summary"],
        None,
        None,
    ]


def last_seq(path: str | Path, fmt: Literal["jsonl", "csv"] = "jsonl") -> int | None:
    """The ``seq`` of the last complete row of an earlier output (what ``--resume`` continues after).

    For JSONL a torn last line (a run killed mid-write) is cut off the file. Returns ``None``
    when the file is missing or has no complete row.

    Parameters
    ----------
    path : str or Path
        The earlier output file.
    fmt : {"jsonl", "csv"}
        Its format.

    Returns
    -------
    int or None
        The last complete row's ``seq``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> _ = p.write_text('{"seq": 0}\\n{"seq": 4}\\n{"seq": 5, "no', encoding="utf-8")
    >>> last_seq(p), p.read_text(encoding="utf-8")
    (4, '{"seq": 0}\\n{"seq": 4}\\n')
    """
    if not os.path.exists(path):
        return None
    if fmt == "csv":
        import csv

        found: int | None = None
        with open(path, encoding="utf-8", newline="") as fh:
            for record in csv.reader(fh):
                if len(record) == len(CSV_COLUMNS) and record[0].isdigit():
                    found = int(record[0])
        return found
    with open(path, "r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        block = 1 << 16
        start = max(0, size - block)
        fh.seek(start)
        tail = fh.read()
        while start > 0 and tail.count(b"\n") < 2:
            start = max(0, start - block)
            fh.seek(start)
            tail = fh.read()
        if tail and not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n") + 1
            fh.truncate(start + cut)
            tail = tail[:cut]
        for line in reversed(tail.split(b"\n")):
            if not line.strip():
                continue
            try:
                return int(json.loads(line)["seq"])
            except (ValueError, KeyError, TypeError):
                return None
        return None
