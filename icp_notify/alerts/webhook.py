"""A generic webhook: the alert as JSON, signed with ``X-Signature``.

``X-Signature`` is the hex HMAC-SHA256 of the raw request body, keyed with the secret; the
``Idempotency-Key`` header carries the alert's key (also in the body as ``idempotency_key``), so
a receiver can drop a repeated delivery.

Examples
--------
>>> signature("s3cret", b'{"a":1}')
'5910e62016ef5034272c926c27071992a465c2335cecf41851bda071577f4f6d'
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from icp_notify.alerts.base import Delivery, post_json
from icp_notify.alerts.card import AlertCard

if TYPE_CHECKING:
    import httpx

__all__ = ["WebhookSender", "render", "signature"]


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` header: hex HMAC-SHA256 of ``body`` keyed with ``secret``.

    Parameters
    ----------
    secret : str
        The shared secret.
    body : bytes
        The raw request body.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def render(card: AlertCard, key: str, extra: dict[str, Any] | None = None) -> bytes:
    """The JSON body.

    Parameters
    ----------
    card : AlertCard
        The alert.
    key : str
        Its idempotency key.
    extra : dict, optional
        More fields (the worker adds ``alert_id``, ``notice_id``, ``filing``, ``event``).

    Returns
    -------
    bytes
        UTF-8 JSON with ``idempotency_key``, ``title``, ``urgency``, ``lang``, ``markdown``,
        ``text`` and the card's fields.
    """
    payload: dict[str, Any] = {
        "idempotency_key": key,
        "title": card.title,
        "urgency": card.urgency.value,
        "lang": card.lang,
        "change": card.change,
        "summary": card.summary,
        "steps": list(card.steps),
        "notice_text": card.notice_text,
        "markdown": card.markdown(),
        "text": card.plain(),
        **(extra or {}),
    }
    return json.dumps(payload, ensure_ascii=False).encode()


class WebhookSender:
    """Posts cards to one HTTP endpoint.

    Parameters
    ----------
    name : str
        The channel name in the alerts file.
    url : str
        The endpoint.
    secret : str, optional
        The HMAC secret; without it no ``X-Signature`` is sent.
    """

    kind = "webhook"

    def __init__(self, name: str, url: str, secret: str | None = None) -> None:
        self.name, self.url, self.secret = name, url, secret

    def send(self, card: AlertCard, key: str, client: httpx.Client) -> Delivery:
        """Post the card; a failure is returned, never raised (:class:`~icp_notify.alerts.base.Sender`)."""
        body = render(card, key)
        headers = {"Idempotency-Key": key}
        if self.secret:
            headers["X-Signature"] = signature(self.secret, body)
        return post_json(client, self.url, body, headers, robot=False)
