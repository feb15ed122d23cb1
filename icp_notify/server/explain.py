"""A filing's timeline, and what a (late) operation changes in its stored notices.

``GET /v1/filings/{filing}/timeline`` (:mod:`icp_notify.server.routes.filings`) answers with
:func:`filing_timeline`: the filing's operations and stored notices replayed in time order, each
notice attributed (:func:`icp_notify.context.explain_timeline`).

``POST /v1/operations`` (:mod:`icp_notify.server.routes.operations`) and the page's operation
form both call :func:`register_operation`, which answers with :class:`OperationRegistered`: the
stored operation and the :class:`ReportChange` of every stored notice of the filing whose
situation changed when re-explained with it (:meth:`NoticeService.reexplain`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from icp_notify.context import MAX_NOTICES, MAX_OPERATIONS, Timeline, explain_timeline
from icp_notify.errors import InputError
from icp_notify.models import (
    AwareDatetime,
    Context,
    Operation,
    PriorNotice,
    Report,
    Situation,
    Urgency,
)
from icp_notify.server.schemas import StoredNotice, StoredOperation
from icp_notify.server.store import NoticeQuery, NoticeStore

if TYPE_CHECKING:
    from icp_notify.server.service import NoticeService

__all__ = [
    "FilingTimeline",
    "OperationRegistered",
    "ReportChange",
    "filing_timeline",
    "register_operation",
]


class ReportChange(BaseModel):
    """A stored notice whose outcome changed when it was explained again."""

    model_config = ConfigDict(frozen=True)

    notice_id: int
    received_at: AwareDatetime | None = None
    old_situation: Situation | None
    old_candidates: tuple[Situation, ...]
    new_situation: Situation | None
    new_candidates: tuple[Situation, ...]
    old_urgency: Urgency
    new_urgency: Urgency
    why: str = Field(default="", description="the new advice's reason (names the chain)")

    @classmethod
    def between(cls, record: StoredNotice, old: Report, new: Report) -> ReportChange:
        """The change from ``old`` to ``new`` for ``record``.

        Parameters
        ----------
        record : StoredNotice
            The stored notice.
        old, new : Report
            Its report before and after.

        Returns
        -------
        ReportChange
        """
        return cls(
            notice_id=record.id,
            received_at=record.received_at,
            old_situation=old.classification.situation,
            old_candidates=old.classification.candidates,
            new_situation=new.classification.situation,
            new_candidates=new.classification.candidates,
            old_urgency=old.advice.urgency,
            new_urgency=new.advice.urgency,
            why=new.advice.why,
        )


class OperationRegistered(StoredOperation):
    """Answer of ``POST /v1/operations``: the operation and what it changed."""

    changed: tuple[ReportChange, ...] = Field(
        default=(), description="stored notices of the filing whose situation changed"
    )
    reexplained: bool = Field(
        default=True, description="false when the pipeline was not loaded (nothing re-explained)"
    )


def register_operation(
    store: NoticeStore,
    filing: str,
    operation: Operation,
    service: NoticeService | None,
) -> tuple[OperationRegistered, bool]:
    """Register an operation and explain the filing's stored notices again — what
    ``POST /v1/operations`` and the page's operation form both do.

    Parameters
    ----------
    store : NoticeStore
        The service's store.
    filing : str
        The filing.
    operation : Operation
        The operation the team submitted.
    service : NoticeService or None
        Re-explains the stored notices (through ``replace_report``, so escalations send their
        follow-up alerts); ``None`` while the pipeline is not loaded: nothing is re-explained.

    Returns
    -------
    (OperationRegistered, bool)
        The stored operation with the changes it made, and whether it was new.

    Raises
    ------
    InputError
        ``too_many`` when the filing already has :data:`icp_notify.context.MAX_OPERATIONS`
        operations (refused before anything is stored).
    """
    if len(store.list_operations(filing)) >= MAX_OPERATIONS:
        raise InputError(
            "too_many",
            f"the filing already has {MAX_OPERATIONS} operations, the limit of its context",
            where="filing",
            hint="see docs/context.md (bad input)",
        )
    record, created = store.add_operation(filing, operation)
    changed = tuple(service.reexplain(filing)) if service is not None else ()
    answer = OperationRegistered(
        **record.model_dump(), changed=changed, reexplained=service is not None
    )
    return answer, created


class FilingTimeline(BaseModel):
    """Answer of ``GET /v1/filings/{filing}/timeline``."""

    model_config = ConfigDict(frozen=True)

    filing: str
    notice_ids: tuple[int, ...] = Field(
        description="the stored id of ``notices[i]`` in the timeline, oldest stored first"
    )
    timeline: Timeline


def filing_timeline(store: NoticeStore, filing: str) -> FilingTimeline:
    """The attributed timeline of a filing's operations and (latest) stored notices.

    Parameters
    ----------
    store : NoticeStore
        The service's store.
    filing : str
        The filing.

    Returns
    -------
    FilingTimeline
    """
    records: list[StoredNotice] = []
    cursor: str | None = None
    while True:
        page, cursor = store.list_notices(NoticeQuery(filing=filing), limit=200, cursor=cursor)
        records.extend(page)
        if cursor is None or len(records) >= MAX_NOTICES:
            break
    records = sorted(records[:MAX_NOTICES], key=lambda r: r.id)
    notices = [
        PriorNotice(
            text=r.raw_text,
            received_at=r.received_at or r.stored_at,
            sender=r.sender,
            channel=r.channel,
        )
        for r in records
    ]
    ops = tuple(s.operation for s in store.list_operations(filing))
    timeline = explain_timeline(Context(operations=ops), notices)
    return FilingTimeline(filing=filing, notice_ids=tuple(r.id for r in records), timeline=timeline)
