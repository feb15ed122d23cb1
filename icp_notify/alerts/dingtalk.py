"""DingTalk custom robot (钉钉自定义机器人), signed with 加签.

The request goes to the webhook URL (which holds ``access_token``) with ``&timestamp=<ms>&sign=<s>``
added, where ``s`` is the URL-encoded base64 HMAC-SHA256, keyed with the secret, of
``"{timestamp}\\n{secret}"``. The card is a ``markdown`` message; DingTalk has no request header
for deduplication, so the idempotency key is the last line of the message.

Examples
--------
>>> sign("SECexample", 1700000000000)
'uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0%3D'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

from icp_notify.alerts.base import Delivery, post_json
from icp_notify.alerts.card import AlertCard, fit

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_TEXT_BYTES", "DingTalkSender", "render", "sign"]

MAX_TEXT_BYTES = 18_000
"""Largest Markdown text sent (DingTalk refuses messages of about 20 000 bytes)."""


def sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query parameter (already URL-encoded).

    Parameters
    ----------
    secret : str
        The robot's ``SEC…`` secret.
    timestamp_ms : int
        Milliseconds since the epoch (DingTalk accepts one hour of skew).

    Returns
    -------
    str
    """
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return quote_plus(base64.b64encode(mac.digest()).decode())


def render(card: AlertCard, key: str) -> dict[str, object]:
    """The JSON body: a ``markdown`` message ending with the idempotency key.

    Parameters
    ----------
    card : AlertCard
        The alert.
    key : str
        Its idempotency key.

    Returns
    -------
    dict
    """
    footer = f"\n\n{card.labels()['key']}: {key}"
    text = fit(card.markdown(), MAX_TEXT_BYTES - len(footer.encode()), card.lang) + footer
    return {"msgtype": "markdown", "markdown": {"title": card.title[:64], "text": text}}


class DingTalkSender:
    """Sends cards to one DingTalk robot.

    Parameters
    ----------
    name : str
        The channel name in the alerts file.
    url : str
        The webhook URL (``https://oapi.dingtalk.com/robot/send?access_token=…``).
    secret : str, optional
        The 加签 secret; without it, no signature is added.
    clock : callable, optional
        Seconds since the epoch.
    """

    kind = "dingtalk"

    def __init__(
        self, name: str, url: str, secret: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.name, self.url, self.secret = name, url, secret
        self.clock = clock

    def send(self, card: AlertCard, key: str, client: httpx.Client) -> Delivery:
        """Post the card; a failure is returned, never raised (:class:`~icp_notify.alerts.base.Sender`)."""
        url = self.url
        if self.secret:
            ts = int(self.clock() * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign(self.secret, ts)}"
        body = json.dumps(render(card, key), ensure_ascii=False).encode()
        return post_json(client, url, body, {"Idempotency-Key": key}, robot=True)
