"""CSV archives (phone exports, spreadsheets) with a header row.

The encoding is sniffed over the whole file: a BOM, else UTF-8, else GB18030 (what Excel
writes on Chinese Windows). The delimiter is a comma, or a tab for ``.tsv`` files and files
whose header has more tabs than commas.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "sms.csv"
>>> _ = p.write_bytes("address,body,date\\n10690000123,备案已通过,1741050720000\\n".encode("gb18030"))
>>> [(m.sender, m.text) for m in read_csv(p)]
[('10690000123', '备案已通过')]
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from icp_notify.readers.common import (
    ReadItem,
    error,
    guard,
    message_from_record,
    open_error,
    sniff_file_encoding,
)

_MAX_CONSECUTIVE_ERRORS = 1000


def read_csv(path: str | Path, *, text_field: str | None = None) -> Iterator[ReadItem]:
    """Read notices from a CSV (or TSV) file with a header row.

    Parameters
    ----------
    path : str or Path
        The file: UTF-8 with or without BOM, or GB18030/GBK.
    text_field : str, optional
        The column holding the notice text (default: ``text``, ``body``, ``content``…).
        Optional columns: ``id``, ``channel``, ``sender``/``from``/``address``,
        ``received_at``/``date`` (ISO or epoch s/ms), ``subject``, ``context`` (JSON).

    Yields
    ------
    RawMessage or ReadError
        A message per data row; a ``ReadError`` for a row with the wrong number of columns
        (``bad_row``), undecodable bytes (``undecodable``), a CSV syntax error
        (``csv_error``), no text (``missing_text``) or a bad field (``invalid_field``). A
        header without a text column gives one ``missing_text`` error for the file.
    """
    try:
        encoding = sniff_file_encoding(path)
    except OSError as exc:
        yield open_error(path, exc)
        return
    yield from guard(path, _read(path, encoding, text_field))


def _read(path: str | Path, encoding: str, text_field: str | None) -> Iterator[ReadItem]:
    csv.field_size_limit(min(sys.maxsize, 1 << 24))
    with open(path, encoding=encoding, errors="surrogateescape", newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        delimiter = (
            "\t"
            if str(path).lower().endswith(".tsv") or first.count("\t") > first.count(",")
            else ","
        )
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            yield error(
                "csv_error", f"cannot read the header: {exc}", path, position="line 1", line=1
            )
            return
        if header is None:
            yield error("empty", "the file has no header row", path)
            return
        header = [h.strip().lstrip("\ufeff") for h in header]
        names = (text_field,) if text_field else ("text", "body", "content", "message", "msg")
        if not any(n in header for n in names):
            yield error(
                "missing_text",
                f"no text column ({' / '.join(names)}) in the header {header}",
                path,
                position="line 1",
                line=1,
            )
            return
        index = 0
        failures = 0
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                failures += 1
                yield error(
                    "csv_error", str(exc), path, position=f"line {line}", line=line, index=index
                )
                index += 1
                if failures > _MAX_CONSECUTIVE_ERRORS:
                    return
                continue
            failures = 0
            if not row or all(not cell.strip() for cell in row):
                continue
            where = {"line": line, "index": index}
            position = f"line {line}"
            index += 1
            if len(row) != len(header):
                yield error(
                    "bad_row",
                    f"{len(row)} columns where the header has {len(header)}",
                    path,
                    position=position,
                    **where,
                )
                continue
            if any(_has_surrogates(cell) for cell in row):
                yield error(
                    "undecodable",
                    "the row has bytes that are neither UTF-8 nor GB18030",
                    path,
                    position=position,
                    **where,
                )
                continue
            yield message_from_record(
                dict(zip(header, row, strict=True)),
                path=path,
                text_field=text_field,
                where=where,
                position=position,
            )


def _has_surrogates(cell: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in cell)
