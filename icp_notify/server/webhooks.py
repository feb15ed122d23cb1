"""Webhook payloads: SmsForwarder's signature and fields, and the generic field mapping.

Pure functions with no web framework, so they are easy to test and reuse.

Examples
--------
>>> smsforwarder_sign("SECexample", 1700000000000)
'uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0='
>>> verify_smsforwarder_sign("SECexample", 1700000000000,
...                          "uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0%3D")
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

import regex

from icp_notify.errors import InputError

_TIMEOUT = 0.05
_PACKAGE_NAME = regex.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+$")
_CALL_WORDS = regex.compile(
    r"未接来电|来电提醒|来电号码|通话时长|通话结束|呼入|呼出|已接来电|missed call|incoming call",
    regex.IGNORECASE,
)


def smsforwarder_sign(secret: str, timestamp_ms: int) -> str:
    """Compute SmsForwarder's (DingTalk-style) signature, unquoted.

    ``base64(HMAC_SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}"))``.

    Parameters
    ----------
    secret : str
        The webhook secret configured in the app.
    timestamp_ms : int
        The ``timestamp`` field (milliseconds since the epoch).

    Returns
    -------
    str
        The base64 signature, before any URL encoding.
    """
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def unquote_sign(sign: str) -> str:
    """Undo URL encoding until the value stops changing (raw, once or twice encoded).

    A space (a ``+`` that a form decoder turned into a space) is put back as ``+``.

    Parameters
    ----------
    sign : str
        The ``sign`` field as received.

    Returns
    -------
    str
        The base64 signature.

    Examples
    --------
    >>> unquote_sign("ab%252Bc%253D"), unquote_sign("ab c="), unquote_sign("ab+c=")
    ('ab+c=', 'ab+c=', 'ab+c=')
    """
    value = sign.strip()
    for _ in range(5):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return value.replace(" ", "+")


def verify_smsforwarder_sign(secret: str, timestamp_ms: int, sign: str) -> bool:
    """Whether ``sign`` is the signature of ``timestamp_ms`` (constant-time comparison).

    Parameters
    ----------
    secret : str
        The configured secret.
    timestamp_ms : int
        The request's ``timestamp``.
    sign : str
        The request's ``sign``, raw or URL-encoded once or twice.

    Returns
    -------
    bool
    """
    expected = smsforwarder_sign(secret, timestamp_ms).encode("ascii")
    given = unquote_sign(sign).encode("utf-8", "replace")
    return hmac.compare_digest(expected, given)


EventType = Literal["sms", "call", "app"]


@dataclass(frozen=True)
class ForwardedMessage:
    """What a webhook carried, after field extraction.

    Attributes
    ----------
    text : str
        The text to classify, exactly as received (``org_content`` when present).
    sender : str or None
        The ``from`` field.
    event : {"sms", "call", "app"}
        What kind of event the forwarder posted.
    timestamp_ms : int or None
        SmsForwarder's ``timestamp``.
    sign : str or None
        SmsForwarder's ``sign`` as received.
    received_at : str or None
        A receive time field, when the payload has one (generic ingest).
    message_id : str or None
        A message id, when the payload has one (generic ingest).
    filing : str or None
        A filing key given in the payload.
    extra : dict
        The other text fields received (``content`` when ``org_content`` was used …).
    """

    text: str
    sender: str | None
    event: EventType = "sms"
    timestamp_ms: int | None = None
    sign: str | None = None
    received_at: str | None = None
    message_id: str | None = None
    filing: str | None = None
    extra: Mapping[str, str] | None = None


def _field(payload: Mapping[str, Any], name: str) -> str | None:
    """Return a scalar field as text, following dotted names into nested objects."""
    value: Any = payload
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError("invalid_field", "expected a string or a number", where=name)
    return str(value)


def _timestamp(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise InputError(
            "invalid_field", "expected milliseconds since the epoch", where="timestamp"
        ) from None


def event_type(sender: str | None, text: str, declared: str | None = None) -> EventType:
    """Tell an SMS from a call event or an app notification.

    SmsForwarder posts app notifications with the app's package name as ``from`` and call
    events with a short call summary; a ``type`` field, when a template adds one, wins.

    Parameters
    ----------
    sender : str or None
        The ``from`` field.
    text : str
        The message text.
    declared : str, optional
        A ``type`` field added by the forwarder's template.

    Returns
    -------
    {"sms", "call", "app"}

    Examples
    --------
    >>> event_type("com.tencent.mm", "张**: 晚上吃饭吗"), event_type("12381", "您的备案信息已被变更")
    ('app', 'sms')
    >>> event_type("13800000000", "未接来电 13800000000")
    'call'
    """
    if declared:
        kind = declared.strip().lower()
        if kind in {"call", "phone"}:
            return "call"
        if kind in {"app", "notification", "notify"}:
            return "app"
        if kind == "sms":
            return "sms"
    if sender and _PACKAGE_NAME.match(sender.strip(), timeout=_TIMEOUT):
        return "app"
    if len(text) <= 200 and "备案" not in text and _CALL_WORDS.search(text, timeout=_TIMEOUT):
        return "call"
    return "sms"


def smsforwarder_message(payload: Mapping[str, Any]) -> ForwardedMessage:
    """Extract SmsForwarder's fields (form or JSON, both flattened to a mapping).

    ``org_content`` (the raw SMS) is preferred over ``content`` (the template output, whose
    template lines the parser strips); ``msg`` is accepted for ``content``.

    Parameters
    ----------
    payload : Mapping
        The decoded form or JSON body.

    Returns
    -------
    ForwardedMessage

    Raises
    ------
    InputError
        ``invalid_field`` naming ``content`` when no text was posted, or ``timestamp`` when it
        is not a number.

    Examples
    --------
    >>> m = smsforwarder_message({"from": "12381", "content": "12381\\n您的备案信息已被变更",
    ...                           "timestamp": "1700000000000", "sign": "x"})
    >>> m.sender, m.text.splitlines()[1], m.timestamp_ms, m.event
    ('12381', '您的备案信息已被变更', 1700000000000, 'sms')
    """
    sender = _field(payload, "from")
    content = _field(payload, "content") or _field(payload, "msg")
    org = _field(payload, "org_content")
    text = org if org and org.strip() else content
    if text is None or not text.strip():
        raise InputError(
            "invalid_field",
            "no message text (content or org_content)",
            where="content",
            hint="keep [content] or [org_content] in the SmsForwarder template",
        )
    extra = {k: v for k in ("content", "device_mark", "card_slot") if (v := _field(payload, k))}
    if text is content:
        extra.pop("content", None)
    return ForwardedMessage(
        text=text,
        sender=sender,
        event=event_type(sender, text, _field(payload, "type") or _field(payload, "msg_type")),
        timestamp_ms=_timestamp(_field(payload, "timestamp")),
        sign=_field(payload, "sign"),
        extra=extra or None,
    )


def generic_message(
    payload: Mapping[str, Any], fields: Mapping[str, tuple[str, ...]]
) -> ForwardedMessage:
    """Extract a message from any JSON or form payload with a field mapping.

    Parameters
    ----------
    payload : mapping
        The decoded body.
    fields : mapping
        Our field (``text``, ``sender``, ``received_at``, ``message_id``, ``filing``) → names
        tried in order; see :data:`icp_notify.server.settings.DEFAULT_GENERIC_FIELDS`.

    Returns
    -------
    ForwardedMessage

    Raises
    ------
    InputError
        ``invalid_field`` naming the expected text fields when none is present.

    Examples
    --------
    >>> from icp_notify.server.settings import DEFAULT_GENERIC_FIELDS
    >>> body = {"event": "sms:received",
    ...         "payload": {"message": "您的备案信息已被变更", "phoneNumber": "12381"}}
    >>> m = generic_message(body, DEFAULT_GENERIC_FIELDS)
    >>> m.text, m.sender
    ('您的备案信息已被变更', '12381')
    """

    def first(key: str) -> str | None:
        for name in fields.get(key, ()):
            value = _field(payload, name)
            if value is not None and value.strip():
                return value
        return None

    text = first("text")
    if text is None:
        names = ", ".join(fields.get("text", ()))
        raise InputError("invalid_field", f"no message text in any of: {names}", where="text")
    sender = first("sender")
    return ForwardedMessage(
        text=text,
        sender=sender,
        event=event_type(sender, text, _field(payload, "type")),
        received_at=first("received_at"),
        message_id=first("message_id"),
        filing=first("filing"),
    )
