"""Helpers shared by the archive readers: the item type, encodings, times and error rows.

Every reader in :mod:`icp_notify.readers` is a generator of :data:`ReadItem` — a
:class:`~icp_notify.models.RawMessage` or a :class:`~icp_notify.models.ReadError` — and never
raises in the middle of a stream: a record it cannot read becomes a ``ReadError`` and the
stream goes on.

Examples
--------
>>> decode_text("备案".encode("gb18030"))
('备案', 'gb18030')
>>> parse_time("1700000000000").isoformat()
'2023-11-15T06:13:20+08:00'
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeAlias

from icp_notify.boundary import coerce_time
from icp_notify.errors import InputError
from icp_notify.models import Channel, RawMessage, ReadError, SourceRef, construct_trusted

ReadItem: TypeAlias = RawMessage | ReadError
"""What a reader yields: a message, or a structured error about one record."""

Split = Literal["line", "blank"]
"""How a plain-text file is cut into notices: one per line, or blank-line separated."""

TEXT_FIELDS: tuple[str, ...] = ("text", "body", "content", "message", "msg")
"""Field names tried, in order, for a notice's text when none is configured."""

SENDER_FIELDS: tuple[str, ...] = ("sender", "from", "address", "phone", "phoneNumber")
TIME_FIELDS: tuple[str, ...] = ("received_at", "date", "time", "timestamp", "receivedAt")
MAX_RECORD_CHARS = 1_000_000
"""A record longer than this is refused as ``too_large`` rather than parsed."""

_SNIFF_BYTES = 1 << 16


def source_ref(path: str | Path | None, **where: Any) -> SourceRef:
    """Build a :class:`SourceRef` for ``path`` (``None`` for in-memory input).

    Parameters
    ----------
    path : str, Path or None
        The file the item came from.
    **where
        Further :class:`SourceRef` fields (``line``, ``index``, ``message_id``, …).

    Returns
    -------
    SourceRef

    Examples
    --------
    >>> source_ref("a.txt", line=2, index=1).model_dump(exclude_none=True)
    {'file': 'a.txt', 'line': 2, 'index': 1}
    """
    return SourceRef(file=None if path is None else str(path), **where)


def error(
    code: str,
    message: str,
    path: str | Path | None = None,
    *,
    position: str | None = None,
    **where: Any,
) -> ReadError:
    """Build a :class:`ReadError` for ``path``.

    Parameters
    ----------
    code : str
        Machine-readable error code (``empty``, ``bad_row``, ``missing_text``, …).
    message : str
        What went wrong, for people.
    path : str, Path or None, optional
        The file the error is about.
    position : str, optional
        Where in the file, for people (``"line 2"``).
    **where
        Further :class:`SourceRef` fields (``line``, ``index``, …).

    Returns
    -------
    ReadError

    Examples
    --------
    >>> error("empty", "the file is empty", "a.csv").model_dump(exclude_none=True)
    {'code': 'empty', 'message': 'the file is empty', 'source': {'file': 'a.csv'}}
    """
    return ReadError(
        code=code, message=message, source=source_ref(path, **where), position=position
    )


def open_error(path: str | Path, exc: OSError) -> ReadError:
    """Turn an ``OSError`` raised while opening or reading ``path`` into a ``ReadError``.

    The code is ``not_found`` for a missing file and ``unreadable`` otherwise.

    Parameters
    ----------
    path : str or Path
        The file that could not be read.
    exc : OSError
        The exception raised.

    Returns
    -------
    ReadError

    Examples
    --------
    >>> open_error("gone.txt", FileNotFoundError(2, "No such file or directory")).code
    'not_found'
    """
    code = "not_found" if isinstance(exc, FileNotFoundError) else "unreadable"
    reason = exc.strerror or str(exc)
    return error(code, f"cannot read {path}: {reason}", path)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes from an archive: BOM first, then strict UTF-8, then GB18030.

    GB18030 is a superset of GBK and GB2312, so a file saved by Excel on Chinese Windows
    decodes correctly. Bytes that are neither raise ``UnicodeDecodeError``.

    Parameters
    ----------
    data : bytes
        The whole content.

    Returns
    -------
    tuple of (str, str)
        The text and the encoding used.

    Examples
    --------
    >>> decode_text(b"\\xef\\xbb\\xbfok")
    ('ok', 'utf-8-sig')
    >>> decode_text("您的备案信息已被变更".encode())[1]
    'utf-8'
    """
    encoding = sniff_encoding(data)
    return data.decode(encoding), encoding


def sniff_encoding(head: bytes, *, final: bool = True) -> str:
    """Choose an encoding for ``head`` (the start of a file, or all of it).

    ``final=False`` says ``head`` may stop in the middle of a character.

    Parameters
    ----------
    head : bytes
        The bytes to look at.
    final : bool, default True
        Whether ``head`` is the whole content.

    Returns
    -------
    str
        ``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030``; ``utf-8`` when nothing fits, so
        the bad bytes are reported where they are.

    Examples
    --------
    >>> sniff_encoding("号码".encode("gb18030"))
    'gb18030'
    >>> sniff_encoding("号码".encode()[:-1], final=False)
    'utf-8'
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final)
    except UnicodeDecodeError:
        return "utf-8"  # neither: read as UTF-8 so the bad bytes are reported where they are
    return "gb18030"


def sniff_file_encoding(path: str | Path) -> str:
    """Choose the encoding of a whole file, scanning it in chunks (constant memory).

    UTF-8 (or a BOM) wins if every byte of the file is valid UTF-8; otherwise GB18030 if that
    decodes it; otherwise UTF-8, so readers report the undecodable records.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        ``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030``.

    Raises
    ------
    OSError
        When the file cannot be read.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        for candidate in ("utf-8", "gb18030"):
            fh.seek(0)
            decoder = codecs.getincrementaldecoder(candidate)()
            try:
                while chunk := fh.read(_SNIFF_BYTES):
                    decoder.decode(chunk)
                decoder.decode(b"", True)
            except UnicodeDecodeError:
                continue
            return candidate
    return "utf-8"


def parse_time(value: Any) -> dt.datetime | None:
    """Read a time from an archive field: ISO 8601, or epoch seconds / milliseconds.

    Empty values (``""``, ``"null"``, ``None``) give ``None``; anything else is read by
    :func:`icp_notify.boundary.coerce_time` (naive times are China Standard Time; epoch numbers
    above 10^11 are milliseconds).

    Parameters
    ----------
    value : str, int, float or None
        The field's value.

    Returns
    -------
    datetime or None
        An aware datetime, or ``None`` for an empty value.

    Raises
    ------
    InputError
        ``invalid_field`` (a ``ValueError``) when ``value`` is not a time in the supported
        range; readers turn it into an error row.

    Examples
    --------
    >>> parse_time("2025-03-04 09:12:00").isoformat()
    '2025-03-04T09:12:00+08:00'
    >>> parse_time(1741050720).isoformat()
    '2025-03-04T09:12:00+08:00'
    >>> parse_time("") is None
    True
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null")):
        return None
    when: dt.datetime = coerce_time(value, field="received_at", epoch="auto")
    return when


def first_field(record: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    """Return the first non-empty value among ``names`` in ``record`` (or ``None``).

    Parameters
    ----------
    record : Mapping
        A JSONL object or CSV row.
    names : tuple of str
        Field names, in order of preference.

    Returns
    -------
    object or None

    Examples
    --------
    >>> first_field({"body": "", "content": "x"}, ("text", "body", "content"))
    'x'
    """
    for name in names:
        value = record.get(name)
        if value is not None and value != "":
            return value
    return None


def message_from_record(
    record: Mapping[str, Any],
    *,
    path: str | Path | None,
    text_field: str | None,
    where: dict[str, Any],
    position: str,
    default_channel: Channel = Channel.UNKNOWN,
) -> ReadItem:
    """Build a message from one JSONL object or CSV row, or a ``ReadError`` saying why not.

    Recognised fields: the text (``text_field``, or the first of :data:`TEXT_FIELDS`), ``id``,
    ``channel``, ``sender`` (or ``from``/``address``), ``received_at`` (or ``date``, ISO or
    epoch), ``subject`` and ``context`` (an object, or JSON text in a CSV cell).

    Parameters
    ----------
    record : Mapping
        One JSONL object or CSV row.
    path : str, Path or None
        The file it came from.
    text_field : str or None
        The field with the text; ``None`` tries :data:`TEXT_FIELDS`.
    where : dict
        :class:`SourceRef` fields locating the record (``line``, ``index``).
    position : str
        Where the record is, for people (``"line 2"``).
    default_channel : Channel
        The channel when the record has none.

    Returns
    -------
    RawMessage or ReadError

    Examples
    --------
    >>> m = message_from_record({"body": "备案已通过", "address": "10690000123", "date": "1741050720000"},
    ...     path="a.csv", text_field=None, where={"line": 2}, position="line 2")
    >>> m.text, m.sender, m.received_at.isoformat()
    ('备案已通过', '10690000123', '2025-03-04T09:12:00+08:00')
    >>> message_from_record({"x": 1}, path="a.csv", text_field=None, where={}, position="line 2").code
    'missing_text'
    """
    import json

    names = (text_field,) if text_field else TEXT_FIELDS
    text = first_field(record, names)
    if text is None or (isinstance(text, str) and not text.strip()):
        wanted = " / ".join(names)
        return error("missing_text", f"no text in field {wanted}", path, position=position, **where)
    if not isinstance(text, str):
        return error(
            "invalid_field", "the text field is not a string", path, position=position, **where
        )
    if len(text) > MAX_RECORD_CHARS:
        return error(
            "too_large",
            f"text longer than {MAX_RECORD_CHARS} characters",
            path,
            position=position,
            **where,
        )
    fields: dict[str, Any] = {"text": text, "channel": default_channel}
    try:
        record_id = record.get("id")
        if record_id not in (None, ""):
            where = {**where, "message_id": str(record_id)}
        channel = record.get("channel")
        if channel not in (None, ""):
            fields["channel"] = Channel(str(channel).strip().lower())
        sender = first_field(record, SENDER_FIELDS)
        if sender is not None:
            fields["sender"] = str(sender)
        fields["received_at"] = parse_time(first_field(record, TIME_FIELDS))
        subject = record.get("subject")
        if subject not in (None, "", "null"):
            fields["subject"] = str(subject)
        context = record.get("context")
        if isinstance(context, str) and context.strip():
            context = json.loads(context)
        if context not in (None, ""):
            fields["context"] = context
        elif _trusted(fields, where):
            return _unvalidated_message(fields, path, where)
        return RawMessage(**fields, source=source_ref(path, **where))
    except InputError as exc:
        return error(exc.code, f"{exc.where}: {exc.message}", path, position=position, **where)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return error("invalid_field", reason, path, position=position, **where)


_WHERE_MINIMUM = {"line": 1, "offset": 0, "index": 0}


def _trusted(fields: dict[str, Any], where: dict[str, Any]) -> bool:
    """Whether validation would return :func:`message_from_record`'s values unchanged: the
    channel a :class:`Channel` and the source's numbers ``int`` at or above their fields' minimum
    (a ``str`` message id); the text, sender, subject and time it builds always are."""
    if type(fields["channel"]) is not Channel:
        return False
    for name, value in where.items():
        if name == "message_id":
            if type(value) is not str:
                return False
        elif type(value) is not int or value < _WHERE_MINIMUM.get(name, value + 1):
            return False
    return True


def _unvalidated_message(
    fields: dict[str, Any], path: str | Path | None, where: dict[str, Any]
) -> RawMessage:
    """``RawMessage(**fields, source=source_ref(path, **where))`` without validating again, for
    values :func:`_trusted` accepts (no context)."""
    at = where.get
    source = construct_trusted(
        SourceRef,
        {
            "file": None if path is None else str(path),
            "line": at("line"),
            "offset": at("offset"),
            "index": at("index"),
            "message_id": at("message_id"),
        },
        ("file", *where),
    )
    get = fields.get
    return construct_trusted(
        RawMessage,
        {
            "text": fields["text"],
            "channel": fields["channel"],
            "sender": get("sender"),
            "received_at": fields["received_at"],
            "subject": get("subject"),
            "source": source,
            "context": None,
            "defects": (),
        },
        (*fields, "source"),
    )


def guard(path: str | Path, items: Iterator[ReadItem]) -> Iterator[ReadItem]:
    """Pass ``items`` through, turning an ``OSError`` raised mid-file into a final ``ReadError``.

    Parameters
    ----------
    path : str or Path
        The file being read, for the error.
    items : iterator
        A reader's output.

    Yields
    ------
    RawMessage or ReadError

    Examples
    --------
    >>> def broken():
    ...     yield error("x", "first", "f")
    ...     raise FileNotFoundError(2, "No such file or directory")
    >>> [e.code for e in guard("f", broken())]
    ['x', 'not_found']
    """
    try:
        yield from items
    except OSError as exc:
        yield open_error(path, exc)
