"""The alert outbox as the store sees it: drafts, the router interface, stored alerts.

The store writes an alert row in the same transaction as the notice (or the report update)
that causes it; which channels get one is decided at that moment by an :class:`AlertRouter`
(:class:`icp_notify.alerts.routing.Router` reads the alerts file). The delivery worker
(:mod:`icp_notify.alerts.worker`) then moves each row through :data:`AlertState`:

``pending`` → ``sending`` → ``delivered``, or → ``retry`` → ``sending`` → … → ``dead`` after
the configured number of tries. A row left in ``sending`` by a crash goes back to ``retry``
when the worker starts (at-least-once delivery; receivers deduplicate by idempotency key).

Examples
--------
>>> StoredAlert.model_json_schema()["properties"]["state"]["enum"]
['pending', 'sending', 'retry', 'delivered', 'dead']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from icp_notify.models import AwareDatetime, Report, Urgency

__all__ = [
    "ALERT_STATES",
    "AlertDraft",
    "AlertPage",
    "AlertRouter",
    "AlertState",
    "ClaimedAlert",
    "StoredAlert",
]

AlertState = Literal["pending", "sending", "retry", "delivered", "dead"]
"""Where an alert is in its delivery (see the module docstring)."""

ALERT_STATES: tuple[AlertState, ...] = ("pending", "sending", "retry", "delivered", "dead")


@dataclass(frozen=True)
class AlertDraft:
    """An alert to enqueue, as the router decided it.

    Parameters
    ----------
    channel : str
        The channel name in the alerts file.
    event : str
        ``"notice"`` for a new notice, ``"escalation:…"`` for a follow-up (unique per notice
        and channel, so the same change is not enqueued twice).
    lang : {"zh", "en"}
        The card's language.
    urgency : Urgency
        The notice's urgency when enqueued.
    report_json : str
        The report the card is rendered from (its advice in ``lang``).
    change_json : str or None
        For a follow-up: :class:`icp_notify.alerts.card.Change` as JSON.
    not_before : datetime or None
        Held until then (quiet hours); ``None`` sends at once.
    """

    channel: str
    event: str
    lang: Literal["zh", "en"]
    urgency: Urgency
    report_json: str
    change_json: str | None = None
    not_before: dt.datetime | None = None


class AlertRouter(Protocol):
    """Decides the alerts of a new notice and of a changed report (no I/O, no commit)."""

    def for_notice(self, filing: str, report: Report, at: dt.datetime) -> list[AlertDraft]:
        """The alerts of a newly stored notice.

        Parameters
        ----------
        filing : str
            The notice's filing.
        report : Report
            Its report.
        at : datetime
            Now (aware).

        Returns
        -------
        list of AlertDraft
        """
        ...

    def for_change(
        self, filing: str, old: Report, new: Report, at: dt.datetime
    ) -> list[AlertDraft]:
        """The follow-up alerts of a stored notice whose report changed from ``old`` to ``new``.

        Parameters
        ----------
        filing : str
            The notice's filing.
        old, new : Report
            The report before and after.
        at : datetime
            Now (aware).

        Returns
        -------
        list of AlertDraft
        """
        ...


class StoredAlert(BaseModel):
    """One outbox row, as ``GET /v1/alerts`` shows it (no secrets, no rendered body)."""

    model_config = ConfigDict(frozen=True)

    id: int
    notice_id: int
    filing: str
    channel: str
    event: str
    idempotency_key: str
    state: AlertState
    urgency: Urgency
    lang: Literal["zh", "en"]
    attempts: int = Field(ge=0, description="delivery tries so far")
    next_attempt_at: AwareDatetime | None = Field(
        description="when the next try is due (pending/retry), else null"
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime
    delivered_at: AwareDatetime | None = None
    last_status: int | None = Field(default=None, description="HTTP status or SMTP code")
    last_error: str | None = None


class AlertPage(BaseModel):
    """A page of ``GET /v1/alerts``, newest first."""

    model_config = ConfigDict(frozen=True)

    items: tuple[StoredAlert, ...]
    next_cursor: str | None = None


@dataclass(frozen=True)
class ClaimedAlert:
    """An alert the worker claimed for one try, with what its card is rendered from.

    Parameters
    ----------
    alert : StoredAlert
        The row (state ``sending``, ``attempts`` counting this try).
    report_json : str
        The report snapshot.
    change_json : str or None
        The change of a follow-up alert.
    """

    alert: StoredAlert
    report_json: str
    change_json: str | None
