"""What every channel shares: the :class:`Delivery` answer, the sender interface, HTTP posting.

A channel module exposes a sender class with ``send(card, key, client) -> Delivery``; it never
raises for a failed delivery (a refused connection, a 5xx, a robot's error code are all a
``Delivery`` with ``ok=False``), so the worker can record every answer.

Examples
--------
>>> parse_retry_after("120")
120.0
>>> parse_retry_after("soon") is None
True
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

    from icp_notify.alerts.card import AlertCard

__all__ = ["Delivery", "Sender", "parse_retry_after", "post_json"]

#: Robot error codes that mean "too many messages": retried after a minute.
RATE_LIMIT_CODES = frozenset({130101, 11232, 45009})
RATE_LIMIT_WAIT_S = 60.0

_MAX_ERROR = 300


@dataclass(frozen=True)
class Delivery:
    """One channel's answer to one delivery attempt.

    Parameters
    ----------
    ok : bool
        Delivered (2xx, and the robot's own error code is 0).
    status : int or None
        The HTTP status or SMTP reply code; ``None`` when no answer came (connection failed).
    error : str or None
        What went wrong, short.
    retry_after : float or None
        Seconds the receiver asked us to wait (``Retry-After``, or a robot's rate limit).
    """

    ok: bool
    status: int | None
    error: str | None = None
    retry_after: float | None = None


class Sender(Protocol):
    """A configured channel that can send a card."""

    name: str
    kind: str

    def send(self, card: AlertCard, key: str, client: httpx.Client) -> Delivery:
        """Deliver ``card`` with idempotency key ``key``; never raises for a failed delivery.

        Parameters
        ----------
        card : AlertCard
            The alert.
        key : str
            Its idempotency key (a header where the channel allows one, else in the message).
        client : httpx.Client
            The worker's HTTP client (unused by e-mail).

        Returns
        -------
        Delivery
        """
        ...


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Parameters
    ----------
    value : str or None
        The header.
    now : datetime, optional
        The current time, for an HTTP date (UTC now when omitted).

    Returns
    -------
    float or None
        ``None`` for a missing or unreadable header; never negative.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def post_json(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    robot: bool,
) -> Delivery:
    """POST a JSON body and read the answer.

    Parameters
    ----------
    client : httpx.Client
        The HTTP client.
    url : str
        Where to.
    body : bytes
        The encoded JSON (signed as is by the caller when needed).
    headers : dict of str to str
        Extra headers (``Idempotency-Key``, ``X-Signature``).
    robot : bool
        Read a chat robot's ``errcode``/``code`` in a 200 answer (non-zero is a failure).

    Returns
    -------
    Delivery
    """
    import httpx

    try:
        response = client.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
    except httpx.HTTPError as exc:
        return Delivery(False, None, f"{type(exc).__name__}: {exc}"[:_MAX_ERROR])
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if not 200 <= status < 300:
        snippet = response.text[:200].replace("\n", " ")
        if status == 429 and retry_after is None:
            retry_after = RATE_LIMIT_WAIT_S
        return Delivery(False, status, f"HTTP {status}: {snippet}"[:_MAX_ERROR], retry_after)
    if robot:
        try:
            answer: Any = json.loads(response.content or b"{}")
        except ValueError:
            return Delivery(False, status, "the robot answered with something other than JSON")
        if isinstance(answer, dict):
            code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
            if code not in (0, None):
                message = answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", "")))
                wait = RATE_LIMIT_WAIT_S if code in RATE_LIMIT_CODES else None
                return Delivery(False, status, f"robot error {code}: {message}"[:_MAX_ERROR], wait)
    return Delivery(True, status)
