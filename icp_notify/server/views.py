"""What the web page shows, without the web framework: a filing's timeline.

:func:`filing_timeline` builds the one view model the timeline page renders: the filing's
notices and registered operations in time order, each notice with its classification, its
advice card in the language asked for, whether it is still open, and what explains it.

Examples
--------
>>> from icp_notify.models import Operation
>>> from icp_notify.server.store import SqliteStore
>>> store = SqliteStore(":memory:")
>>> op = Operation(kind="access_domain", submitted_at="2025-03-01T10:00:00", provider="云栈科技")
>>> _ = store.add_operation("京ICP备2024012345号", op)
>>> timeline = filing_timeline(store, "京ICP备2024012345号")
>>> [entry.type for entry in timeline.entries], timeline.entries[0].operation.operation.provider
(['operation'], '云栈科技')
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from icp_notify.errors import InputError
from icp_notify.models import Advice, AwareDatetime, Classification, Notice
from icp_notify.server.outbox import StoredAlert
from icp_notify.server.schemas import StoredNotice, StoredOperation
from icp_notify.server.store import NoticeQuery, NoticeStore

log = logging.getLogger("icp_notify.server")

TIMELINE_LIMIT = 1000
"""The most notices a timeline shows (the newest ones); older ones are left off."""


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class TimelineNotice(_View):
    """A notice on a timeline: the stored record, its advice card and its state.

    Attributes
    ----------
    notice : StoredNotice
        The stored notice (raw text and report).
    advice : Advice
        The advice card in the timeline's language.
    acknowledged_at : datetime or None
        When an operator acknowledged it; ``None`` while it is open.
    explained_by : tuple of str
        What explains the notice, in words (the context evidence of its classification, or
        the attributions passed to :func:`filing_timeline`).
    alerts : tuple of StoredAlert
        The alerts the notice sent (outbox rows: channel, event, state, tries), oldest first.
    """

    notice: StoredNotice
    advice: Advice
    acknowledged_at: AwareDatetime | None = None
    explained_by: tuple[str, ...] = ()
    alerts: tuple[StoredAlert, ...] = ()

    @property
    def open(self) -> bool:
        """Whether the notice is still open (not acknowledged)."""
        return self.acknowledged_at is None


class TimelineEntry(_View):
    """One row of a timeline: a notice or an operation, at the time it happened.

    ``at`` is a notice's receive time (its store time when it has none) or an operation's
    submission time.
    """

    type: Literal["notice", "operation"]
    at: AwareDatetime
    notice: TimelineNotice | None = None
    operation: StoredOperation | None = None


class FilingTimeline(_View):
    """A filing's story, oldest first.

    Attributes
    ----------
    filing : str
        The filing key.
    lang : {"zh", "en"}
        The language of the advice cards.
    entries : tuple of TimelineEntry
        Notices and operations in time order (ties: operations first, then by id).
    truncated : bool
        Whether older notices were left off (beyond the limit).
    """

    filing: str
    lang: Literal["zh", "en"]
    entries: tuple[TimelineEntry, ...]
    truncated: bool = False


class AdviceSource(Protocol):
    """What gives a card in the other language (:class:`icp_notify.advisor.Advisor`)."""

    def advise(
        self,
        classification: Classification,
        notice: Notice,
        *,
        now: dt.datetime | str | None = None,
        lang: str = "zh",
    ) -> Advice:
        """The advice for a classified notice.

        Parameters
        ----------
        classification : Classification
            The stored classification.
        notice : Notice
            The stored parsed notice.
        now : datetime, optional
            The current time.
        lang : {"zh", "en"}
            The language of the card.

        Returns
        -------
        Advice
        """
        ...


def _advice_in(
    record: StoredNotice, lang: Literal["zh", "en"], advisor: AdviceSource | None
) -> Advice:
    """The notice's advice card in ``lang``: the stored one, or recomposed by ``advisor``."""
    stored = record.report.advice
    if stored.lang == lang:
        return stored
    try:
        if advisor is None:
            from icp_notify.advisor import Advisor

            advisor = Advisor.default()
        return advisor.advise(record.report.classification, record.report.notice, lang=lang)
    except (InputError, ValueError) as exc:
        log.warning("no %s advice for notice %d: %s", lang, record.id, exc)
        return stored


def _explanations(record: StoredNotice) -> tuple[str, ...]:
    """The context evidence of a notice's classification, as sentences."""
    return tuple(
        e.detail or e.id for e in record.report.classification.evidence if e.source == "context"
    )


ALERTS_SHOWN = 500
"""The most alerts of a filing a timeline shows (the newest)."""


def _alerts_by_notice(store: NoticeStore, filing: str) -> dict[int, list[StoredAlert]]:
    """The filing's newest alerts grouped by notice, oldest first within a notice."""
    page, _ = store.list_alerts(filing=filing, limit=ALERTS_SHOWN)
    out: dict[int, list[StoredAlert]] = {}
    for alert in reversed(page):
        out.setdefault(alert.notice_id, []).append(alert)
    return out


def filing_timeline(
    store: NoticeStore,
    filing: str,
    *,
    lang: Literal["zh", "en"] = "zh",
    advisor: AdviceSource | None = None,
    attributions: Mapping[int, tuple[str, ...]] | None = None,
    limit: int = TIMELINE_LIMIT,
) -> FilingTimeline:
    """A filing's notices and operations in time order, each notice with its advice card.

    Parameters
    ----------
    store : NoticeStore
        Where the notices and operations are.
    filing : str
        The filing key.
    lang : {"zh", "en"}, default "zh"
        The language of the advice cards; a card stored in the other language is recomposed
        with ``advisor`` from the stored classification and parsed notice.
    advisor : AdviceSource, optional
        Defaults to :meth:`icp_notify.advisor.Advisor.default` (loaded only when needed).
    attributions : Mapping of int to tuple of str, optional
        What explains each notice (notice id → sentences), e.g. from a timeline engine;
        notices not in it keep the context evidence of their classification.
    limit : int, default TIMELINE_LIMIT
        The most notices shown (the newest).

    Returns
    -------
    FilingTimeline

    Raises
    ------
    InputError
        ``invalid_field`` for a ``lang`` other than zh or en.
    """
    if lang not in ("zh", "en"):
        raise InputError("invalid_field", f"{lang!r} is not zh or en", where="lang")
    notices: list[StoredNotice] = []
    cursor: str | None = None
    while len(notices) < limit:
        page, cursor = store.list_notices(
            NoticeQuery(filing=filing), limit=min(500, limit - len(notices)), cursor=cursor
        )
        notices.extend(page)
        if cursor is None:
            break
    acked = store.acknowledged(filing)
    sent = _alerts_by_notice(store, filing)
    entries: list[tuple[float, int, int, TimelineEntry]] = []
    for record in notices:
        at = record.received_at or record.stored_at
        explained = (
            attributions[record.id]
            if attributions is not None and record.id in attributions
            else _explanations(record)
        )
        item = TimelineNotice(
            notice=record,
            advice=_advice_in(record, lang, advisor),
            acknowledged_at=acked.get(record.id),
            explained_by=explained,
            alerts=tuple(sent.get(record.id, ())),
        )
        entries.append(
            (at.timestamp(), 1, record.id, TimelineEntry(type="notice", at=at, notice=item))
        )
    for op in store.list_operations(filing):
        at = op.operation.submitted_at
        entries.append(
            (at.timestamp(), 0, op.id, TimelineEntry(type="operation", at=at, operation=op))
        )
    entries.sort(key=lambda e: e[:3])
    return FilingTimeline(
        filing=filing,
        lang=lang,
        entries=tuple(e[3] for e in entries),
        truncated=cursor is not None,
    )


def to_shanghai(value: dt.datetime | None) -> str:
    """A time as the page shows it: Asia/Shanghai, to the minute; ``""`` for ``None``.

    Parameters
    ----------
    value : datetime or None
        An aware time.

    Returns
    -------
    str

    Examples
    --------
    >>> to_shanghai(dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC))
    '2025-03-01 10:00'
    """
    if value is None:
        return ""
    from icp_notify.models import SHANGHAI

    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
