"""Turn a raw SMS, e-mail or forwarded copy into a typed :class:`~icp_notify.models.Notice`.

:func:`parse` accepts text, bytes (BOM sniffing, then UTF-8, then GB18030; an undecodable byte
run is replaced by U+FFFD *and recorded* as a defect) and :class:`~icp_notify.models.RawMessage`.
Bytes that form an RFC 822 message go through :func:`icp_notify.readers.email.read_email`.

Examples
--------
>>> n = parse("【工信部】尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。")
>>> n.sender_type.value, n.signature, n.recipient.name, n.recipient.masked
('miit', '工信部', '张**', True)
>>> n.text
'尊敬的用户张**,您的备案信息已被变更,详情请咨询您的接入服务提供商。'
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import types
from typing import Any

import regex

from icp_notify.boundary import coerce_time
from icp_notify.decoding import MAX_EMAIL_BYTES, decode_bytes
from icp_notify.entities import extract, extract_recipient, extract_urls
from icp_notify.errors import InputError
from icp_notify.lazyre import lazy_pattern
from icp_notify.models import (
    Channel,
    Defect,
    Entities,
    ForwardInfo,
    Notice,
    RawMessage,
    Recipient,
    SenderType,
    construct_trusted,
    in_datetime_range,
)
from icp_notify.normalize import (
    decode_quoted_printable,
    looks_like_html,
    normalize,
    strip_subject_prefixes,
)
from icp_notify.providers import (
    provider_for_alias,
    provider_for_sender,
    provider_in_signature,
    provider_table,
)

__all__ = ["MAX_EMAIL_BYTES", "MAX_TEXT_CHARS", "decode_bytes", "parse"]
# MAX_EMAIL_BYTES and decode_bytes live in icp_notify.decoding (readers.email shares them); the
# names stay importable from here. ``parse.MAX_EMAIL_BYTES`` is the cap parse() applies.

MAX_TEXT_CHARS = 64 * 1024
"""Default cap on the characters of an SMS-like text (``max_chars`` overrides it)."""

SMS_SIGNED_MAX_CHARS = 500
"""A text of at most this many characters (after the signature is peeled), with a 【signature】
at its head or tail, no subject and no HTML, is taken for an SMS when no channel is given or
inferred from the sender (long concatenated SMS run to a few hundred characters)."""

# Single character classes (no backtracking) stay with the stdlib; the others use ``regex``. They
# run on at most 16 KiB of an e-mail's head or a 40-character sender, within the length on which
# tests/test_bounded.py proves them bounded (icp_notify.bounded): no timeout.
_SURROGATE = re.compile(r"[\ud800-\udfff]+")
# possessive continuation lines: a header line never starts with a space or tab, so giving one
# back cannot help, and a long run of them is not backtracked one by one
_EMAIL_HEAD = lazy_pattern(
    globals(),
    regex.compile,
    rb"\A(?:[\x21-\x39\x3b-\x7e]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*+){2,}",
    regex.S,
)
_EMAIL_KEY = lazy_pattern(
    globals(),
    regex.compile,
    rb"^(?:MIME-Version|Content-Type|Message-ID|Received|Return-Path|Subject):",
    regex.I | regex.M,
)
_DIGITS = lazy_pattern(globals(), regex.compile, r"\+?[\d\- ]{3,20}")


def _looks_like_email(data: bytes) -> bool:
    head = data[:16384]
    m = _EMAIL_HEAD.match(head)
    if m is None:
        return False
    return bool(_EMAIL_KEY.search(head[: m.end()])) and b"\n\n" in head.replace(b"\r\n", b"\n")


def _channel(value: Channel | str | None) -> Channel | None:
    if value is None or isinstance(value, Channel):
        return value
    try:
        return Channel(str(value).strip().lower())
    except ValueError:
        raise InputError(
            "invalid_field",
            f"unknown channel {value!r}",
            where="channel",
            hint="use one of: " + ", ".join(c.value for c in Channel),
        ) from None


def _sender_type(
    sender: str | None, signature: str | None, forward_sender: str | None
) -> tuple[SenderType, str | None]:
    """Return the sender type and the provider it names (if any)."""
    table = provider_table()
    for who in (sender, forward_sender):
        if not who:
            continue
        plain = who.strip().lower()
        digits = plain.replace(" ", "").replace("-", "").removeprefix("+86")
        if digits in table.miit_senders:
            return SenderType.MIIT, None
        if "@" in plain:
            host = plain.rsplit("@", 1)[1].strip(">")
            if any(host == d or host.endswith("." + d) for d in table.miit_domains):
                return SenderType.MIIT, None
            if (provider := provider_for_sender(plain)) is not None:
                return SenderType.PROVIDER, provider
    if signature:
        if signature in table.miit_signatures or any(
            s in signature for s in ("工信部", "工业和信息化部")
        ):
            return SenderType.MIIT, None
        if (provider := provider_for_alias(signature)) is not None:
            return SenderType.PROVIDER, provider
        # a signature that contains an alias: 【阿里云备案】, 【腾讯云】
        if (provider := provider_in_signature(signature)) is not None:
            return SenderType.PROVIDER, provider
    return SenderType.UNKNOWN, None


def _merge(body: Entities, subject: Entities | None) -> Entities:
    if subject is None:
        return body
    merged: dict[str, Any] = {}
    for name in Entities.model_fields:
        items = list(getattr(body, name))
        for item in getattr(subject, name):
            if item not in items and not (
                name == "icp_numbers" and any(i.canonical == item.canonical for i in items)
            ):
                items.append(item)
        merged[name] = tuple(items)
    return Entities(**merged)


def _entities(
    body: str, subject: str | None, when: dt.datetime | None, defects: list[Defect], *, full: bool
) -> tuple[Entities, Recipient | None]:
    """The entities of the body and the subject, and the recipient (``full=False``: only the
    URLs, merged as :func:`_merge` merges them, and no recipient). Appends the scans' defects."""
    if not full:
        urls, url_defects = extract_urls(body)
        defects.extend(url_defects)
        found = Entities(urls=urls) if urls else _NO_ENTITIES
        if subject:
            subject_urls, subject_defects = extract_urls(subject)
            found = _merge(found, Entities(urls=subject_urls))
            defects.extend(subject_defects)
        return found, None
    entities, entity_defects = extract(body, reference=when)
    defects.extend(entity_defects)
    if subject:
        subject_entities, subject_defects = extract(subject, reference=when, spans=False)
        entities = _merge(entities, subject_entities)
        defects.extend(subject_defects)
    return entities, extract_recipient(body)


_NO_ENTITIES = Entities()


def _infer_channel(raw: RawMessage, sender: str | None) -> Channel:
    if raw.channel is not Channel.UNKNOWN:
        return raw.channel
    if raw.subject is not None or (sender and "@" in sender):
        return Channel.EMAIL
    if sender and len(sender) < 40 and _DIGITS.fullmatch(sender.strip()):
        return Channel.SMS
    return Channel.UNKNOWN


def parse(
    data: str | bytes | RawMessage,
    *,
    channel: Channel | str | None = None,
    sender: str | None = None,
    received_at: dt.datetime | str | None = None,
    max_chars: int | None = None,
) -> Notice:
    """Parse one notice into a :class:`~icp_notify.models.Notice`.

    Parameters
    ----------
    data : str, bytes or RawMessage
        The notice: SMS text, a forwarded copy, an e-mail body, the bytes of an ``.eml`` file,
        or what a reader produced.
    channel : Channel or str, optional
        ``sms``, ``email`` or ``unknown``; overrides what ``data`` says. Inferred otherwise
        (an e-mail ``RawMessage`` or an e-mail sender means ``email``, a numeric sender ``sms``).
    sender : str, optional
        The sender (``12381``, ``10690000123``, ``noreply@example.com``); overrides ``data``'s.
    received_at : datetime or ISO 8601 str, optional
        When the notice arrived; naive times are Asia/Shanghai.
    max_chars : int, optional
        Cap on the text length; defaults to :data:`MAX_TEXT_CHARS` (:data:`MAX_EMAIL_BYTES` for
        e-mail).

    Returns
    -------
    Notice
        Normalised text, signature, opt-out tail, forwarding info, sender type, recipient and
        entities; ``defects`` lists what was repaired or dropped.

    Raises
    ------
    InputError
        ``empty``, ``too_large``, ``undecodable``, ``not_a_message`` or ``invalid_field``;
        nothing else for any ``str`` or ``bytes``.

    Examples
    --------
    >>> n = parse("【阿里云】您的域名example.cn已成功接入，备案号粤ICP备12345678号。回T退订",
    ...           sender="10690000123", received_at="2025-03-01 10:00")
    >>> n.sender_type.value, n.sender_provider, n.opt_out, n.channel.value
    ('provider', '阿里云', '回T退订', 'sms')
    >>> n.entities.icp_numbers[0].canonical, n.received_at.isoformat()
    ('粤ICP备12345678号', '2025-03-01T10:00:00+08:00')
    """
    return _parse(data, channel, sender, received_at, max_chars, entities=True)


def parse_for_classification(
    data: str | bytes | RawMessage,
    *,
    channel: Channel | str | None = None,
    sender: str | None = None,
    received_at: dt.datetime | str | None = None,
) -> Notice:
    """Parse a notice for :func:`icp_notify.classify`: :func:`parse` without the entities it
    does not read.

    A classification reads a notice's text, subject, signature, channel, sender, sender type,
    arrival time and whether it holds a link (``entities.urls``), never the other entities or
    the recipient (:func:`icp_notify.batch.labeller.classification_inputs` lists the inputs;
    ``tests/test_parse_for_classification.py`` checks that every corpus notice classifies the
    same either way). So the text is scanned for URLs only: ``entities`` holds ``urls`` and
    nothing else, ``recipient`` is ``None``, and ``defects`` lacks what the other entity scans
    would add. Everything else, the errors included, is :func:`parse`'s. Use :func:`parse` for
    a notice you keep or show.

    Parameters
    ----------
    data : str, bytes or RawMessage
        As for :func:`parse`.
    channel, sender, received_at : optional
        As for :func:`parse`.

    Returns
    -------
    Notice

    Raises
    ------
    InputError
        As :func:`parse`.

    Examples
    --------
    >>> n = parse_for_classification("【阿里云】您的域名example.cn已成功接入，备案号粤ICP备12345678号。"
    ...     "详情见 https://beian.aliyun.com/order")
    >>> n.sender_provider, [u.host for u in n.entities.urls], n.entities.icp_numbers
    ('阿里云', ['beian.aliyun.com'], ())
    """
    return _parse(data, channel, sender, received_at, None, entities=False)


def _parse(
    data: str | bytes | RawMessage,
    channel: Channel | str | None,
    sender: str | None,
    received_at: dt.datetime | str | None,
    max_chars: int | None,
    *,
    entities: bool,
) -> Notice:
    """:func:`parse`; with ``entities=False`` only the URLs are extracted, and no recipient."""
    defects: list[Defect] = []
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        if len(data) > MAX_EMAIL_BYTES:
            raise InputError(
                "too_large",
                f"{len(data)} bytes is more than the {MAX_EMAIL_BYTES} byte limit",
                hint="split the input or raise parse.MAX_EMAIL_BYTES",
            )
        if _looks_like_email(data):
            from icp_notify.readers.email import read_email

            raw = read_email(data, max_bytes=MAX_EMAIL_BYTES)
        else:
            text, decode_defects = decode_bytes(data)
            defects.extend(decode_defects)
            raw = RawMessage(text=text)
    elif isinstance(data, str):
        raw = RawMessage(text=data)
    elif isinstance(data, RawMessage):
        raw = data
        defects.extend(raw.defects)
    else:
        raise InputError(
            "not_a_message",
            f"cannot parse a {type(data).__name__}",
            hint="pass the notice as str, bytes or icp_notify.RawMessage",
        )
    if isinstance(data, bytes) and raw.defects:
        defects.extend(raw.defects)

    given_channel = _channel(channel)
    sender = sender if sender is not None else raw.sender
    when = (
        coerce_time(received_at, field="received_at")
        if received_at is not None
        else raw.received_at
    )
    chan = given_channel or _infer_channel(raw, sender)

    text = raw.text
    limit = (
        max_chars
        if max_chars is not None
        else (MAX_EMAIL_BYTES if chan is Channel.EMAIL else MAX_TEXT_CHARS)
    )
    if len(text) > limit:
        raise InputError(
            "too_large",
            f"{len(text)} characters is more than the {limit} character limit",
            hint="pass max_chars= to raise the limit, or split the input",
        )
    if _SURROGATE.search(text):
        defects.append(
            Defect(code="lone_surrogate", message="lone UTF-16 surrogates replaced by U+FFFD")
        )
        text = _SURROGATE.sub("\ufffd", text)
    if "\ufffd" in text and not any(d.code == "undecodable_bytes" for d in defects):
        defects.append(
            Defect(
                code="replacement_character",
                message="the input already contains U+FFFD: something upstream could not decode it",
                position=text.index("\ufffd"),
            )
        )

    if (qp := decode_quoted_printable(text)) is not None:
        text = qp
        defects.append(
            Defect(
                code="quoted_printable_decoded",
                message="the text still carried its quoted-printable transfer encoding; decoded it",
            )
        )
    html = looks_like_html(text)
    norm = normalize(text, html=html)
    subject: str | None = None
    subject_forwarded = False
    if raw.subject is not None:
        subject, subject_forwarded = strip_subject_prefixes(raw.subject)
        subject = subject or None
    if not norm.body and not norm.signature and not subject:
        raise InputError(
            "empty",
            "the notice is empty (only whitespace or invisible characters)",
            hint="pass the SMS or e-mail text",
        )
    if html:
        defects.append(
            Defect(code="html_converted", message="the text was HTML; converted to plain text")
        )
    defects.extend(norm.defects)
    forward = norm.forward
    if subject_forwarded:
        defects.append(
            Defect(
                code="forward_subject",
                message="removed a forwarding prefix (Fwd:/转发:) from the subject",
            )
        )
        if forward is None:
            forward = ForwardInfo(wrapper="email_forward")

    forward_sender = forward.original_sender if forward else None
    if sender is None and forward_sender:
        sender = forward_sender
    sender_type, sender_provider = _sender_type(sender, norm.signature, forward_sender)
    if chan is Channel.UNKNOWN and sender and sender != raw.sender:
        chan = _infer_channel(RawMessage(text="-", subject=raw.subject), sender)
    if (
        chan is Channel.UNKNOWN
        and norm.signature
        and not html
        and raw.subject is None
        and len(norm.body) <= SMS_SIGNED_MAX_CHARS
    ):
        # every Chinese SMS from a company number carries its 【签名】 at the head or the
        # tail; a short plain text signed that way (pasted without its sender) is an SMS
        chan = Channel.SMS

    found, recipient = _entities(norm.body, subject, when, defects, full=entities)

    values = {
        "raw_text": text,
        "text": norm.body,
        "channel": chan,
        "sender": sender,
        "sender_type": sender_type,
        "sender_provider": sender_provider,
        "signature": norm.signature,
        "subject": subject,
        "received_at": when,
        "recipient": recipient,
        "opt_out": norm.opt_out,
        "forward": forward,
        "entities": found,
        "defects": tuple(defects),
        "source": raw.source,
    }
    # Every value is one this function built or a validated model gave it, so validating the
    # Notice again would return them unchanged; only the caller's sender and an arrival time
    # that is not already aware and in range (a RawMessage built without validation) go
    # through validation, which converts or refuses them as before.
    if (sender is None or type(sender) is str) and (
        when is None
        or (type(when) is dt.datetime and when.utcoffset() is not None and in_datetime_range(when))
    ):
        return construct_trusted(Notice, values)
    return Notice(**values)


class _CallableModule(types.ModuleType):
    """Keep ``icp_notify.parse(...)`` working after the submodule ``icp_notify.parse`` is imported.

    Importing a submodule sets the package attribute of the same name to the module, which
    would shadow the lazily exported function ``icp_notify.parse``; calling the module calls it.
    """

    def __call__(
        self,
        data: str | bytes | RawMessage,
        *,
        channel: Channel | str | None = None,
        sender: str | None = None,
        received_at: dt.datetime | str | None = None,
        max_chars: int | None = None,
    ) -> Notice:
        return parse(
            data, channel=channel, sender=sender, received_at=received_at, max_chars=max_chars
        )


sys.modules[__name__].__class__ = _CallableModule
