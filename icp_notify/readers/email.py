"""Read one RFC 822 e-mail (an ``.eml`` file) into a :class:`~icp_notify.models.RawMessage`.

Chinese mail is often labelled ``gb2312`` while the bytes are GBK/GB18030 (镕, 喆 and 堃 are
not in GB2312), and Python's :mod:`email` package then silently inserts U+FFFD. This reader
decodes every payload and encoded word itself, widening gb2312/gbk/cp936 to gb18030, and
records any byte run it still cannot decode as a defect.

Examples
--------
>>> raw = (b"From: =?utf-8?b?6Zi/6YeM5LqR?= <noreply@notice.aliyun.com>\\r\\n"
...        b"Subject: =?gb2312?b?sbiwuM2ouf0=?=\\r\\n"
...        b"Date: Sat, 01 Mar 2025 10:00:00 +0800\\r\\n"
...        b"Content-Type: text/plain; charset=utf-8\\r\\n\\r\\n"
...        b"example.cn ICP\\r\\n")
>>> m = read_email(raw)
>>> m.sender, m.subject, m.text, m.received_at.isoformat()
('noreply@notice.aliyun.com', '备案通过', 'example.cn ICP', '2025-03-01T10:00:00+08:00')
"""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.header
import email.utils
from email import policy
from email.message import Message

from icp_notify import decoding
from icp_notify.decoding import least_damaged, record_escaped
from icp_notify.errors import InputError
from icp_notify.models import Channel, Defect, RawMessage, SourceRef, in_datetime_range

__all__ = ["WIDEN", "decode_header_value", "decode_payload", "read_email"]

WIDEN: dict[str, str] = {
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gb2312-80": "gb18030",
    "euc-cn": "gb18030",
    "euccn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}
"""Charset labels read as a wider charset (every GB label as GB18030, ASCII as UTF-8)."""

_HEADER_KEYS = frozenset(
    {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "received",
        "return-path",
        "cc",
        "reply-to",
        "sender",
    }
)


def _charset(label: str | None) -> str:
    label = (label or "").strip().strip('"').lower()
    return WIDEN.get(label, label or "utf-8")


def decode_payload(data: bytes, label: str | None) -> tuple[str, list[Defect]]:
    """Decode body bytes with the widened charset label, then UTF-8, then GB18030.

    An undecodable byte run becomes one U+FFFD and one ``undecodable_bytes`` defect.

    Parameters
    ----------
    data : bytes
        The (transfer-decoded) body.
    label : str or None
        The declared charset (``gb2312`` is read as GB18030, …).

    Returns
    -------
    tuple of (str, list of Defect)
        The text and what was repaired.

    Examples
    --------
    >>> decode_payload("朱镕基".encode("gbk"), "gb2312")
    ('朱镕基', [])
    """
    tried: list[str] = []
    for encoding in (_charset(label), "utf-8", "gb18030"):
        if encoding in tried:
            continue
        tried.append(encoding)
        try:
            return data.decode(encoding), []
        except (UnicodeDecodeError, LookupError):
            continue
    _, encoding, text = least_damaged(data, tried)  # utf-8 is always among them
    return record_escaped(text, encoding)


def decode_header_value(value: str) -> tuple[str, list[Defect]]:
    """Decode a raw header value: RFC 2047 encoded words (widened charsets) and raw 8-bit bytes.

    Parameters
    ----------
    value : str
        The header value as read (raw bytes kept as surrogate escapes).

    Returns
    -------
    tuple of (str, list of Defect)
        The decoded value with whitespace collapsed, and what was repaired.

    Examples
    --------
    >>> decode_header_value("=?gb2312?B?1uzpRrv5?= ok")[0]
    '朱镕基 ok'
    """
    defects: list[Defect] = []
    try:
        pieces = email.header.decode_header(value)
    except (ValueError, AssertionError, LookupError, email.errors.HeaderParseError) as exc:
        pieces = [(value, None)]  # read as written
        if isinstance(exc, email.errors.HeaderParseError):  # a corrupt encoded word
            defects.append(
                Defect(
                    code="bad_header_encoding",
                    message=f"an encoded word could not be decoded ({exc}); kept as written",
                )
            )
    out: list[str] = []
    for chunk, label in pieces:
        if isinstance(chunk, str):
            raw = chunk.encode("utf-8", errors="surrogateescape")
            text, more = decode_payload(raw, None)
        else:
            text, more = decode_payload(chunk, label)
        out.append(text)
        defects.extend(more)
    # decode_header drops the whitespace between an encoded word and plain text inconsistently
    joined = "".join(out) if len(pieces) > 1 and all(p[1] for p in pieces) else _join(pieces, out)
    return " ".join(joined.split()), defects


def _join(pieces: list[tuple[bytes | str, str | None]], texts: list[str]) -> str:
    result = ""
    for text in texts:
        if result and not result.endswith(" ") and not text.startswith(" "):
            result += " "
        result += text
    return result


def _raw_header(msg: Message, name: str) -> str | None:
    for key, value in msg.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or bool(part.get_param("name", header="content-type"))


def _bodies(msg: Message) -> tuple[list[tuple[str, bytes, str | None]], list[Defect]]:
    """Return (subtype, payload bytes, charset label) of every inline text part."""
    found: list[tuple[str, bytes, str | None]] = []
    defects: list[Defect] = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text" or _is_attachment(part):
            continue
        try:
            payload = part.get_payload(decode=True)
        except Exception as exc:  # a broken transfer encoding
            defects.append(
                Defect(
                    code="bad_transfer_encoding", message=f"a body part could not be decoded: {exc}"
                )
            )
            continue
        if not isinstance(payload, bytes):
            continue
        label = part.get_param("charset", header="content-type")
        found.append(
            (part.get_content_subtype(), payload, label if isinstance(label, str) else None)
        )
    return found, defects


def read_email(
    data: bytes, *, source: SourceRef | None = None, max_bytes: int | None = None
) -> RawMessage:
    """Read one RFC 822 message.

    Parameters
    ----------
    data : bytes
        The message as a mail server stores it (headers, blank line, body).
    source : SourceRef, optional
        Where it came from; its ``message_id`` is filled from the ``Message-ID`` header.
    max_bytes : int, optional
        The size cap; :data:`icp_notify.decoding.MAX_EMAIL_BYTES` when omitted
        (:func:`icp_notify.parse.parse` passes its own ``parse.MAX_EMAIL_BYTES``).

    Returns
    -------
    RawMessage
        ``channel=email``; ``text`` is the plain-text body (an HTML-only body is converted to
        text), ``subject`` the decoded subject, ``sender`` the ``From:`` address,
        ``received_at`` the ``Date:``; ``defects`` lists what was repaired.

    Raises
    ------
    InputError
        ``not_a_message`` when ``data`` has no mail headers; ``too_large`` beyond ``max_bytes``.

    Examples
    --------
    A GBK body with a UTF-8 encoded-word subject:

    >>> data = (b"From: Cloud <NoReply@cloud.example.cn>\\n"
    ...         b"Subject: =?utf-8?B?5aSH5qGI5Y+Y5pu06YCa55+l?=\\n"
    ...         b"Date: Tue, 04 Mar 2025 09:12:00 +0800\\n"
    ...         b"Content-Type: text/plain; charset=gbk\\n\\n"
    ...         + "尊敬的用户，您的网站 example.com 接入备案已通过。".encode("gbk"))
    >>> m = read_email(data)
    >>> m.channel.value, m.sender, m.subject, m.received_at.isoformat()
    ('email', 'noreply@cloud.example.cn', '备案变更通知', '2025-03-04T09:12:00+08:00')
    >>> m.text
    '尊敬的用户，您的网站 example.com 接入备案已通过。'
    >>> read_email(b"just some text")
    Traceback (most recent call last):
    ...
    icp_notify.errors.InputError: ...
    """
    from icp_notify.normalize import html_to_text

    limit = decoding.MAX_EMAIL_BYTES if max_bytes is None else max_bytes
    if not isinstance(data, bytes | bytearray):
        raise InputError("not_a_message", f"read_email needs bytes, not {type(data).__name__}")
    if len(data) > limit:
        raise InputError(
            "too_large", f"{len(data)} bytes is more than the {limit} byte e-mail limit"
        )
    try:
        msg = email.message_from_bytes(bytes(data), policy=policy.compat32)
    except Exception as exc:  # the email package is lenient; this is for pathological input
        raise InputError("not_a_message", f"cannot read as an e-mail: {exc}") from None
    keys = {k.lower() for k in msg}
    if not keys & _HEADER_KEYS:
        raise InputError(
            "not_a_message",
            "no e-mail headers (From:, Subject:, Date:, Content-Type: …) found",
            hint="pass an RFC 822 message (.eml), or parse the text with icp_notify.parse",
        )
    defects: list[Defect] = []

    subject = None
    if (raw_subject := _raw_header(msg, "subject")) is not None:
        subject, more = decode_header_value(raw_subject)
        defects.extend(more)

    sender = None
    if (raw_from := _raw_header(msg, "from")) is not None:
        decoded_from, _ = decode_header_value(raw_from)
        _, address = email.utils.parseaddr(decoded_from)
        sender = (address or decoded_from).strip().lower() or None

    received_at: dt.datetime | None = None
    if (raw_date := _raw_header(msg, "date")) is not None:
        try:
            received_at = email.utils.parsedate_to_datetime(" ".join(raw_date.split()))
            if received_at.tzinfo is None:  # "-0000": UTC, the sender's local zone unknown
                received_at = received_at.replace(tzinfo=dt.UTC)
            if not in_datetime_range(received_at):
                received_at = None
                raise ValueError("out of range")
        except (TypeError, ValueError, IndexError, OverflowError):
            defects.append(
                Defect(
                    code="bad_date", message=f"unreadable Date: header {raw_date.strip()[:60]!r}"
                )
            )

    message_id = _raw_header(msg, "message-id")
    if message_id is not None:
        message_id = message_id.strip().strip("<>").strip() or None

    bodies, more = _bodies(msg)
    defects.extend(more)
    plain = [b for b in bodies if b[0] == "plain"]
    html = [b for b in bodies if b[0] == "html"]
    texts: list[str] = []
    for _, payload, label in plain:
        text, more = decode_payload(payload, label)
        defects.extend(more)
        texts.append(text)
    text = "\n\n".join(t.replace("\r\n", "\n").strip() for t in texts if t.strip())
    if len("".join(text.split())) < 20 and html:
        html_texts = []
        for _, payload, label in html:
            decoded, more = decode_payload(payload, label)
            defects.extend(more)
            html_texts.append(html_to_text(decoded))
        html_text = "\n\n".join(t for t in html_texts if t)
        if len(html_text) > len(text.strip()):
            text = html_text
            defects.append(
                Defect(
                    code="html_converted",
                    message="the e-mail body was HTML; converted to plain text",
                )
            )
    if not text.strip() and not (subject or "").strip():
        raise InputError("empty", "the e-mail has neither a text body nor a subject")

    ref = (
        source.model_copy(update={"message_id": message_id})
        if source is not None
        else SourceRef(message_id=message_id)
    )
    return RawMessage(
        text=text,
        channel=Channel.EMAIL,
        sender=sender,
        received_at=received_at,
        subject=subject,
        source=ref if (source is not None or message_id) else None,
        defects=tuple(defects),
    )
