"""Feishu/Lark custom bot (自定义机器人), signed with 签名校验.

``sign`` is the base64 HMAC-SHA256 keyed with ``"{timestamp}\\n{secret}"`` over an empty
message, ``timestamp`` in seconds; both go in the JSON body. The card is an ``interactive``
card (header coloured by urgency, one Markdown element), its body kept under 20 KB; the
idempotency key is the last line of the card (Feishu reads no deduplication header).

Examples
--------
>>> sign("SECexample", 1700000000)
'giaCP81WKcKmxS0uSLlrqVVwRIDJGES6GpFgEr4g4C4='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from icp_notify.alerts.base import Delivery, post_json
from icp_notify.alerts.card import AlertCard, fit

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_BODY_BYTES", "FeishuSender", "render", "sign"]

MAX_BODY_BYTES = 20_000
"""Largest request body Feishu accepts (20 KB)."""

_TEMPLATE = {"critical": "red", "high": "orange", "normal": "blue", "info": "grey"}


def sign(secret: str, timestamp_s: int) -> str:
    """The ``sign`` field of the body.

    Parameters
    ----------
    secret : str
        The bot's signing secret.
    timestamp_s : int
        Seconds since the epoch (Feishu accepts one hour of skew).

    Returns
    -------
    str
    """
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def render(card: AlertCard, key: str, signature: tuple[int, str] | None = None) -> bytes:
    """The encoded JSON body, at most :data:`MAX_BODY_BYTES`.

    Parameters
    ----------
    card : AlertCard
        The alert.
    key : str
        Its idempotency key.
    signature : tuple of (int, str), optional
        ``(timestamp_s, sign)``.

    Returns
    -------
    bytes
    """
    footer = f"\n{card.labels()['key']}: {key}"

    def body(text: str) -> bytes:
        payload: dict[str, Any] = {}
        if signature is not None:
            payload["timestamp"] = str(signature[0])
            payload["sign"] = signature[1]
        payload["msg_type"] = "interactive"
        payload["card"] = {
            "header": {
                "title": {"tag": "plain_text", "content": card.title[:100]},
                "template": _TEMPLATE[card.urgency.value],
            },
            "elements": [{"tag": "markdown", "content": text + footer}],
        }
        return json.dumps(payload, ensure_ascii=False).encode()

    text = card.markdown(heading=False)
    encoded = body(text)
    if len(encoded) > MAX_BODY_BYTES:
        # JSON escaping can grow the text; cut by the overshoot plus a margin, then check
        overshoot = len(encoded) - MAX_BODY_BYTES
        limit = len(text.encode()) - overshoot - 64
        while len(encoded) > MAX_BODY_BYTES and limit > 0:
            encoded = body(fit(text, limit, card.lang))
            limit -= 512
    return encoded


class FeishuSender:
    """Sends cards to one Feishu/Lark bot.

    Parameters
    ----------
    name : str
        The channel name in the alerts file.
    url : str
        The webhook URL (``https://open.feishu.cn/open-apis/bot/v2/hook/…``).
    secret : str, optional
        The 签名校验 secret.
    clock : callable, optional
        Seconds since the epoch.
    """

    kind = "feishu"

    def __init__(
        self, name: str, url: str, secret: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.name, self.url, self.secret = name, url, secret
        self.clock = clock

    def send(self, card: AlertCard, key: str, client: httpx.Client) -> Delivery:
        """Post the card; a failure is returned, never raised (:class:`~icp_notify.alerts.base.Sender`)."""
        signature = None
        if self.secret:
            ts = int(self.clock())
            signature = (ts, sign(self.secret, ts))
        body = render(card, key, signature)
        return post_json(client, self.url, body, {"Idempotency-Key": key}, robot=True)
