"""Label one message at a time with one pipeline and bounded per-run caches.

A repeated message reuses the cached :class:`~icp_notify.models.Report` of its parse entry:
``report.model_copy(update=...)`` with the row's own notice (``received_at``, ``source``) and
its advice, whose time-dependent parts come from the advisor's public
:meth:`~icp_notify.advisor.Advisor.timing` and :meth:`~icp_notify.advisor.Advisor.compose`.
Pydantic serialises the row; :class:`~icp_notify.batch.jsontext.ModelText` keeps each cached
model's JSON per field, so a repeat serialises only the fields it changes.

Examples
--------
>>> from icp_notify.models import RawMessage
>>> labeller = Labeller(now="2025-03-06T12:00:00")
>>> text = "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
>>> a = labeller.label_message(0, RawMessage(text=text, received_at="2025-03-05T09:00:00+08:00"))
>>> b = labeller.label_message(1, RawMessage(text=text, received_at="2025-03-05T10:00:00+08:00"))
>>> b["notice"]["received_at"], b["classification"] == a["classification"], labeller.cache_hits
('2025-03-05T10:00:00+08:00', True, 1)
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from pydantic_core import to_jsonable_python

from icp_notify._version import __version__
from icp_notify.batch.jsontext import ModelText, dumps, fields_text
from icp_notify.batch.rows import LabelledRow, Row, error_row, row_source
from icp_notify.errors import IcpNotifyError, InputError
from icp_notify.models import (
    Advice,
    Classification,
    Context,
    Notice,
    RawMessage,
    Report,
    SourceRef,
)

__all__ = [
    "ADVICE_MEMO",
    "CACHE_SIZE",
    "LabelledLine",
    "Labeller",
    "LruCache",
    "PipelineLike",
    "classification_inputs",
    "line_labeller",
]

CACHE_SIZE = 2048
"""Entries kept in each per-run cache (least recently used dropped first); bounds memory."""

ADVICE_MEMO = 4
"""Advices kept per parse entry (by timing); a time-independent advice is composed once."""


class PipelineLike(Protocol):
    """What :class:`Labeller` needs from a pipeline (``icp_notify.pipeline.Pipeline`` or a fake)."""

    def analyze_notice(
        self,
        notice: Notice,
        context: Context | None = None,
        now: dt.datetime | str | None = None,
        lang: str = "zh",
    ) -> Any:
        """Classify and advise one parsed notice; return a Report.

        Parameters
        ----------
        notice : Notice
            The parsed notice.
        context : Context, optional
            The message's own context.
        now : datetime or ISO string, optional
            The clock for the advice.
        lang : {"zh", "en"}
            Advice language.

        Returns
        -------
        Report
        """
        ...


class LruCache:
    """A least-recently-used dict of at most ``size`` entries (bounded memory).

    Parameters
    ----------
    size : int
        The most entries kept.

    Examples
    --------
    >>> c = LruCache(2)
    >>> c.put("a", 1); c.put("b", 2); _ = c.get("a"); c.put("c", 3)
    >>> c.get("b") is None, c.get("a"), len(c)
    (True, 1, 2)
    """

    __slots__ = ("_data", "size")

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self.size = size

    def get(self, key: Any) -> Any:
        """The value for ``key`` (now the most recently used), or ``None``.

        Parameters
        ----------
        key : hashable
            The cache key.

        Returns
        -------
        Any
            The value, or ``None`` when absent.
        """
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        """Store ``value``; drop the least recently used entry when over ``size``.

        Parameters
        ----------
        key : hashable
            The cache key.
        value : Any
            What to keep (not ``None``).
        """
        self._data[key] = value
        if len(self._data) > self.size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def classification_inputs(notice: Notice) -> tuple[Any, ...]:
    """Exactly what a classification without context reads from a notice (the cache key).

    ``Classifier.classify_notice(notice, None)`` reads: the rules — ``notice.text`` and the
    e-mail ``subject`` (patterns, vetoes, the bare-URL test), ``channel``, ``sender`` (sender
    patterns), ``sender_type`` and whether ``entities.urls`` is empty; the signature rules —
    ``signature`` and ``channel``; the text model — the tokens of ``subject`` + ``text``. Without
    context the context policy is not consulted, and :func:`~icp_notify.classifier.decide` reads
    the evidence only. Nothing else of the notice (arrival time, recipient, entity values,
    source) can change the result, so notices equal on this key share one classification.

    Entity values inside the text are part of the key on purpose: rules read them (a look-alike
    ``beian``/``miit`` domain is phishing, verification codes and phone numbers are matched by
    pattern) and evidence records the matched text and its span. ``tests/batch/test_labeller.py``
    checks on the whole corpus that cached and uncached reports are identical.

    Parameters
    ----------
    notice : Notice
        A parsed notice.

    Returns
    -------
    tuple
        ``(text, subject, channel, sender, sender_type, signature, has_urls)``; hashable.

    Examples
    --------
    >>> a = Notice(raw_text="x", text="您的备案已通过", subject="a")
    >>> classification_inputs(a) == classification_inputs(a.model_copy(update={"raw_text": "y"}))
    True
    >>> classification_inputs(a) == classification_inputs(a.model_copy(update={"subject": "b"}))
    False
    """
    return (
        notice.text,
        notice.subject,
        notice.channel,
        notice.sender,
        notice.sender_type,
        notice.signature,
        bool(notice.entities.urls),
    )


class LabelledLine:
    """A labelled row as its :class:`~icp_notify.models.Report` and JSON line (no dicts built).

    :meth:`row` gives the :class:`~icp_notify.batch.rows.LabelledRow` (``json.loads`` of the
    line) that :func:`~icp_notify.batch.label` yields; the CLI writes :attr:`json` and counts
    from :attr:`report`.

    Parameters
    ----------
    seq : int
        The row's ``seq``.
    line : str
        The row's JSON line.
    report : Report
        The row's report, or the cached report it is a copy of.
    notice : dict, optional
        The row's own notice fields (``received_at``, ``source``); with ``advice``, the row's
        :attr:`report` is the cached report's copy with them, made when first read.
    advice : Advice, optional
        The row's advice.

    Examples
    --------
    >>> from icp_notify.models import RawMessage
    >>> line = Labeller(lang="en").label_line(
    ...     1, RawMessage(text="【示例云】您的网站 qingmu-demo.cn 已完成取消接入。"))
    >>> line.seq, line.report.classification.situation.value, line.row()["seq"]
    (1, 'access_cancelled', 1)
    """

    __slots__ = ("_advice", "_notice", "_report", "json", "seq")

    def __init__(
        self,
        seq: int,
        line: str,
        report: Report,
        notice: dict[str, Any] | None = None,
        advice: Advice | None = None,
    ) -> None:
        self.seq = seq
        self.json = line
        self._report = report
        self._notice = notice
        self._advice = advice

    @property
    def report(self) -> Report:
        """The row's report: the cached report's ``model_copy`` with the row's own fields."""
        if self._notice is not None:
            notice = self._report.notice.model_copy(update=self._notice)
            self._report = self._report.model_copy(
                update={"notice": notice, "advice": self._advice}
            )
            self._notice = None
        return self._report

    @property
    def source(self) -> dict[str, Any] | None:
        """The row's ``source`` (its fields that are not ``None``; the progress bar reads it)."""
        own = self._notice
        return row_source(self._report.notice.source if own is None else own["source"])

    @property
    def situation(self) -> str:
        """The situation as the summary counts it (``ambiguous`` when undecided)."""
        situation = self._report.classification.situation
        return "ambiguous" if situation is None else situation.value

    @property
    def urgency(self) -> str:
        """The advice's urgency."""
        advice = self._report.advice if self._advice is None else self._advice
        return str(advice.urgency.value)

    def row(self) -> LabelledRow:
        """The row as a fresh dict (nothing shared with the caches), keeping its line."""
        row = LabelledRow(json.loads(self.json))
        row.json = self.json
        return row


class _Entry:
    """A parse cache entry: the notice, its report once labelled, and their JSON texts."""

    __slots__ = ("advice_text", "advices", "ckey", "classified", "notice", "notice_text", "report")

    def __init__(self, notice: Notice) -> None:
        self.notice = notice
        self.notice_text = ModelText(notice)
        self.ckey = classification_inputs(notice)
        self.classified: tuple[Classification, str] | None = None
        self.report: Report | None = None
        self.advice_text: ModelText | None = None  # the first advice's, shared by the others
        # advice (and its JSON text) by timing; a handful of timings repeat, the rest vary
        self.advices: dict[tuple[Any, ...], tuple[Advice, str]] = {}


class Labeller:
    """Label messages one by one with one pipeline and bounded per-run caches.

    Two caches, each a least-recently-used dict of at most :data:`CACHE_SIZE` entries (so memory
    does not grow with the archive), keyed on exactly what determines their result:

    * parsing, on the raw text, channel, sender, subject and reader defects; reused for another
      arrival time only when the notice has no date mention (the arrival time only resolves
      dates' years);
    * classification, on :func:`classification_inputs`; never for a message with context.

    A repeat reuses its parse entry's ``Report`` through ``model_copy(update=...)`` with its own
    notice fields and advice. The advice is :meth:`Advisor.compose` of :meth:`Advisor.timing`
    (what ``Advisor.advise`` does); per entry, the advices of the last few timings are kept
    (:data:`ADVICE_MEMO`), so an advice that does not depend on the arrival time is composed once.

    Parameters
    ----------
    pipeline : Pipeline, optional
        Defaults to ``icp_notify.pipeline.Pipeline.default()`` (loaded on first use). A
        pipeline with ``classifier.classify_notice`` and an :class:`~icp_notify.advisor.Advisor`
        gets the caches; any object with ``analyze_notice`` works without them.
    lang : {"zh", "en"}
        Advice language.
    now : datetime or ISO str, optional
        The clock the advice is computed against.
    parse : callable, optional
        ``parse(RawMessage) -> Notice``; defaults to :func:`icp_notify.parse.parse`.
    cache : bool
        ``False`` turns every cache off (each row is computed from scratch; for tests).

    Examples
    --------
    >>> from icp_notify.models import RawMessage
    >>> labeller = Labeller(lang="en")
    >>> msg = RawMessage(text="【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。")
    >>> first, repeat = labeller.label_message(1, msg), labeller.label_message(2, msg)
    >>> first["classification"] == repeat["classification"], repeat["seq"]
    (True, 2)
    """

    def __init__(
        self,
        pipeline: Any = None,
        *,
        lang: str = "zh",
        now: dt.datetime | str | None = None,
        parse: Callable[[RawMessage], Notice] | None = None,
        cache: bool = True,
    ) -> None:
        if pipeline is None:
            from icp_notify.pipeline import Pipeline

            pipeline = Pipeline.default()
        if parse is None:
            parse = getattr(pipeline, "parse_message", None)
        if parse is None:
            from icp_notify.parse import parse as parse_fn

            parse = parse_fn
        self.pipeline = pipeline
        self.lang = lang
        self.now = now
        self.cache = cache
        self.parse = parse
        self._classify = getattr(getattr(pipeline, "classifier", None), "classify_notice", None)
        self._advisor = getattr(pipeline, "advisor", None)
        self._parsed = LruCache(CACHE_SIZE)
        self._classified = LruCache(CACHE_SIZE)
        self._version = dumps(__version__)
        self.cache_hits = 0
        self._clock = self._cached_clock()

    def _cached_clock(self) -> tuple[Any, Any] | None:
        """``(advisor, now)`` when rows go through the caches, else ``None``.

        Only for the package's own :class:`~icp_notify.advisor.Advisor` (whose ``advise`` is
        ``compose`` of ``timing``), a valid language and clock, with caching on.
        """
        from icp_notify.advisor import LANGS, Advisor, parse_now

        advisor = self._advisor
        if not self.cache or self._classify is None or not isinstance(advisor, Advisor):
            return None
        if type(advisor).advise is not Advisor.advise or self.lang not in LANGS:
            return None
        try:
            return advisor, parse_now(self.now)
        except InputError:
            return None

    classification_key = staticmethod(classification_inputs)
    """The classification cache key (:func:`classification_inputs`)."""

    # ------------------------------------------------------------------ rows

    def label_message(self, seq: int, msg: RawMessage) -> Row:
        """Label one message; bad input becomes an error row, never an exception.

        Parameters
        ----------
        seq : int
            The message's position in the input stream.
        msg : RawMessage
            The message as read.

        Returns
        -------
        dict
            A labelled row (a :class:`~icp_notify.batch.rows.LabelledRow`) or an error row.
        """
        out = self.label_line(seq, msg)
        return out.row() if isinstance(out, LabelledLine) else out

    def label_line(self, seq: int, msg: RawMessage) -> LabelledLine | Row:
        """:meth:`label_message` with a labelled row left as a :class:`LabelledLine`.

        Parameters
        ----------
        seq : int
            The message's position in the input stream.
        msg : RawMessage
            The message as read.

        Returns
        -------
        LabelledLine or dict
            The labelled row, or an error row.
        """
        try:
            if self._clock is not None and msg.context is None:
                return self._cached_line(seq, msg, *self._clock)
            return self._full_line(seq, msg)
        except InputError as exc:
            return error_row(seq, msg, exc.code, exc.message, exc.where)
        except IcpNotifyError as exc:
            return error_row(seq, msg, "failed", str(exc))

    def _line(
        self,
        seq: int,
        source: SourceRef | None,
        report: Report,
        report_text: str,
        own: tuple[dict[str, Any], Advice] | None = None,
    ) -> LabelledLine:
        """The row: ``seq`` and ``source`` (:func:`row_source`), then the report."""
        line = f'{{"seq": {seq}, "source": {dumps(row_source(source))}, {report_text[1:]}'
        if own is None:
            return LabelledLine(seq, line, report)
        return LabelledLine(seq, line, report, *own)

    def _full_line(self, seq: int, msg: RawMessage) -> LabelledLine:
        """A row computed from scratch (a message with context, caching off, another pipeline)."""
        notice = self.parse(msg)
        advisor = self._advisor
        if self._classify is None or advisor is None or not hasattr(advisor, "advise"):
            report = self.pipeline.analyze_notice(
                notice, context=msg.context, now=self.now, lang=self.lang
            )
        else:
            classification = self._classify(notice, msg.context)
            advice = advisor.advise(classification, notice, now=self.now, lang=self.lang)
            report = Report(
                notice=notice, classification=classification, advice=advice, version=__version__
            )
        data = report.model_dump(mode="json")
        return self._line(seq, report.notice.source, report, dumps(data))

    def _classification(self, entry: _Entry) -> tuple[Classification, str]:
        """The classification of a notice without context, and its JSON text."""
        if entry.classified is not None:
            self.cache_hits += 1
            return entry.classified
        assert self._classify is not None
        cached = self._classified.get(entry.ckey)
        if cached is not None:
            self.cache_hits += 1
        else:
            result = self._classify(entry.notice, None)
            cached = (result, dumps(result.model_dump(mode="json")))
            self._classified.put(entry.ckey, cached)
        entry.classified = cached
        return cached  # type: ignore[no-any-return]

    def _cached_line(self, seq: int, msg: RawMessage, advisor: Any, now: Any) -> LabelledLine:
        """Label a message without context through the caches (the path of most rows)."""
        key = (msg.text, msg.channel, msg.sender, msg.subject, msg.defects)
        received_at = msg.received_at
        entry: _Entry | None = self._parsed.get(key)
        # the arrival time only resolves the year of dates: reuse when there are none
        if entry is None or not (
            entry.notice.received_at == received_at or not entry.notice.entities.dates
        ):
            entry = _Entry(self.parse(msg))
            self._parsed.put(key, entry)
        notice = entry.notice
        classification, classification_text = self._classification(entry)
        lang = self.lang
        # the notice's own fields (received_at, source) are the row's: Advisor.timing takes the
        # arrival time, and the notice copy is made only when the row's report is asked for
        timing = advisor.timing(classification, notice, now=now, received_at=received_at)
        texts = timing.texts(lang)
        advice_key = (
            timing.key,
            timing.after,
            timing.deadline_passed,
            texts,
            _iso(timing.reachable_after),
            _iso(timing.deadline),
            timing.wait,
        )
        known = entry.advices.get(advice_key)
        if known is None:
            # compose reads the classification, the language, the timing and the notice's
            # provider, domains and numbers (not its arrival time): Advisor.advise's two halves
            advice = advisor.compose(classification, notice, lang, timing, texts)
            if entry.advice_text is None:
                entry.advice_text = ModelText(advice)
                known = (advice, entry.advice_text.text())
            else:  # pydantic serialises the fields the timing can change (Advisor.TIMED_FIELDS)
                timed = advice.model_dump(mode="json", include=set(advisor.TIMED_FIELDS))
                known = (advice, entry.advice_text.splice(timed))
            if len(entry.advices) >= ADVICE_MEMO:
                entry.advices.clear()
            entry.advices[advice_key] = known
        advice, advice_text = known
        if entry.report is None:
            entry.report = Report(
                notice=notice, classification=classification, advice=advice, version=__version__
            )
        source = msg.source
        own = {
            "received_at": to_jsonable_python(received_at),
            "source": None if source is None else source.model_dump(mode="json"),
        }
        report_text = fields_text(
            Report,
            {
                "notice": entry.notice_text.splice(own),
                "classification": classification_text,
                "advice": advice_text,
                "version": self._version,
            },
        )
        row_own = ({"received_at": received_at, "source": source}, advice)
        return self._line(seq, source, entry.report, report_text, row_own)


def _iso(value: dt.datetime | None) -> str | None:
    """A time as its ISO text (with its offset: equal instants in two zones differ)."""
    return None if value is None else value.isoformat()


_LABEL_MESSAGE = Labeller.label_message


def line_labeller(labeller: Labeller) -> Callable[[int, RawMessage], LabelledLine | Row]:
    """``labeller.label_line``, unless ``label_message`` was overridden (then that).

    Parameters
    ----------
    labeller : Labeller
        The labeller of a run.

    Returns
    -------
    callable
        ``(seq, message) -> LabelledLine | dict``.

    Examples
    --------
    >>> labeller = Labeller(lang="en")
    >>> line_labeller(labeller) == labeller.label_line
    True
    """
    if type(labeller).label_message is _LABEL_MESSAGE:
        return labeller.label_line
    return labeller.label_message
