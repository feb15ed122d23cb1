"""What the routes do, without the web framework: analyse, ingest with context, re-explain, reclassify.

The routes hand it the package's own types: times and contexts from a request are read at the
route (:mod:`icp_notify.boundary`, or the request schema's ``AwareDatetime``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from icp_notify.errors import InputError
from icp_notify.models import Channel, Context, Report
from icp_notify.server.schemas import NoticeIn, Source, StoredNotice
from icp_notify.server.store import NewNotice, NoticeQuery, NoticeStore, dedupe_key

if TYPE_CHECKING:
    from icp_notify.server.explain import ReportChange

log = logging.getLogger("icp_notify.server")

WARMUP_TEXT = "【工信部】尊敬的用户，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
"""The notice analysed at start-up to load the pipeline and read its model version."""


class Analyzer(Protocol):
    """What the service needs from :class:`icp_notify.pipeline.Pipeline` (tests pass fakes)."""

    def analyze(
        self,
        data: str,
        *,
        channel: Channel | None = None,
        sender: str | None = None,
        received_at: dt.datetime | None = None,
        context: Context | None = None,
        now: dt.datetime | None = None,
        lang: Literal["zh", "en"] = "zh",
    ) -> Report:
        """Parse, classify and advise one notice.

        Parameters
        ----------
        data : str
            The notice text.
        channel : Channel, optional
            How it arrived.
        sender : str, optional
            The SMS sender number or e-mail address.
        received_at : datetime, optional
            When it arrived.
        context : Context, optional
            The filing's operations and earlier notices.
        now : datetime, optional
            The current time for the advice.
        lang : {"zh", "en"}
            Advice language.

        Returns
        -------
        Report
        """
        ...


@dataclass
class NoticeService:
    """Store + pipeline: the behaviour behind the routes and ``icp-notify reclassify``."""

    store: NoticeStore
    pipeline: Analyzer
    max_text_chars: int = 20_000
    context_notices: int = 20

    def check_text(self, text: str, where: str = "text") -> None:
        """Refuse an empty or over-long text with a typed error naming the field.

        Parameters
        ----------
        text : str
            The notice text.
        where : str, default "text"
            The field name used in the error.

        Raises
        ------
        InputError
            ``empty`` for blank text, ``too_long`` beyond ``max_text_chars``.
        """
        if not text.strip():
            raise InputError("empty", "the notice text is empty", where=where)
        if len(text) > self.max_text_chars:
            raise InputError(
                "too_long",
                f"{len(text)} characters, more than the limit of {self.max_text_chars}",
                where=where,
            )

    def analyze(
        self,
        text: str,
        *,
        channel: Channel | None = None,
        sender: str | None = None,
        received_at: dt.datetime | None = None,
        context: Context | None = None,
        lang: Literal["zh", "en"] = "zh",
    ) -> Report:
        """Analyse one notice; nothing is stored.

        Parameters
        ----------
        text : str
            The notice text.
        channel : Channel, optional
            How it arrived.
        sender : str, optional
            The SMS sender number or e-mail address.
        received_at : datetime, optional
            When it arrived.
        context : Context, optional
            The user's operations and earlier notices.
        lang : {"zh", "en"}
            Advice language.

        Returns
        -------
        Report

        Raises
        ------
        InputError
            For empty or over-long text, or input the pipeline refuses.
        """
        self.check_text(text)
        return self.pipeline.analyze(
            text,
            channel=channel,
            sender=sender,
            received_at=received_at,
            context=context,
            lang=lang,
        )

    def post(self, notice: NoticeIn) -> tuple[StoredNotice, bool]:
        """Store and classify a posted notice: what ``POST /v1/notices`` and the page's notice
        form do (:meth:`ingest` with ``source="api"``).

        Parameters
        ----------
        notice : NoticeIn
            The validated body.

        Returns
        -------
        tuple of (StoredNotice, bool)
            The record and whether it was created now.
        """
        return self.ingest(
            filing=notice.filing,
            source="api",
            text=notice.text,
            channel=notice.channel,
            sender=notice.sender,
            received_at=notice.received_at,
            message_id=notice.message_id,
            lang=notice.lang,
        )

    def ingest(
        self,
        *,
        filing: str,
        source: Source,
        text: str,
        channel: Channel | None = None,
        sender: str | None = None,
        received_at: dt.datetime | None = None,
        fallback_received_at: dt.datetime | None = None,
        message_id: str | None = None,
        lang: Literal["zh", "en"] = "zh",
        extra: Mapping[str, str] | None = None,
        signature: tuple[int, str] | None = None,
    ) -> tuple[StoredNotice, bool]:
        """Store and classify a notice for ``filing``; return ``(record, created)``.

        The notice is classified with the filing's operations and earlier notices as context,
        and acknowledged only once committed. A notice already stored (same ``message_id``,
        or same sender + received_at + text) is returned as it is, with ``created=False``.

        Parameters
        ----------
        filing : str
            The filing (site or subject) the notice belongs to.
        source : Source
            Which route it came in through.
        text : str
            The notice text.
        channel : Channel, optional
            How it arrived.
        sender : str, optional
            The SMS sender number or e-mail address.
        received_at : datetime, optional
            When it arrived, as the caller says.
        fallback_received_at : datetime, optional
            Used when neither the caller nor the notice gives a time.
        message_id : str, optional
            The caller's id; makes retries idempotent.
        lang : {"zh", "en"}
            Advice language.
        extra : Mapping of str to str, optional
            Further fields kept with the notice.
        signature : tuple of (int, str), optional
            A webhook's ``(timestamp_ms, sign)``, recorded with the notice.

        Returns
        -------
        tuple of (StoredNotice, bool)
            The record and whether it was created now.

        Raises
        ------
        InputError
            For empty or over-long text, or input the pipeline refuses.
        ReplayError
            When ``signature`` was already used.
        """
        self.check_text(text)
        extra = dict(extra or {})
        material = text if not extra.get("content") else f"{text}\x00{extra['content']}"
        key = dedupe_key(
            filing, message_id=message_id, sender=sender, received_at=received_at, text=material
        )
        if signature is None:
            existing = self.store.find_notice(key)
            if existing is not None:
                return existing, False
        context = self.store.context_for(filing, notices=self.context_notices)
        report = self.pipeline.analyze(
            text,
            channel=channel,
            sender=sender,
            received_at=received_at,
            context=context,
            lang=lang,
        )
        when = received_at or report.notice.received_at or fallback_received_at
        new = NewNotice(
            filing=filing,
            source=source,
            dedupe_key=key,
            raw_text=text,
            channel=channel or report.notice.channel,
            sender=sender,
            received_at=when,
            message_id=message_id,
            extra=extra,
        )
        record, created = self.store.insert_notice(new, report, signature=signature)
        cls = report.classification
        log.info(
            "%s notice %d filing=%s sender=%s situation=%s kind=%s urgency=%s",
            "stored" if created else "duplicate",
            record.id,
            filing,
            sender,
            cls.situation.value if cls.situation else "ambiguous",
            cls.kind.value,
            report.advice.urgency.value,
        )
        return record, created

    def replace_report(self, record: StoredNotice, new: Report) -> ReportChange | None:
        """Store ``new`` as ``record``'s report — the one place a stored report changes.

        Every path that rewrites a stored report (re-explanation after an operation,
        :meth:`reclassify`) goes through here, so whatever must follow a change (outgoing
        alerts, say) hooks onto this method alone.

        Parameters
        ----------
        record : StoredNotice
            The stored notice (with its current report).
        new : Report
            The recomputed report.

        Returns
        -------
        ReportChange or None
            The change of outcome (situation, candidates, kind or urgency), ``None`` when the
            outcome is the same (the report is still rewritten when any other field differs).
        """
        from icp_notify.server.explain import ReportChange

        old = record.report
        if new.model_dump(mode="json") != old.model_dump(mode="json"):
            self.store.update_report(record.id, new)
        if _outcome(old) == _outcome(new):
            return None
        return ReportChange.between(record, old, new)

    def reexplain(self, filing: str) -> list[ReportChange]:
        """Re-explain every stored notice of ``filing`` with its current operations.

        Each notice is classified again with the filing's operations (including any registered
        after it arrived) and the notices stored before it; changed reports are stored through
        :meth:`replace_report`. The advice is computed as of the time the notice was stored.

        Parameters
        ----------
        filing : str
            The filing.

        Returns
        -------
        list of ReportChange
            The notices whose situation (candidates, kind or urgency) changed, oldest first.
        """
        records: list[StoredNotice] = []
        cursor: str | None = None
        while True:
            page, cursor = self.store.list_notices(
                NoticeQuery(filing=filing), limit=200, cursor=cursor
            )
            records.extend(page)
            if cursor is None or len(records) >= _REEXPLAIN_LIMIT:
                break
        changes = []
        for record in sorted(records[:_REEXPLAIN_LIMIT], key=lambda r: r.id):
            context = self.store.context_before(record, notices=self.context_notices)
            new = self.pipeline.analyze(
                record.raw_text,
                channel=record.channel,
                sender=record.sender,
                received_at=record.received_at,
                context=context,
                now=record.stored_at,
                lang=record.report.advice.lang,
            )
            change = self.replace_report(record, new)
            if change is not None:
                changes.append(change)
        return changes

    def reclassify(self) -> tuple[int, int]:
        """Recompute every stored report; return ``(seen, changed)``.

        A notice counts as changed when its situation, candidates, kind or urgency changed.
        Each notice is reclassified with its filing's operations and the notices stored
        before it; the advice is computed as of the time it was stored.

        Returns
        -------
        tuple of (int, int)
            ``(seen, changed)``.
        """
        seen = changed = 0
        for record in self.store.iter_notices():
            seen += 1
            context = self.store.context_before(record, notices=self.context_notices)
            old = record.report
            new = self.pipeline.analyze(
                record.raw_text,
                channel=record.channel,
                sender=record.sender,
                received_at=record.received_at,
                context=context,
                now=record.stored_at,
                lang=old.advice.lang,
            )
            if self.replace_report(record, new) is not None:
                changed += 1
        return seen, changed


_REEXPLAIN_LIMIT = 1000
"""The latest notices of a filing :meth:`NoticeService.reexplain` looks at."""


def _outcome(report: Report) -> tuple[object, ...]:
    """What counts as a change on reclassification: situation, candidates, kind, urgency."""
    cls = report.classification
    return (cls.situation, cls.candidates, cls.kind, report.advice.urgency)
