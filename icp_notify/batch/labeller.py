"""Label one message at a time with one pipeline and bounded per-run caches.

A repeated message reuses the cached :class:`~icp_notify.models.Report` of its parse entry:
``report.model_copy(update=...)`` with the row's own notice (``received_at``, ``source``) and
its advice. The advice is composed once per entry (:meth:`~icp_notify.advisor.Advisor.timing`
and :meth:`~icp_notify.advisor.Advisor.compose`, what ``Advisor.advise`` does); when the
advisor says it reads the arrival time (:meth:`~icp_notify.advisor.Advisor.arrival_matters`),
each row gets it re-timed by :meth:`~icp_notify.advisor.Advisor.retime`. Pydantic serialises
the row: :class:`~icp_notify.batch.jsontext.ModelText` keeps each cached model's JSON per
field, so a repeat serialises only its own fields (source, arrival time) and the advice fields
re-timing changed; the rest of the row's text is joined once per entry.

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

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from icp_notify._version import __version__
from icp_notify.batch.jsontext import ModelText, dumps, fields_text, segments_of
from icp_notify.batch.rows import LabelledLine, Row, error_row, row_source, source_forms
from icp_notify.errors import IcpNotifyError, InputError
from icp_notify.models import (
    Advice,
    AwareDatetime,
    Channel,
    Classification,
    Context,
    Notice,
    RawMessage,
    Report,
    SourceRef,
)

__all__ = [
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


class _Advised:
    """A parse entry's advice with its timing and texts."""

    __slots__ = ("advice", "tail", "text", "timing")

    def __init__(self, advice: Advice, timing: Any, entry: _Entry) -> None:
        self.advice = advice
        self.timing = timing
        self.text = ModelText(advice)
        # the advice's text and UTF-8: the row after the notice's source is entry.tail around it
        self.tail = entry.advice_forms(self.text.text())


def _utf8(text: str) -> bytes | None:
    """``text`` as UTF-8, ``None`` when it holds a lone surrogate (then rows are made as text)."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return None


class _Entry:
    """A parse cache entry: the notice, its report once labelled, and the texts of its rows."""

    __slots__ = (
        "advised",
        "ckey",
        "classified",
        "dated",
        "notice",
        "pieces",
        "report",
        "tail",
        "timed",
        "utf8",
    )

    def __init__(self, notice: Notice, sender_read: bool) -> None:
        self.notice = notice
        key = classification_inputs(notice)
        # the sender itself is read only by rules with sender patterns (its type is kept)
        self.ckey = key if sender_read else (*key[:3], None, *key[4:])
        self.dated = bool(notice.entities.dates)  # the arrival time resolved their years
        self.classified: tuple[Classification, str] | None = None
        self.report: Report | None = None
        self.timed = False  # the advice reads the arrival time (Advisor.arrival_matters)
        self.advised: _Advised | None = None  # the advice last composed, re-timed per row
        # the row is pieces[0] + received_at + pieces[1] + source + <after the source>, made
        # as UTF-8 bytes (the CLI writes them as they are) unless a text holds a lone surrogate
        self.pieces: tuple[str, str] = ("", "")
        self.tail: tuple[str, str] = ("", "")  # around the advice's text, after the source
        self.utf8: tuple[bytes, bytes, bytes, bytes] | None = None  # the four, as UTF-8

    def advice_forms(self, advice_text: str) -> tuple[str, bytes | None]:
        """The advice's text, and as UTF-8 (``None`` when the row is made as text). The row
        after the notice's source is ``tail[0] + advice_text + tail[1]``."""
        if self.utf8 is None:
            return advice_text, None
        return advice_text, _utf8(advice_text)


class Labeller:
    """Label messages one by one with one pipeline and bounded per-run caches.

    Two caches, each a least-recently-used dict of at most :data:`CACHE_SIZE` entries (so memory
    does not grow with the archive), keyed on exactly what determines their result:

    * parsing, on the raw text, channel, sender, subject and reader defects; reused for another
      arrival time only when the notice has no date mention (the arrival time only resolves
      dates' years);
    * classification, on :func:`classification_inputs` (without the sender itself when no
      rule has sender patterns: then only its type is read); never for a message with context.

    The classifications go through the pipeline classifier with its text model behind a
    :class:`~icp_notify.batch.memo.ModelMemo` (answers kept per token sequence, so notices
    that differ only in entity values share the model's pass; the rules still run for each),
    and a notice that differs from a classified one only in its ASCII digits gets that
    classification with its evidence's matched text read from its own text, where that is
    proven (:class:`~icp_notify.batch.template.DigitTemplates`).

    A repeat reuses its parse entry's ``Report`` through ``model_copy(update=...)`` with its own
    notice fields and advice. The advice is :meth:`Advisor.compose` of :meth:`Advisor.timing`
    (what ``Advisor.advise`` does), once per entry; when :meth:`Advisor.arrival_matters`, each
    row's is :meth:`Advisor.retime` of it for the row's arrival time.

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
        classifier = getattr(pipeline, "classifier", None)
        self._classify = getattr(classifier, "classify_notice", None)
        # the cached path: the text model's answers kept per tokens (batch/memo.py)
        self._classify_cached = self._classify
        if cache and self._classify is not None:
            from icp_notify.batch.memo import memo_classifier

            self._classify_cached = memo_classifier(classifier).classify_notice
        # notices that differ only in their digits share one classification (batch/template.py)
        self._templates: Any = None
        if cache and self._classify is not None:
            from icp_notify.batch.template import DigitTemplates

            templates = DigitTemplates(classifier)
            self._templates = templates if templates.enabled else None
        self._sender_read = _reads_sender(classifier)
        self._advisor = getattr(pipeline, "advisor", None)
        self._parsed = LruCache(CACHE_SIZE)
        self._parsed_data = self._parsed._data
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

    def _line(self, seq: int, source: SourceRef | None, report: Report, text: str) -> LabelledLine:
        """The row: ``seq`` and ``source`` (:func:`row_source`), then the report's ``text``."""
        return LabelledLine(
            seq, f'{{"seq": {seq}, "source": {dumps(row_source(source))}, {text[1:]}', report
        )

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
        assert self._classify_cached is not None
        cached = self._classified.get(entry.ckey)
        if cached is not None:
            self.cache_hits += 1
        else:
            cached = self._templated(entry.notice)
            self._classified.put(entry.ckey, cached)
        entry.classified = cached
        return cached  # type: ignore[no-any-return]

    def _templated(self, notice: Notice) -> tuple[Classification, str]:
        """A new notice's classification and its JSON text: derived from its digit template
        (:class:`~icp_notify.batch.template.DigitTemplates`) when one is kept, else the full
        pass (then kept as its template's)."""
        templates = self._templates
        key = None if templates is None else templates.key(notice)
        if key is not None:
            assert templates is not None
            found = templates.derive_text(key, notice)
            if found is not None:
                derived, text = found
                return derived, dumps(derived.model_dump(mode="json")) if text is None else text
        assert self._classify_cached is not None
        result = self._classify_cached(notice, None)
        cached = (result, dumps(result.model_dump(mode="json")))
        if key is not None:
            assert templates is not None
            templates.put(key, notice, result, cached[1])
        return cached

    def _new_entry(self, msg: RawMessage) -> _Entry:
        """Parse a message and classify it (through the classification cache)."""
        entry = _Entry(self.parse(msg), self._sender_read)
        classification_text = self._classification(entry)[1]
        # the row: {"seq": N, "source": S, "notice": {… "received_at": R, … "source": S′ …},
        # "classification": …, "advice": A, "version": …}
        between, order = segments_of(entry.notice, ("received_at", "source"))
        if order != ("received_at", "source"):  # Notice's field order, which models.py fixes
            raise AssertionError(f"unexpected Notice field order: {order}")
        notice_at, after_source = fields_text(
            Report,
            {
                "notice": "\x00",  # JSON text holds no raw control character
                "classification": classification_text,
                "advice": "\x01",
                "version": self._version,
            },
        ).split("\x00")
        entry.pieces = (", " + notice_at[1:] + between[0], between[1])
        advice_at, version = after_source.split("\x01")
        entry.tail = (between[2] + advice_at, version)
        utf8 = [_utf8(text) for text in (*entry.pieces, *entry.tail)]
        if None not in utf8:
            entry.utf8 = tuple(utf8)  # type: ignore[assignment]
        return entry

    def _cached_line(self, seq: int, msg: RawMessage, advisor: Any, now: Any) -> LabelledLine:
        """Label a message without context through the caches (the path of most rows)."""
        key = (msg.text, msg.channel, msg.sender, msg.subject, msg.defects)
        received_at = msg.received_at
        parsed = self._parsed_data  # (LruCache.get, inlined: the path of every row)
        entry: _Entry | None = parsed.get(key)
        if entry is not None:
            parsed.move_to_end(key)
        # the arrival time only resolves dates' years: reuse without dates or at the same clock
        if entry is None or (
            entry.dated and not _same_clock(entry.notice.received_at, received_at)
        ):
            entry = self._new_entry(msg)
            self._parsed.put(key, entry)
        else:
            self.cache_hits += 1
        # the row's own fields, serialised by pydantic
        source = msg.source
        notice_source, own_source = source_forms(source)
        source_text = dumps(notice_source)
        row_source_text = source_text if own_source is notice_source else dumps(own_source)
        at_text = dumps(to_jsonable_python(received_at))
        own = {"received_at": received_at, "source": source}
        texts = (at_text, source_text, row_source_text)
        return self._entry_line(
            seq, entry, advisor=advisor, now=now, received_at=received_at, texts=texts, own=own
        )

    def label_payload(self, seq: int, payload: bytes) -> LabelledLine | Row:
        """:meth:`label_line` of a message given as pydantic's JSON of it.

        ``payload`` is what ``RawMessage.__pydantic_serializer__.to_json(msg,
        exclude_defaults=True)`` wrote (how messages travel to worker processes). The result is
        ``label_line(seq, RawMessage.model_validate_json(payload))``; a repeat of a cached
        notice without date mentions is labelled from the payload's fields as pydantic wrote
        them (its source and arrival time) without building the message, which is validated
        only when the row's :attr:`~LabelledLine.report` is asked for.

        Parameters
        ----------
        seq : int
            The message's position in the input stream.
        payload : bytes
            The message's JSON, as pydantic writes it without default fields.

        Returns
        -------
        LabelledLine or dict
            The labelled row, or an error row.

        Examples
        --------
        >>> from icp_notify.models import RawMessage
        >>> labeller = Labeller(now="2025-03-06T12:00:00")
        >>> msg = RawMessage(text="【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。")
        >>> a = labeller.label_payload(0, msg.model_dump_json(exclude_defaults=True).encode())
        >>> b = labeller.label_payload(1, msg.model_dump_json(exclude_defaults=True).encode())
        >>> b.json == labeller.label_line(1, msg).json, b.report == a.report
        (True, True)
        """
        clock = self._clock
        if clock is not None:
            try:
                line = self._payload_line(seq, payload, *clock)
            except (IcpNotifyError, ValueError):  # the message's own path says what went wrong
                line = None
            if line is not None:
                return line
        return self.label_line(seq, RawMessage.model_validate_json(payload))

    def _payload_line(
        self, seq: int, payload: bytes, advisor: Any, now: Any
    ) -> LabelledLine | None:
        """A repeat's row from its payload's fields, or ``None`` (then the message is built)."""
        try:
            data = _loads(payload)
        except ValueError:
            return None
        if type(data) is not dict or not _PAYLOAD_KEYS.issuperset(data):
            return None  # context, defects: the message's own path
        get = data.get
        channel = _CHANNELS.get(get("channel", "unknown"))
        text = get("text")
        if channel is None or type(text) is not str:
            return None
        key = (text, channel, get("sender"), get("subject"), ())  # label_line's key; no defects
        parsed = self._parsed_data
        entry: _Entry | None = parsed.get(key)
        if entry is None or entry.dated:  # a parse or a date's year: the message is needed
            return None
        source = get("source")
        if source is not None and len(source) != _SOURCE_FIELDS:
            return None  # a source with None fields: its notice form has them too
        parsed.move_to_end(key)
        self.cache_hits += 1
        at = get("received_at")
        received_at = None
        if at is not None and (entry.advised is None or entry.timed):
            received_at = _AT.validate_python(at)  # the advice reads it
        source_text = dumps(source)  # pydantic's text of the source and time, spaced as rows
        texts = (dumps(at), source_text, source_text)
        return self._entry_line(
            seq, entry, advisor=advisor, now=now, received_at=received_at, texts=texts, own=payload
        )

    def _entry_line(
        self,
        seq: int,
        entry: _Entry,
        *,
        advisor: Any,
        now: Any,
        received_at: dt.datetime | None,
        texts: tuple[str, str, str],
        own: dict[str, Any] | bytes,
    ) -> LabelledLine:
        """The row of a parse entry with the row's own fields (``texts``: arrival time, the
        notice's source, the row's source, as pydantic serialised them)."""
        notice = entry.notice
        classification = entry.classified[0]  # type: ignore[index]
        advised = entry.advised
        if advised is None:
            # the notice's own fields (received_at, source) are the row's: Advisor.timing
            # takes the arrival time, and the notice copy is made only when the row's report
            # is asked for
            timing = advisor.timing(classification, notice, now=now, received_at=received_at)
            advice = advisor.compose(
                classification, notice, self.lang, timing, timing.texts(self.lang)
            )
            entry.timed = advisor.arrival_matters(classification, notice)
            entry.advised = advised = _Advised(advice, timing, entry)
            tail = advised.tail
        elif not entry.timed:  # the same advice for every arrival time
            advice, tail = advised.advice, advised.tail
        else:  # the cached advice re-timed for this arrival time (Advisor.retime)
            base = advised.advice
            was = advised.timing
            advice, timing = advisor.retime(
                base, was, classification, notice, now=now, received_at=received_at
            )
            if advice is base:
                tail = advised.tail
            elif timing.after != was.after or timing.deadline_passed != was.deadline_passed:
                # the other side of the sync wait or the deadline: the entry's advice now
                entry.advised = advised = _Advised(advice, timing, entry)
                tail = advised.tail
            else:  # pydantic serialises the fields re-timing changed (on one side of the
                # wait and deadline, only Advisor.TIMED_FIELDS can change)
                changed = {
                    n for n in advisor.TIMED_FIELDS if getattr(advice, n) is not getattr(base, n)
                }
                text = advised.text.splice(advice.model_dump(mode="json", include=changed))
                tail = entry.advice_forms(text)
        if entry.report is None:
            entry.report = Report(
                notice=notice, classification=classification, advice=advice, version=__version__
            )
        at_text, source_text, row_source_text = texts
        head = f'{{"seq": {seq}, "source": {row_source_text}'
        line: str | bytes | None = None
        utf8 = entry.utf8
        if utf8 is not None and tail[1] is not None:  # the row as UTF-8 bytes
            try:
                mine = (head.encode(), at_text.encode(), source_text.encode())
                line = b"".join(
                    (mine[0], utf8[0], mine[1], utf8[1], mine[2], utf8[2], tail[1], utf8[3])
                )
            except UnicodeEncodeError:  # a lone surrogate in the row's own fields
                line = None
        if line is None:
            pieces = entry.pieces
            around = entry.tail
            line = (
                f"{head}{pieces[0]}{at_text}{pieces[1]}{source_text}{around[0]}{tail[0]}{around[1]}"
            )
        if isinstance(own, bytes):
            return _PayloadLine(seq, line, entry.report, own, advice)
        return LabelledLine(seq, line, entry.report, own, advice)


class _PayloadLine(LabelledLine):
    """A row labelled from a message's payload: the message is validated when the report is
    asked for (its arrival time and source are the row's own fields)."""

    __slots__ = ("_payload",)

    def __init__(
        self, seq: int, line: str | bytes, report: Report, payload: bytes, advice: Advice
    ) -> None:
        super().__init__(seq, line, report, None, advice)
        self._payload: bytes | None = payload

    def _own(self) -> None:
        """Validate the payload into the row's own notice fields (once)."""
        if self._payload is not None:
            msg = RawMessage.model_validate_json(self._payload)
            self._notice = {"received_at": msg.received_at, "source": msg.source}
            self._payload = None

    @property
    def report(self) -> Report:
        """The row's report: the cached report's ``model_copy`` with the row's own fields."""
        self._own()
        return super().report

    @property
    def source(self) -> dict[str, Any] | None:
        """The row's ``source``."""
        self._own()
        return super().source


_loads = json.loads
_PAYLOAD_KEYS = frozenset({"text", "channel", "sender", "received_at", "subject", "source"})
_CHANNELS: dict[Any, Channel] = {channel.value: channel for channel in Channel}
_SOURCE_FIELDS = len(SourceRef.model_fields)
_AT: TypeAdapter[dt.datetime] = TypeAdapter(AwareDatetime)


def _same_clock(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    """The same instant at the same UTC offset (a date's year is read off the local date)."""
    if a is None or b is None:
        return a is b
    return a == b and a.utcoffset() == b.utcoffset()


def _reads_sender(classifier: Any) -> bool:
    """Whether a classification can depend on the sender itself, not only on its type.

    ``Classifier.classify_notice`` without context reads ``notice.sender`` only in the
    condition of rules with sender patterns (``senders``); a classifier of another kind, or rules
    of another kind, count as reading it.
    """
    from icp_notify.classifier import Classifier
    from icp_notify.rules import RuleSet

    rules = getattr(classifier, "rules", None)
    if type(classifier) is not Classifier or not isinstance(rules, RuleSet):
        return True
    return any(rule.senders for rule in rules.rules)


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
