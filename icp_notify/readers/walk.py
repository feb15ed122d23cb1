"""Pick the reader for each input: by file type, by content, or as forced.

:func:`read_inputs` is what ``icp-notify batch`` and :func:`icp_notify.batch.label` read
through: files, directories (walked in sorted order, so a run is repeatable and resumable),
Maildir folders, and ``input_format`` to force one reader.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.txt").write_text("您的备案信息已被变更\\n", encoding="utf-8")
>>> _ = (d / "b.jsonl").write_text('{"text": "备案已通过"}\\n', encoding="utf-8")
>>> _ = (d / "logo.png").write_bytes(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00")
>>> [getattr(i, "text", None) or i.code for i in read_inputs([d])]
['您的备案信息已被变更', '备案已通过', 'binary_file']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, get_args

from icp_notify.readers.common import ReadItem, Split, error, open_error

InputFormat = Literal["text", "jsonl", "csv", "eml", "mbox", "maildir", "sms-xml"]
"""The names accepted by ``input_format`` / ``--input-format``."""

INPUT_FORMATS: tuple[str, ...] = get_args(InputFormat)

_BY_SUFFIX: dict[str, InputFormat] = {
    ".txt": "text",
    ".text": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".eml": "eml",
    ".msg": "eml",
    ".mbox": "mbox",
    ".mbx": "mbox",
    ".xml": "sms-xml",
}
_BINARY_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"PK\x03\x04",
    b"%PDF",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x7fELF",
    b"SQLite format 3",
)
_MAIL_HEADERS = (
    b"received:",
    b"from:",
    b"return-path:",
    b"message-id:",
    b"date:",
    b"subject:",
    b"mime-version:",
    b"delivered-to:",
    b"to:",
)


def is_maildir(path: str | Path) -> bool:
    """Return whether ``path`` is a Maildir folder (has ``cur/`` and ``new/``).

    Parameters
    ----------
    path : str or Path
        A path that may or may not exist.

    Returns
    -------
    bool
    """
    return os.path.isdir(os.path.join(path, "cur")) and os.path.isdir(os.path.join(path, "new"))


def sniff_format(path: str | Path, head: bytes) -> InputFormat | None:
    """Guess a file's format from its name, then its first bytes; ``None`` for binary files.

    Parameters
    ----------
    path : str or Path
        The file's name (only its suffix is used).
    head : bytes
        The file's first bytes (a few KiB).

    Returns
    -------
    str or None
        One of ``text``, ``jsonl``, ``csv``, ``eml``, ``mbox``, ``sms-xml``; ``None`` for a
        binary file.

    Examples
    --------
    >>> sniff_format("x.dat", b"From a@example.com Mon Mar  3 10:00:00 2025\\n")
    'mbox'
    >>> sniff_format("x", b'<?xml version="1.0"?><smses count="1">')
    'sms-xml'
    >>> sniff_format("x.txt", b"\\x89PNG\\r\\n") is None
    True
    """
    if head.startswith(_BINARY_MAGIC) or (
        b"\x00" in head[:8192] and not head.startswith((b"\xff\xfe", b"\xfe\xff"))
    ):
        return None
    suffix = Path(path).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"From "):
        return "mbox"
    if start.startswith((b"<?xml", b"<smses")):
        return "sms-xml"
    if start.startswith(b"{"):
        return "jsonl"
    first = start.split(b"\n", 1)[0].lower()
    if first.startswith(_MAIL_HEADERS):
        return "eml"
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 4090:
            try:
                head[:4096].decode("gb18030")
            except UnicodeDecodeError as exc2:
                if exc2.start < 4090:
                    return None
    return "text"


def read_file(
    path: str | Path,
    *,
    input_format: InputFormat | None = None,
    text_field: str | None = None,
    split: Split = "line",
    include_sent: bool = False,
) -> Iterator[ReadItem]:
    """Read one file (or Maildir folder) with the reader for its format.

    Parameters
    ----------
    path : str or Path
        The input.
    input_format : str, optional
        Force a reader (one of :data:`INPUT_FORMATS`); detected from the name and content
        otherwise.
    text_field, split, include_sent
        Passed to the JSONL/CSV, text and SMS-XML readers.

    Yields
    ------
    RawMessage or ReadError
        The reader's items; ``empty`` for an empty file, ``binary_file`` for a file that is
        not text, ``not_found`` / ``unreadable`` when it cannot be opened.
    """
    from icp_notify.readers import csvfile, jsonl, mail, smsxml, text

    if input_format is not None and input_format not in INPUT_FORMATS:
        yield error("unsupported_format", f"unknown input format {input_format!r}", path)
        return
    if input_format == "maildir" or (
        input_format is None and os.path.isdir(path) and is_maildir(path)
    ):
        yield from mail.read_maildir(path)
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except IsADirectoryError:
        yield error("unsupported_format", "a directory where a file was expected", path)
        return
    except OSError as exc:
        yield open_error(path, exc)
        return
    if not head:
        yield error("empty", "the file is empty", path)
        return
    sniffed = sniff_format(path, head)
    fmt: InputFormat | None = None if sniffed is None else (input_format or sniffed)
    if fmt is None:
        yield error("binary_file", "not a text archive (binary content); skipped", path)
        return
    if fmt == "text":
        yield from text.read_text(path, split=split)
    elif fmt == "jsonl":
        yield from jsonl.read_jsonl(path, text_field=text_field)
    elif fmt == "csv":
        yield from csvfile.read_csv(path, text_field=text_field)
    elif fmt == "eml":
        yield from mail.read_eml(path)
    elif fmt == "mbox":
        yield from mail.read_mbox(path)
    else:
        yield from smsxml.read_sms_xml(path, include_sent=include_sent)


def iter_files(path: str | Path) -> Iterator[Path]:
    """Yield the inputs under ``path``: the file itself, or a directory walked in sorted order.

    Hidden files and folders (``.name``) are skipped; a Maildir folder is yielded whole.

    Parameters
    ----------
    path : str or Path
        A file, a directory or a Maildir folder.

    Yields
    ------
    Path
        Each input file (or Maildir folder).
    """
    root = Path(path)
    if not root.is_dir() or is_maildir(root):
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        maildirs = sorted(d for d in dirnames if not d.startswith(".") and is_maildir(here / d))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in maildirs)
        for name in sorted(filenames):
            if not name.startswith("."):
                yield here / name
        for d in maildirs:
            yield here / d


def read_inputs(
    paths: Iterable[str | Path],
    *,
    input_format: InputFormat | None = None,
    text_field: str | None = None,
    split: Split = "line",
    include_sent: bool = False,
) -> Iterator[ReadItem]:
    """Read every message of every input, in order; never stops on a bad file or record.

    Parameters
    ----------
    paths : iterable of str or Path
        Files, directories (walked recursively in sorted order) and Maildir folders.
    input_format : str, optional
        Force one reader for every file (see :data:`INPUT_FORMATS`).
    text_field : str, optional
        JSONL/CSV field with the text.
    split : {"line", "blank"}
        How plain-text files are cut into notices.
    include_sent : bool
        Also read sent messages from SMS backups.

    Yields
    ------
    RawMessage or ReadError
        Messages and per-record errors, input after input.
    """
    for path in paths:
        if not os.path.exists(path):
            yield error("not_found", f"no such file or directory: {path}", path)
            continue
        for file in iter_files(path):
            yield from read_file(
                file,
                input_format=input_format,
                text_field=text_field,
                split=split,
                include_sent=include_sent,
            )
