"""Mail archives — single ``.eml`` files, mbox files and Maildir folders.

Each message is decoded by :func:`icp_notify.readers.email.read_email` (which widens
``gb2312`` to GB18030, reads HTML-only mail and RFC 2047 subjects); this module only finds
the messages. mbox bodies have their ``>From `` escaping undone (mboxrd: one ``>`` is
removed from every body line matching ``>+From ``), which Python's :mod:`mailbox` does not do.

Examples
--------
>>> unescape_mbox_body(b"Subject: x\\n\\n>From the provider\\n>>From quoted\\n")
b'Subject: x\\n\\nFrom the provider\\n>From quoted\\n'
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from icp_notify.errors import IcpNotifyError
from icp_notify.models import RawMessage, SourceRef
from icp_notify.readers.common import ReadItem, error, guard, open_error, source_ref

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
"""A single mail larger than this is refused as ``too_large``."""


def unescape_mbox_body(data: bytes) -> bytes:
    """Undo mboxrd ``>From `` quoting in the body of one message (headers untouched).

    Parameters
    ----------
    data : bytes
        One message, headers and body.

    Returns
    -------
    bytes
        ``data`` with one ``>`` removed from each quoted ``From`` line of the body.

    Examples
    --------
    >>> unescape_mbox_body(b"A: b\\r\\n\\r\\n>From here\\r\\n")
    b'A: b\\r\\n\\r\\nFrom here\\r\\n'
    """
    lf = data.find(b"\n\n")
    crlf = data.find(b"\r\n\r\n")
    ends = [i for i in ((lf, 2), (crlf, 4)) if i[0] >= 0]
    if not ends:
        return data
    at, width = min(ends)
    head, body = data[: at + width], data[at + width :]
    if b">From " not in body:
        return data
    lines = body.split(b"\n")
    for i, line in enumerate(lines):
        stripped = line.lstrip(b">")
        if line.startswith(b">") and stripped.startswith(b"From "):
            lines[i] = line[1:]
    return head + b"\n".join(lines)


def _decode(data: bytes, source: SourceRef, position: str) -> ReadItem:
    from icp_notify.readers.email import read_email

    if len(data) > MAX_MESSAGE_BYTES:
        return error(
            "too_large",
            f"message larger than {MAX_MESSAGE_BYTES} bytes",
            source.file,
            position=position,
            **source.model_dump(exclude={"file"}, exclude_none=True),
        )
    try:
        message: RawMessage = read_email(data, source=source)
        return message
    except IcpNotifyError as exc:
        code = getattr(exc, "code", "not_a_message")
        reason = getattr(exc, "message", str(exc))
        return error(
            str(code),
            str(reason),
            source.file,
            position=position,
            **source.model_dump(exclude={"file"}, exclude_none=True),
        )
    except (
        ValueError,
        LookupError,
        UnicodeError,
    ) as exc:  # defensive: a reader bug must not stop a batch
        return error(
            "not_a_message",
            f"cannot read the message: {exc}",
            source.file,
            position=position,
            **source.model_dump(exclude={"file"}, exclude_none=True),
        )


def read_eml(path: str | Path) -> Iterator[ReadItem]:
    """Read one ``.eml`` file (RFC 822 message).

    Parameters
    ----------
    path : str or Path
        The file.

    Yields
    ------
    RawMessage or ReadError
        The message (channel ``email``), or a ``ReadError`` (``too_large``, ``not_found``,
        ``unreadable``, or the reader's code).
    """
    try:
        size = os.stat(path).st_size
        if size > MAX_MESSAGE_BYTES:
            yield error(
                "too_large", f"message larger than {MAX_MESSAGE_BYTES} bytes", path, index=0
            )
            return
        data = Path(path).read_bytes()
    except OSError as exc:
        yield open_error(path, exc)
        return
    yield _decode(data, source_ref(path, index=0), "message 1")


def read_mbox(path: str | Path) -> Iterator[ReadItem]:
    """Read every message of an mbox file, in file order, undoing ``>From `` escaping.

    Yields
    ------
    RawMessage or ReadError
        A message per mail (``source.offset`` is its byte offset, ``index`` its position); a
        ``ReadError`` per mail that cannot be read, and ``no_messages`` for a file with no
        ``From `` separator line.

    Parameters
    ----------
    path : str or Path
        The mbox file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "inbox.mbox"
    >>> _ = p.write_bytes(b"From a@example.com Mon Mar  3 10:00:00 2025\\nFrom: a@example.com\\n\\n"
    ...     b">From now on\\n\\nFrom b@example.com Mon Mar  3 11:00:00 2025\\n"
    ...     b"From: b@example.com\\n\\nsecond\\n")
    >>> [(m.source.index, m.text) for m in read_mbox(p)]
    [(0, 'From now on'), (1, 'second')]
    >>> [e.code for e in read_mbox(p.with_name("missing.mbox"))]
    ['not_found']
    """
    yield from guard(path, _read_mbox(path))


def _read_mbox(path: str | Path) -> Iterator[ReadItem]:
    import mailbox

    os.stat(path)  # a missing file is an error, not an empty mailbox
    box = mailbox.mbox(path, factory=None, create=False)
    try:
        box.lock = lambda: None  # type: ignore[method-assign]  # read-only: never lock or write
        keys = box.keys()  # scans the file once for "From " lines; keeps only offsets
        if not keys:
            yield error("no_messages", "no 'From ' separator line: not an mbox file", path)
            return
        toc = getattr(box, "_toc", {})
        for index, key in enumerate(keys):
            start = toc.get(key, (None,))[0]
            source = source_ref(path, index=index, offset=start)
            try:
                data = box.get_bytes(key)
            except (KeyError, OSError) as exc:
                yield error(
                    "unreadable", f"cannot read message {index + 1}: {exc}", path, index=index
                )
                continue
            yield _decode(unescape_mbox_body(data), source, f"message {index + 1}")
    finally:
        box.close()


def read_maildir(path: str | Path) -> Iterator[ReadItem]:
    """Read every message of a Maildir folder (``cur`` and ``new``), sorted by file name.

    Yields
    ------
    RawMessage or ReadError
        A message per mail (``source.message_id`` is the Maildir key); a ``ReadError`` for a
        mail that vanished or cannot be read.

    Parameters
    ----------
    path : str or Path
        The Maildir folder (the one with ``cur/`` and ``new/``).

    Examples
    --------
    >>> import mailbox, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "Mail"
    >>> _ = mailbox.Maildir(folder, create=True).add(b"From: c@example.com\\n\\nbody here\\n")
    >>> [(m.sender, m.text) for m in read_maildir(folder)]
    [('c@example.com', 'body here')]
    """
    yield from guard(path, _read_maildir(path))


def _read_maildir(path: str | Path) -> Iterator[ReadItem]:
    import mailbox

    if not os.path.isdir(os.path.join(path, "cur")) and not os.path.isdir(
        os.path.join(path, "new")
    ):
        yield error("not_a_maildir", "no cur/ or new/ folder: not a Maildir", path)
        return
    box = mailbox.Maildir(path, factory=None, create=False)
    for index, key in enumerate(sorted(box.keys())):
        try:
            file = os.path.join(path, box._lookup(key))  # type: ignore[attr-defined]
            data = box.get_bytes(key)
        except (KeyError, OSError) as exc:
            yield error(
                "unreadable", f"message {key} vanished or cannot be read: {exc}", path, index=index
            )
            continue
        yield _decode(data, source_ref(file, index=index, message_id=key), f"message {index + 1}")
