"""Streaming batch labelling of archived notices, shared by the CLI, pandas and Dask.

:func:`label` reads every input (see :mod:`icp_notify.readers.walk`), parses, classifies and
advises each message with one :class:`~icp_notify.pipeline.Pipeline`, and yields one row per
message in input order:

* a labelled row: ``Report.model_dump(mode="json")`` (``notice``, ``classification``,
  ``advice``, ``version``) plus ``seq`` (the message's 0-based position in the input stream,
  which ``--resume`` continues after) and ``source`` (file, line, index …);
* an error row: ``seq``, ``source`` and ``error`` = ``{code, message, source, position}``.

Messages with the same sender, time and text as an earlier one are duplicates: they get no
row and are counted in :class:`Summary` (``read = labelled + errors + duplicates``). The set of
messages seen is exact and bounded in memory (:class:`SeenSet`: 16-byte digests, moved to a
temporary SQLite file past :data:`SEEN_MEMORY_KEYS`).

Three per-run caches, each bounded to :data:`CACHE_SIZE` entries (least recently used dropped),
make archives of repeated templates cheap; each is keyed on exactly what determines its result
(see :class:`Labeller`): parsing on the raw message, classification on
:func:`classification_inputs` (never for a message with context), advice only when its entry
does not read the arrival time. A labelled row carries its JSON line (:class:`LabelledRow`),
assembled from JSON fragments cached with each entry, so a repeat costs no re-serialisation.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "n.txt"
>>> _ = p.write_text("【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。\\n", encoding="utf-8")
>>> summary = Summary()
>>> rows = list(label([p], summary=summary))
>>> rows[0]["classification"]["ambiguous"], rows[0]["seq"], summary.read == summary.labelled == 1
(True, 0, True)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring, encode_basestring_ascii
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from icp_notify._version import __version__
from icp_notify.errors import IcpNotifyError, InputError
from icp_notify.models import (
    Advice,
    Classification,
    Context,
    Notice,
    RawMessage,
    ReadError,
    Situation,
    SourceRef,
)

if TYPE_CHECKING:
    import pandas as pd

    from icp_notify.readers.walk import InputFormat

Row = dict[str, Any]
"""One output row (a JSON object): a labelled report or an error, with ``seq`` and ``source``."""

CACHE_SIZE = 2048
"""Entries kept in each per-run cache (least recently used dropped first); bounds memory."""

SEEN_MEMORY_KEYS = 1 << 16
"""Duplicate-detection digests kept in memory before they move to a temporary SQLite file."""

CHUNK_SIZE = 256
"""Messages sent to a worker process at a time."""

FRAME_COLUMNS: tuple[str, ...] = (
    "situation",
    "ambiguous",
    "candidates",
    "confidence",
    "kind",
    "urgency",
    "action",
    "error",
)
"""Columns :func:`label_frame` adds."""


class PipelineLike(Protocol):
    """What :func:`label` needs from a pipeline (``icp_notify.pipeline.Pipeline`` or a fake)."""

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


class Summary(BaseModel):
    """Counts of one batch run (``read = labelled + errors + duplicates``).

    Examples
    --------
    >>> s = Summary()
    >>> s.add({"seq": 0, "error": {"code": "bad_row", "message": "..."}})
    >>> s.read, s.errors, s.consistent
    (1, {'bad_row': 1}, True)
    """

    read: int = 0
    labelled: int = 0
    errors: dict[str, int] = Field(default_factory=dict)
    duplicates: int = 0
    situations: dict[str, int] = Field(
        default_factory=dict, description="'ambiguous' when undecided"
    )
    urgencies: dict[str, int] = Field(default_factory=dict)
    files_written: list[str] = Field(default_factory=list)
    resumed_after: int | None = Field(
        default=None, description="seq of the last row of an earlier run"
    )
    cache_hits: int = 0

    @property
    def error_count(self) -> int:
        """Total error rows."""
        return sum(self.errors.values())

    @property
    def consistent(self) -> bool:
        """Whether ``read == labelled + errors + duplicates``."""
        return self.read == self.labelled + self.error_count + self.duplicates

    @property
    def unopened(self) -> int:
        """Inputs that could not be opened at all (``not_found`` / ``unreadable`` errors)."""
        return self.errors.get("not_found", 0) + self.errors.get("unreadable", 0)

    def add(self, row: Row) -> None:
        """Count one output row.

        Parameters
        ----------
        row : dict
            A labelled row or an error row from :func:`label`.
        """
        error = row.get("error")
        if error is not None:
            self.read += 1
            code = str(error.get("code", "error"))
            self.errors[code] = self.errors.get(code, 0) + 1
            return
        self.add_labelled(
            row["classification"]["situation"] or "ambiguous", row["advice"]["urgency"]
        )

    def add_labelled(self, situation: str, urgency: str) -> None:
        """Count one labelled row by its situation (``ambiguous`` when undecided) and urgency.

        Parameters
        ----------
        situation : str
            The row's situation, or ``"ambiguous"``.
        urgency : str
            The advice's urgency.
        """
        self.read += 1
        self.labelled += 1
        self.situations[situation] = self.situations.get(situation, 0) + 1
        self.urgencies[urgency] = self.urgencies.get(urgency, 0) + 1

    def format(self) -> str:
        """A few human-readable lines for stderr.

        Returns
        -------
        str
            Counts, then errors, situations, urgencies and files written when there are any.

        Examples
        --------
        >>> print(Summary(read=3, labelled=2, duplicates=1, situations={"other": 2}).format())
        read 3: labelled 2, errors 0, duplicates 1
        situations: other 2
        """
        lines = [
            f"read {self.read}: labelled {self.labelled}, errors {self.error_count}, duplicates {self.duplicates}"
        ]
        if self.resumed_after is not None:
            lines.append(f"resumed after row seq {self.resumed_after}")
        if self.errors:
            lines.append("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())))
        if self.situations:
            lines.append(
                "situations: " + ", ".join(f"{k} {v}" for k, v in sorted(self.situations.items()))
            )
        if self.urgencies:
            lines.append(
                "urgencies: " + ", ".join(f"{k} {v}" for k, v in sorted(self.urgencies.items()))
            )
        if self.files_written:
            lines.append("written: " + ", ".join(self.files_written))
        return "\n".join(lines)


# --------------------------------------------------------------------------- rows


def _source_json(item: RawMessage | ReadError) -> dict[str, Any] | None:
    return None if item.source is None else item.source.model_dump(mode="json", exclude_none=True)


def error_row(
    seq: int, item: ReadError | RawMessage, code: str, message: str, position: str | None = None
) -> Row:
    """Build an error row.

    Parameters
    ----------
    seq : int
        The message's position in the input stream.
    item : ReadError or RawMessage
        What could not be read or labelled; its ``source`` goes into the row.
    code : str
        Machine-readable error code (``bad_row``, ``empty``, …).
    message : str
        What went wrong, for people.
    position : str, optional
        Where in the message (a field name) when known.

    Returns
    -------
    dict
        ``{"seq", "source", "error": {code, message, source, position}}``.

    Examples
    --------
    >>> from icp_notify.models import ReadError, SourceRef
    >>> e = ReadError(code="bad_row", message="3 columns", source=SourceRef(file="a.csv", line=4))
    >>> error_row(7, e, e.code, e.message)
    {'seq': 7, 'source': {'file': 'a.csv', 'line': 4}, 'error': {'code': 'bad_row', 'message': '3 columns', 'source': {'file': 'a.csv', 'line': 4}, 'position': None}}
    """
    source = _source_json(item)
    return {
        "seq": seq,
        "source": source,
        "error": {"code": code, "message": message, "source": source, "position": position},
    }


class _Cache:
    """A least-recently-used dict of at most ``size`` entries (bounded memory)."""

    __slots__ = ("_data", "size")

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self.size = size

    def get(self, key: Any) -> Any:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self._data[key] = value
        if len(self._data) > self.size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class LabelledRow(dict[str, Any]):
    """A labelled row (a plain ``dict``) that also carries its JSON line, built once.

    ``json`` equals ``json.dumps(row, ensure_ascii=False)``; :func:`write_rows` writes it
    instead of serialising the row again. Each row owns its dicts (built from ``json``; the
    caches keep only immutable models and JSON text), so changing a row changes nothing else.
    Change ``json`` too if you change a row that :func:`write_rows` will write.
    """

    __slots__ = ("json",)

    json: str


_SLOT_RECEIVED = "\x00received_at\x00"
_SLOT_SOURCE = "\x00source\x00"
_SLOTS = {json.dumps(_SLOT_RECEIVED): "received_at", json.dumps(_SLOT_SOURCE): "source"}


def _cut(text: str, slots: dict[str, str]) -> tuple[str, ...]:
    """``text`` cut around every occurrence of the ``slots`` tokens: ``(text, name, text, …)``."""
    pieces: list[str] = []
    while True:
        found = [(text.find(token), token) for token in slots if token in text]
        if not found:
            pieces.append(text)
            return tuple(pieces)
        at, token = min(found)
        pieces.extend((text[:at], slots[token]))
        text = text[at + len(token) :]


def _template(notice_json: dict[str, Any]) -> tuple[str, ...]:
    """The notice's JSON cut around its two per-row values: ``(text, slot, text, slot, text)``."""
    text = json.dumps(
        {**notice_json, "received_at": _SLOT_RECEIVED, "source": _SLOT_SOURCE}, ensure_ascii=False
    )
    return _cut(text, _SLOTS)


# Advice texts written with these marks for the two times (Advisor.compose), and the advice's
# JSON with these tokens for its three time fields, make an advice template (_AdviceTemplate).
_MARK_REACHABLE = "\x00reachable_after\x00"
_MARK_DEADLINE = "\x00deadline\x00"
_MARKS = {_MARK_REACHABLE: "reachable_text", _MARK_DEADLINE: "deadline_text"}
_FIELD_TOKENS = {
    "reachable_after": "\x00@reachable_after\x00",
    "wait": "\x00@wait\x00",
    "deadline": "\x00@deadline\x00",
}
_ADVICE_SLOTS = {
    **{json.dumps(mark)[1:-1]: name for mark, name in _MARKS.items()},
    **{json.dumps(token): name for name, token in _FIELD_TOKENS.items()},
}
_DIGITS = str.maketrans("0123456789", "0000000000")
_INERT: dict[str, bool] = {}


def _inert(time_text: str) -> bool:
    """Whether writing ``time_text`` in place of a mark gives what :func:`advisor._fill` gives.

    ``_fill`` tidies a filled text by removing two-character patterns that hold a space
    (``"  "``, a space before a Chinese closing mark, after an opening mark), then strips it
    and (English) capitalises a leading ``your``/``the``/…. A mark (``\x00…\x00``) takes part in
    none of these, and neither does a time text that holds no such pattern, starts with a
    digit and does not end in a space or an opening mark: the tidying then acts on the same
    characters around either, so the results differ only by the mark → text substitution.
    Digits play no part, so the answer is kept per shape (digits as ``0``; a few shapes).
    """
    shape = time_text.translate(_DIGITS)
    known = _INERT.get(shape)
    if known is None:
        from icp_notify.advisor import _ZH_CLOSING, _ZH_OPENING

        known = bool(
            shape[:1] == "0"
            and not shape[-1].isspace()
            and shape[-1] not in _ZH_OPENING
            and "  " not in shape
            and not any(" " + mark in shape for mark in _ZH_CLOSING)
            and not any(mark + " " in shape for mark in _ZH_OPENING)
        )
        if len(_INERT) < 256:
            _INERT[shape] = known
    return known


# what a _Line's csv_record and the summary read of the notice, classification and advice
# JSON; the caches keep only these (memory)
_NOTICE_KEYS = ("channel", "sender", "raw_text")
_CLASSIFICATION_KEYS = ("situation", "ambiguous", "candidates", "confidence", "kind")
_ADVICE_KEYS = ("action", "urgency")


def _slim(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: data[key] for key in keys}


class _AdviceTemplate:
    """A row's JSON line for one notice, classification and timing shape, cut into pieces
    around its slots (``seq``, ``row_source``, ``source``, ``received_at`` and the advice's
    times), with the advice's summary cut around its time marks and the advice's JSON (marks
    in its texts)."""

    __slots__ = ("data", "pieces", "slots", "summary")

    def __init__(self, pieces: tuple[str, ...], summary: tuple[str, ...], data: Any) -> None:
        self.pieces = pieces
        self.slots = tuple((i, p) for i, p in enumerate(pieces) if i % 2)
        self.summary = summary
        self.data = data


def _fill_in(pieces: list[str], slots: tuple[tuple[int, str], ...], values: dict[str, str]) -> str:
    """``pieces`` joined, with ``values[name]`` at each slot position (``pieces`` is changed)."""
    for at, name in slots:
        pieces[at] = values[name]
    return "".join(pieces)


def _json_time(value: Any) -> str:
    """Pydantic's JSON form of a datetime, timedelta or ``None`` as the advice's JSON text
    (``ensure_ascii=False``) writes it."""
    return "null" if value is None else encode_basestring(to_jsonable_python(value))


_SOURCE_FIELDS = ("file", "line", "offset", "index", "message_id")
_SOURCE_BY_HAND = tuple(SourceRef.model_fields) == _SOURCE_FIELDS


def _source_texts(source: SourceRef) -> tuple[str, str] | None:
    """``source`` as the notice's JSON writes it and as the row's (``None`` fields left out);
    ``None`` when it is not written by hand (a value not ``str``/``int``/``None``).

    The same text as ``json.dumps(source.model_dump(mode="json"), ensure_ascii=False)``:
    fields in order, ``", "`` and ``": "`` between them, strings through ``json``'s own
    encoder, integers as ``int.__repr__``.
    """
    if not _SOURCE_BY_HAND:
        return None
    file, line, offset, index, message_id = (
        source.file,
        source.line,
        source.offset,
        source.index,
        source.message_id,
    )
    if not (
        (file is None or type(file) is str)
        and (line is None or type(line) is int)
        and (offset is None or type(offset) is int)
        and (index is None or type(index) is int)
        and (message_id is None or type(message_id) is str)
    ):
        return None
    items = (
        '"file": ' + ("null" if file is None else encode_basestring(file)),
        '"line": ' + ("null" if line is None else int.__repr__(line)),
        '"offset": ' + ("null" if offset is None else int.__repr__(offset)),
        '"index": ' + ("null" if index is None else int.__repr__(index)),
        '"message_id": ' + ("null" if message_id is None else encode_basestring(message_id)),
    )
    full = "{" + ", ".join(items) + "}"
    if file is not None and line is not None and offset is not None and index is not None:
        if message_id is not None:
            return full, full
        return full, "{" + ", ".join(items[:4]) + "}"
    kept = [
        item
        for item, value in zip(items, (file, line, offset, index, message_id), strict=True)
        if value is not None
    ]
    return full, "{" + ", ".join(kept) + "}"


def _source_dict(source: SourceRef | None) -> dict[str, Any] | None:
    """The row's ``source``: the fields that are not ``None``."""
    if source is None:
        return None
    return {k: v for k, v in source.model_dump(mode="json").items() if v is not None}


class _ParseEntry:
    """A parse cache entry: the notice, its JSON template and what rows take from it."""

    __slots__ = ("advice", "ckey", "classified", "data", "notice", "template")

    def __init__(self, notice: Notice, notice_json: dict[str, Any]) -> None:
        self.notice = notice
        self.template = _template(notice_json)
        self.data = _slim(notice_json, _NOTICE_KEYS)  # what csv_record reads
        self.ckey = classification_inputs(notice)
        # (classification, its JSON text, its JSON dict) once looked up, without context
        self.classified: tuple[Classification, str, dict[str, Any]] | None = None
        # advice templates by timing shape (a handful at most: a few booleans)
        self.advice: dict[tuple[Any, ...], _AdviceTemplate | None] = {}


class _Line:
    """A labelled row as its JSON line, with the few values the CLI reads (no dicts built).

    ``row()`` gives the :class:`LabelledRow` (``json.loads`` of the line), what :func:`label`
    yields; the CLI writes ``json`` or :meth:`csv_record` and counts from the attributes.
    """

    __slots__ = (
        "advice",
        "classification",
        "json",
        "notice",
        "received",
        "seq",
        "source_ref",
        "summary",
        "texts",
    )

    def __init__(
        self,
        seq: int,
        line: str,
        source: SourceRef | None,
        *,
        notice: dict[str, Any],
        received: Any,
        classification: dict[str, Any],
        advice: dict[str, Any],
        summary: tuple[str, ...],
        texts: tuple[str | None, str | None],
    ) -> None:
        self.seq = seq
        self.json = line
        self.source_ref = source
        self.notice = notice
        self.received = received
        self.classification = classification
        self.advice = advice
        self.summary = summary  # cut around the time marks (see _AdviceTemplate)
        self.texts = texts

    @property
    def source(self) -> dict[str, Any] | None:
        """The row's ``source`` (its fields that are not ``None``)."""
        return _source_dict(self.source_ref)

    def row(self) -> LabelledRow:
        row = LabelledRow(json.loads(self.json))  # fresh dicts: nothing shared with the caches
        row.json = self.json
        return row

    def csv_record(self) -> list[Any]:
        """:func:`csv_record` of :meth:`row`, from the cached values."""
        source = self.source or {}
        n, c, a = self.notice, self.classification, self.advice
        return [
            self.seq,
            source.get("file"),
            source.get("line"),
            source.get("index"),
            source.get("message_id"),
            n["channel"],
            n["sender"],
            self.received,
            n["raw_text"],
            c["situation"],
            c["ambiguous"],
            "|".join(c["candidates"]),
            c["confidence"],
            c["kind"],
            a["urgency"],
            a["action"],
            _render(
                self.summary,
                {"reachable_text": self.texts[0] or "", "deadline_text": self.texts[1] or ""},
            ),
            None,
            None,
        ]


def _json_text(model: BaseModel) -> str:
    """The model's JSON text, as ``json.dumps(model.model_dump(mode="json"))`` writes it."""
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False)


def _render(template: tuple[str, ...], values: dict[str, str]) -> str:
    return "".join(values[p] if i % 2 else p for i, p in enumerate(template))


def _advice_reads_time(advisor: Any, classification: Classification) -> bool:
    """Whether the advice for ``classification`` may depend on the notice's arrival time.

    The arrival time enters advice only through an entry's ``wait_for_sync`` (``reachable_after``,
    ``wait``) and ``deadline_from_notice`` (relative limits such as 24小时内); an ambiguous
    classification reads its candidates' entries. Anything unexpected answers ``True`` (the
    advice is then computed for every row).
    """
    try:
        entries = [advisor.entry(advisor.entry_key(classification))]
        if classification.ambiguous or classification.situation is None:
            entries += [advisor.entry(s.value) for s in Situation if s is not Situation.OTHER]
        return any(
            getattr(e, "wait_for_sync", True) or getattr(e, "deadline_from_notice", True)
            for e in entries
        )
    except Exception:
        return True


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
    pattern) and evidence records the matched text and its span. ``tests/test_batch_cache.py``
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


class Labeller:
    """Label messages one by one with one pipeline and bounded per-run caches.

    Three caches, each a least-recently-used dict of at most :data:`CACHE_SIZE` entries (so memory
    does not grow with the archive), keyed on exactly what determines their result:

    * parsing, on the raw text, channel, sender and subject; reused for another arrival time
      only when the notice has no date mention (the arrival time only resolves dates' years);
    * classification, on :func:`classification_inputs`; never for a message with context;
    * advice, on the parse key and the classification, only when the advice entry does not read
      the arrival time (:func:`_advice_reads_time`); otherwise advice is computed per row.

    Parameters
    ----------
    pipeline : Pipeline, optional
        Defaults to ``icp_notify.pipeline.Pipeline.default()`` (loaded on first use). A
        pipeline with ``classifier.classify_notice`` and ``advisor.advise`` gets the
        caches; any object with ``analyze_notice`` works without them.
    lang : {"zh", "en"}
        Advice language.
    now : datetime or ISO str, optional
        The clock the advice is computed against.
    parse : callable, optional
        ``parse(RawMessage) -> Notice``; defaults to :func:`icp_notify.parse.parse`.
    cache : bool
        ``False`` turns every cache off (each row is computed from scratch; for tests).
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
        self._parse = parse
        self._classify = getattr(getattr(pipeline, "classifier", None), "classify_notice", None)
        self._advisor = getattr(pipeline, "advisor", None)
        self._advise = getattr(self._advisor, "advise", None)
        self._parsed = _Cache(CACHE_SIZE)
        self._classified = _Cache(CACHE_SIZE)
        self._advised = _Cache(CACHE_SIZE)
        self._version = json.dumps(__version__)
        self.cache_hits = 0
        self._split = self._split_advice()

    def _split_advice(self) -> tuple[Any, Any] | None:
        """``(advisor, now)`` when rows may take their advice from templates, else ``None``.

        Only for the package's own :class:`~icp_notify.advisor.Advisor` (its ``advise`` is
        ``compose`` of ``timing``), a valid language and clock, with caching on; otherwise
        every advice is computed by ``advise``.
        """
        from icp_notify.advisor import LANGS, Advisor, _to_datetime

        advisor = self._advisor
        if not self.cache or self._classify is None or not isinstance(advisor, Advisor):
            return None
        if type(advisor).advise is not Advisor.advise or self.lang not in LANGS:
            return None
        try:
            return advisor, _to_datetime(self.now, "now")
        except InputError:
            return None

    classification_key = staticmethod(classification_inputs)
    """The classification cache key (:func:`classification_inputs`)."""

    # ------------------------------------------------------------------ caches

    # The caches hold frozen models and JSON text only: every row gets its own dicts (parsed
    # from its JSON line), so no row is a mutable alias of a cache entry or of another row.

    def _notice(self, msg: RawMessage) -> tuple[Notice, dict[str, Any] | None, str, Any]:
        """The notice, its ``source`` as JSON, its JSON text, and the parse key (``None``: not
        cacheable)."""
        key = (msg.text, msg.channel, msg.sender, msg.subject, msg.defects) if self.cache else None
        cached: _ParseEntry | None = self._parsed.get(key) if key is not None else None
        if cached is not None:
            notice, template = cached.notice, cached.template
            # the arrival time only resolves the year of dates: reuse when there are none
            if notice.received_at == msg.received_at or not notice.entities.dates:
                received = to_jsonable_python(msg.received_at)
                source = None if msg.source is None else msg.source.model_dump(mode="json")
                notice = notice.model_copy(
                    update={"received_at": msg.received_at, "source": msg.source}
                )
                text = _render(
                    template,
                    {
                        "received_at": json.dumps(received),
                        "source": json.dumps(source, ensure_ascii=False),
                    },
                )
                return notice, source, text, key
        notice = self._parse(msg)
        notice_json = notice.model_dump(mode="json")
        text = json.dumps(notice_json, ensure_ascii=False)
        if key is not None:
            self._parsed.put(key, _ParseEntry(notice, notice_json))
        return notice, notice_json["source"], text, key

    def _classification(
        self, notice: Notice, context: Context | None
    ) -> tuple[Classification, str]:
        assert self._classify is not None
        if context is not None or not self.cache:
            result: Classification = self._classify(notice, context)
            return result, _json_text(result)
        entry = self._cached_classification(notice, classification_inputs(notice))
        return entry[0], entry[1]

    def _cached_classification(
        self, notice: Notice, key: tuple[Any, ...]
    ) -> tuple[Classification, str, dict[str, Any]]:
        """The classification of a notice without context: ``(result, JSON text, JSON dict)``."""
        assert self._classify is not None
        cached = self._classified.get(key)
        if cached is not None:
            self.cache_hits += 1
            return cached  # type: ignore[no-any-return]
        result = self._classify(notice, None)
        data = result.model_dump(mode="json")
        entry = (result, json.dumps(data, ensure_ascii=False), _slim(data, _CLASSIFICATION_KEYS))
        self._classified.put(key, entry)
        return entry

    def _advice(self, classification: Classification, notice: Notice, key: Any) -> str:
        assert self._advise is not None
        cacheable = key is not None and not _advice_reads_time(self._advisor, classification)
        if cacheable:
            cached = self._advised.get(key)
            if cached is not None:
                return cached  # type: ignore[no-any-return]
        advice: Advice = self._advise(classification, notice, now=self.now, lang=self.lang)
        text = _json_text(advice)
        if cacheable:
            self._advised.put(key, text)
        return text

    # ------------------------------------------------------------------ rows

    def label_message(self, seq: int, msg: RawMessage) -> Row:
        """Label one message; bad input becomes an error row, never an exception.

        A labelled row is a :class:`LabelledRow` (its JSON line built with it).

        Parameters
        ----------
        seq : int
            The message's position in the input stream.
        msg : RawMessage
            The message as read.

        Returns
        -------
        dict
            A labelled row (a :class:`LabelledRow`) or an error row.
        """
        out = self._label(seq, msg)
        return out.row() if isinstance(out, _Line) else out

    def _label(self, seq: int, msg: RawMessage) -> _Line | Row:
        """:meth:`label_message`, a labelled row left as a :class:`_Line`."""
        try:
            if self._split is not None and msg.context is None:
                return self._line(seq, msg, *self._split)
            if self._classify is None or self._advise is None:
                notice = self._parse(msg)
                full = self.pipeline.analyze_notice(
                    notice, context=msg.context, now=self.now, lang=self.lang
                )
                return {"seq": seq, "source": _source_json(msg), **full.model_dump(mode="json")}
            notice, source, notice_text, parse_key = self._notice(msg)
            classification, classification_text = self._classification(notice, msg.context)
            advice_key = None
            if parse_key is not None and msg.context is None:
                advice_key = (parse_key, classification_inputs(notice))
            advice_text = self._advice(classification, notice, advice_key)
        except InputError as exc:
            return error_row(seq, msg, exc.code, exc.message, exc.where)
        except IcpNotifyError as exc:
            return error_row(seq, msg, "failed", str(exc))
        if source is not None:
            source = {k: v for k, v in source.items() if v is not None}
        line = (
            f'{{"seq": {seq}, "source": {json.dumps(source, ensure_ascii=False)}, '
            f'"notice": {notice_text}, "classification": {classification_text}, '
            f'"advice": {advice_text}, "version": {self._version}}}'
        )
        row = LabelledRow(json.loads(line))  # fresh dicts: nothing shared with the caches
        row.json = line
        return row

    def _line(self, seq: int, msg: RawMessage, advisor: Any, now_at: Any) -> _Line:
        """Label a message without context from the caches (the CLI's path for most rows).

        The parse entry is reused as :meth:`_notice` reuses it and keeps its classification
        (:meth:`_cached_classification`); the advice comes from a template of this notice and
        classification for the timing's shape (which texts and phrases apply), with the
        arrival-time values written in (see :func:`_inert`), else from ``compose``. The
        template holds the whole line as a format string: a row fills in its ``seq``, source,
        arrival time and times.
        """
        key = (msg.text, msg.channel, msg.sender, msg.subject, msg.defects)
        received_at = msg.received_at
        entry: _ParseEntry | None = self._parsed.get(key)
        if entry is None or not (
            entry.notice.received_at == received_at or not entry.notice.entities.dates
        ):
            parsed = self._parse(msg)
            entry = _ParseEntry(parsed, parsed.model_dump(mode="json"))
            self._parsed.put(key, entry)
        notice = entry.notice
        if entry.classified is None:
            entry.classified = self._cached_classification(notice, entry.ckey)
        else:
            self.cache_hits += 1
        classification = entry.classified[0]
        timing = advisor.timing(classification, notice, now=now_at, received_at=received_at)
        reachable_text, deadline_text = texts = timing.texts(self.lang)
        shape = (
            timing.key,
            timing.reachable_after is None,
            timing.wait is None,
            timing.after,
            timing.deadline is None,
            timing.deadline_passed,
        )
        if shape in entry.advice:
            template = entry.advice[shape]
        else:
            template = entry.advice[shape] = self._advice_template(
                advisor, entry, classification, timing
            )
        source = msg.source
        sources = _source_texts(source) if source is not None else ("null", "null")
        if (
            template is not None
            and sources is not None
            and (reachable_text is None or _inert(reachable_text))
            and (deadline_text is None or _inert(deadline_text))
        ):
            received = to_jsonable_python(received_at)
            line = _fill_in(
                list(template.pieces),
                template.slots,
                {
                    "seq": str(seq),
                    "row_source": sources[1],
                    "source": sources[0],
                    "received_at": "null"
                    if received is None
                    else encode_basestring_ascii(received),
                    "reachable_text": ""
                    if reachable_text is None
                    else encode_basestring(reachable_text)[1:-1],
                    "deadline_text": ""
                    if deadline_text is None
                    else encode_basestring(deadline_text)[1:-1],
                    "reachable_after": _json_time(timing.reachable_after),
                    "wait": _json_time(timing.wait),
                    "deadline": _json_time(timing.deadline),
                },
            )
            return _Line(
                seq,
                line,
                source,
                notice=entry.data,
                received=received,
                classification=entry.classified[2],
                advice=template.data,
                summary=template.summary,
                texts=texts,
            )
        # compose reads the notice's provider, domains and numbers, not its arrival time
        advice = advisor.compose(classification, notice, self.lang, timing, texts)
        advice_data = advice.model_dump(mode="json")
        row_source = None if source is None else source.model_dump(mode="json")
        received = to_jsonable_python(received_at)
        notice_text = _render(
            entry.template,
            {
                "received_at": json.dumps(received),
                "source": json.dumps(row_source, ensure_ascii=False),
            },
        )
        if row_source is not None:
            row_source = {k: v for k, v in row_source.items() if v is not None}
        line = (
            f'{{"seq": {seq}, "source": {json.dumps(row_source, ensure_ascii=False)}, '
            f'"notice": {notice_text}, "classification": {entry.classified[1]}, '
            f'"advice": {json.dumps(advice_data, ensure_ascii=False)}, '
            f'"version": {self._version}}}'
        )
        return _Line(
            seq,
            line,
            source,
            notice=entry.data,
            received=received,
            classification=entry.classified[2],
            advice=advice_data,
            summary=(advice_data["summary"],),
            texts=(None, None),
        )

    def _advice_template(
        self, advisor: Any, entry: _ParseEntry, classification: Classification, timing: Any
    ) -> _AdviceTemplate | None:
        """The row's JSON line for this notice, classification and timing shape, cut around
        its slots; ``None`` when it cannot be cut exactly (a mark found elsewhere)."""
        assert entry.classified is not None
        marks = (
            None if timing.reachable_after is None else _MARK_REACHABLE,
            None if timing.deadline is None else _MARK_DEADLINE,
        )
        advice = advisor.compose(classification, entry.notice, self.lang, timing, marks)
        data = advice.model_dump(mode="json")
        summary = _cut(data["summary"], _MARKS)
        pieces = _cut(json.dumps({**data, **_FIELD_TOKENS}, ensure_ascii=False), _ADVICE_SLOTS)
        if any("\\u0000" in p for p in pieces[::2]) or any("\x00" in p for p in summary[::2]):
            return None
        merged: list[str] = []  # text, slot, text, …, text (texts at even positions)
        for cut in (
            ('{"seq": ', "seq", ', "source": ', "row_source", ', "notice": '),
            entry.template,
            (', "classification": ' + entry.classified[1] + ', "advice": ',),
            pieces,
            (', "version": ' + self._version + "}",),
        ):
            for i, piece in enumerate(cut):
                if i % 2:  # a slot
                    merged.append(piece)
                elif len(merged) % 2:  # text after text: join them
                    merged[-1] += piece
                else:
                    merged.append(piece)
        return _AdviceTemplate(tuple(merged), summary, _slim(data, _ADVICE_KEYS))


_LABEL_MESSAGE = Labeller.label_message


# --------------------------------------------------------------------------- label


def _dedupe_key(msg: RawMessage) -> bytes:
    """BLAKE2b-128 of ``sender NUL time NUL text`` (UTF-8, lone surrogates kept)."""
    at = msg.received_at.isoformat() if msg.received_at else ""
    data = f"{msg.sender or ''}\x00{at}\x00{msg.text}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).digest()


class SeenSet:
    """The exact set of messages seen in a run, in bounded memory.

    Keys are 16-byte BLAKE2b digests of (sender, time, text). Up to ``memory_keys`` of them are
    held in a Python set; beyond that they are moved into a temporary SQLite file (deleted when
    the set is closed or collected) whose page cache is capped, so memory stays flat however
    long the archive is. A digest collision (probability about n²/2¹²⁹) is the only way two
    different messages could be taken for duplicates.

    Parameters
    ----------
    memory_keys : int, default 65536
        How many keys are held in memory before they move to SQLite.

    Examples
    --------
    >>> seen = SeenSet(memory_keys=2)
    >>> [seen.add(k) for k in (b"a", b"b", b"c", b"a", b"c", b"d")]
    [True, True, True, False, False, True]
    >>> len(seen), seen.spilled
    (4, True)
    >>> seen.close()
    """

    def __init__(self, memory_keys: int = 1 << 16) -> None:
        self.memory_keys = memory_keys
        self._memory: set[bytes] = set()
        self._db: Any = None
        self._dir: Any = None
        self._count = 0

    @property
    def spilled(self) -> bool:
        """Whether keys have been moved to disk."""
        return self._db is not None

    def __len__(self) -> int:
        return self._count

    def add(self, key: bytes) -> bool:
        """Add ``key``; return ``True`` when it was new (``False``: a duplicate).

        Parameters
        ----------
        key : bytes
            The message digest.

        Returns
        -------
        bool
            ``True`` when ``key`` had not been seen.
        """
        if key in self._memory:
            return False
        if self._db is not None and (
            self._db.execute("SELECT 1 FROM seen WHERE k = ?", (key,)).fetchone() is not None
        ):
            return False
        self._memory.add(key)
        self._count += 1
        if len(self._memory) >= self.memory_keys:
            self._spill()
        return True

    def _spill(self) -> None:
        if self._db is None:
            import sqlite3
            import tempfile

            self._dir = tempfile.TemporaryDirectory(prefix="icp_notify_seen_")
            self._db = sqlite3.connect(os.path.join(self._dir.name, "seen.sqlite"))
            self._db.executescript(
                "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4096;"
                "CREATE TABLE seen (k BLOB PRIMARY KEY) WITHOUT ROWID;"
            )
        with self._db:
            self._db.executemany("INSERT INTO seen VALUES (?)", ((k,) for k in self._memory))
        self._memory.clear()

    def close(self) -> None:
        """Forget every key and delete the temporary file."""
        self._memory.clear()
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _items(
    inputs: Iterable[str | Path | RawMessage | ReadError],
    *,
    input_format: InputFormat | None,
    text_field: str | None,
    split: Literal["line", "blank"],
    include_sent: bool,
) -> Iterator[RawMessage | ReadError]:
    from icp_notify.readers.walk import read_inputs

    for entry in inputs:
        if isinstance(entry, RawMessage | ReadError):
            yield entry
        else:
            yield from read_inputs(
                [entry],
                input_format=input_format,
                text_field=text_field,
                split=split,
                include_sent=include_sent,
            )


def label(
    inputs: Iterable[str | Path | RawMessage | ReadError],
    *,
    input_format: InputFormat | None = None,
    text_field: str | None = None,
    split: Literal["line", "blank"] | None = None,
    include_sent: bool = False,
    workers: int = 1,
    lang: str = "zh",
    now: dt.datetime | str | None = None,
    pipeline: Any = None,
    summary: Summary | None = None,
    resume_after: int | None = None,
    dedupe: bool = True,
) -> Iterator[Row]:
    """Label every message of ``inputs``, streaming one row per message in input order.

    Parameters
    ----------
    inputs : iterable
        Paths (files, directories, Maildir folders) and/or ready ``RawMessage`` objects.
    input_format : str, optional
        Force a reader: ``text``, ``jsonl``, ``csv``, ``eml``, ``mbox``, ``maildir``, ``sms-xml``.
    text_field : str, optional
        JSONL/CSV field with the text (default ``text``/``body``/``content``).
    split : {"line", "blank"}, optional
        How plain-text files are cut (default one notice per line).
    include_sent : bool
        Also label sent messages of SMS backups.
    workers : int
        Worker processes (1: in this process). Each loads the pipeline once; rows come back
        in input order, chunk by chunk.
    lang : {"zh", "en"}
        Advice language.
    now : datetime or ISO str, optional
        The clock for the advice (``wait``, deadlines).
    pipeline : Pipeline, optional
        Defaults to ``Pipeline.default()``.
    summary : Summary, optional
        Updated in place as rows stream (and with duplicates, which get no row).
    resume_after : int, optional
        Skip messages with ``seq <= resume_after`` (they are still read, so duplicates are
        still recognised) — what ``--resume`` passes.
    dedupe : bool
        Drop messages with the same sender, time and text as an earlier one.

    Yields
    ------
    dict
        Labelled rows and error rows (see the module docstring).

    Raises
    ------
    InputError
        For an unknown ``lang`` or a malformed ``now`` (checked before reading anything).

    Examples
    --------
    Ready messages work as well as paths; bad input becomes an error row, not an exception:

    >>> from icp_notify.models import RawMessage
    >>> rows = list(label([
    ...     RawMessage(text="尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。"),
    ...     RawMessage(text="   "),
    ... ]))
    >>> rows[0]["seq"], rows[0]["classification"]["ambiguous"], rows[0]["advice"]["action"]
    (0, True, 'check_candidates')
    >>> rows[1]["seq"], rows[1]["error"]["code"]
    (1, 'empty')
    """
    for row in _label_stream(
        inputs,
        input_format=input_format,
        text_field=text_field,
        split=split,
        include_sent=include_sent,
        workers=workers,
        lang=lang,
        now=now,
        pipeline=pipeline,
        summary=summary,
        resume_after=resume_after,
        dedupe=dedupe,
    ):
        yield row.row() if isinstance(row, _Line) else row


def _label_stream(
    inputs: Iterable[str | Path | RawMessage | ReadError],
    *,
    input_format: InputFormat | None = None,
    text_field: str | None = None,
    split: Literal["line", "blank"] | None = None,
    include_sent: bool = False,
    workers: int = 1,
    lang: str = "zh",
    now: dt.datetime | str | None = None,
    pipeline: Any = None,
    summary: Summary | None = None,
    resume_after: int | None = None,
    dedupe: bool = True,
) -> Iterator[_Line | Row]:
    """:func:`label` with labelled rows left as :class:`_Line` (what the CLI writes)."""
    if lang not in ("zh", "en"):
        raise InputError(
            "invalid_field", f"unknown language {lang!r}", where="lang", hint="use zh or en"
        )
    if isinstance(now, str):
        try:
            now = dt.datetime.fromisoformat(now)
        except ValueError:
            raise InputError("invalid_field", f"not an ISO time: {now!r}", where="now") from None
    if summary is not None and resume_after is not None:
        summary.resumed_after = resume_after
    items = _items(
        inputs,
        input_format=input_format,
        text_field=text_field,
        split=split or "line",
        include_sent=include_sent,
    )
    numbered = _numbered(items, summary=summary, resume_after=resume_after, dedupe=dedupe)
    rows: Iterator[_Line | Row]
    if workers > 1:
        rows = _label_parallel(numbered, workers=workers, pipeline=pipeline, lang=lang, now=now)
    else:
        labeller = Labeller(pipeline, lang=lang, now=now)
        # rows stay _Lines unless label_message was overridden (a subclass, a test's wrapper)
        label_one: Callable[[int, RawMessage], _Line | Row] = (
            labeller._label
            if type(labeller).label_message is _LABEL_MESSAGE
            else labeller.label_message
        )
        rows = (
            _error_from_read(seq, item) if isinstance(item, ReadError) else label_one(seq, item)
            for seq, item in numbered
        )
    for row in rows:
        if summary is not None:
            if isinstance(row, _Line):
                summary.add_labelled(
                    row.classification["situation"] or "ambiguous", row.advice["urgency"]
                )
            else:
                summary.add(row)
        yield row
    if summary is not None and workers <= 1:
        summary.cache_hits += labeller.cache_hits


def _error_from_read(seq: int, item: ReadError) -> Row:
    return error_row(seq, item, item.code, item.message, item.position)


def _numbered(
    items: Iterable[RawMessage | ReadError],
    *,
    summary: Summary | None,
    resume_after: int | None,
    dedupe: bool,
) -> Iterator[tuple[int, RawMessage | ReadError]]:
    seen = SeenSet(SEEN_MEMORY_KEYS)
    try:
        for seq, item in enumerate(items):
            duplicate = False
            if dedupe and isinstance(item, RawMessage):
                duplicate = not seen.add(_dedupe_key(item))
            if resume_after is not None and seq <= resume_after:
                continue
            if duplicate:
                if summary is not None:
                    summary.read += 1
                    summary.duplicates += 1
                continue
            yield seq, item
    finally:
        seen.close()


# --------------------------------------------------------------------------- worker processes

_WORKER: dict[str, Any] = {}


def _worker_init(lang: str, now: str | None) -> None:
    pipeline = _WORKER.get("pipeline")  # inherited through fork, else the default
    _WORKER["labeller"] = Labeller(pipeline, lang=lang, now=now)


def _worker_run(chunk: str) -> str:
    """Label one chunk (JSON text of ``[seq, kind, payload]`` items); return JSON lines."""
    labeller: Labeller = _WORKER["labeller"]
    label_one: Callable[[int, RawMessage], _Line | Row] = (
        labeller._label
        if type(labeller).label_message is _LABEL_MESSAGE
        else labeller.label_message
    )
    lines = []
    for seq, kind, payload in json.loads(chunk):
        row: _Line | Row
        if kind == "error":
            row = _error_from_read(seq, ReadError.model_validate(payload))
        else:
            row = label_one(seq, RawMessage.model_validate(payload))
        lines.append(_row_json(row))
    return "\n".join(lines)


def _chunks(numbered: Iterator[tuple[int, RawMessage | ReadError]]) -> Iterator[str]:
    batch: list[tuple[int, str, Any]] = []
    for seq, item in numbered:
        kind = "error" if isinstance(item, ReadError) else "message"
        batch.append((seq, kind, item.model_dump(mode="json", exclude_defaults=True)))
        if len(batch) >= CHUNK_SIZE:
            yield json.dumps(batch, ensure_ascii=False)
            batch = []
    if batch:
        yield json.dumps(batch, ensure_ascii=False)


def _rows_of(lines: str) -> Iterator[Row]:
    """The rows of a worker's JSON lines, each keeping its line (written as it came)."""
    for line in lines.split("\n"):
        row = LabelledRow(json.loads(line))
        row.json = line
        yield row


_WARM_UP = "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def _label_parallel(
    numbered: Iterator[tuple[int, RawMessage | ReadError]],
    *,
    workers: int,
    pipeline: Any,
    lang: str,
    now: dt.datetime | str | None,
) -> Iterator[Row]:
    """Label in ``workers`` processes; chunks travel as JSON text, results come back in order.

    Workers return JSON lines (serialised once, in the worker); at most ``4 * workers`` chunks
    are in flight, so memory stays flat on any input size.
    """
    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if method == "fork":
        # load and warm the pipeline once, before forking: the workers share it copy-on-write
        # instead of each loading the model, rules and tokenizer dictionary again
        if pipeline is None:
            from icp_notify.pipeline import Pipeline

            pipeline = Pipeline.default()
        Labeller(pipeline, lang=lang, now=now).label_message(0, RawMessage(text=_WARM_UP))
        _WORKER["pipeline"] = pipeline
    elif pipeline is not None:
        raise InputError(
            "unsupported", "a custom pipeline needs the fork start method", hint="use workers=1"
        )
    ctx = multiprocessing.get_context(method)
    now_text = now.isoformat() if isinstance(now, dt.datetime) else now
    pool = ctx.Pool(workers, initializer=_worker_init, initargs=(lang, now_text))
    try:
        pending: deque[Any] = deque()
        for chunk in _chunks(numbered):
            pending.append(pool.apply_async(_worker_run, (chunk,)))
            while len(pending) >= 4 * workers:
                yield from _rows_of(pending.popleft().get())
        while pending:
            yield from _rows_of(pending.popleft().get())
        pool.close()
    finally:
        pool.terminate()
        pool.join()
        _WORKER.pop("pipeline", None)


# --------------------------------------------------------------------------- DataFrames


def _frame_values(row: Row) -> list[Any]:
    if "error" in row:
        return [None, None, None, None, None, None, None, row["error"]["code"]]
    c = row["classification"]
    a = row["advice"]
    return [
        c["situation"],
        c["ambiguous"],
        list(c["candidates"]),
        c["confidence"],
        c["kind"],
        a["urgency"],
        a["action"],
        None,
    ]


def frame_meta(df: pd.DataFrame) -> pd.DataFrame:
    """The empty frame :func:`label_frame` returns for ``df``'s columns (Dask's ``meta``).

    Parameters
    ----------
    df : pandas.DataFrame
        The input frame (or Dask's ``_meta`` of it).

    Returns
    -------
    pandas.DataFrame
        No rows; ``df``'s columns plus the label columns with their dtypes.

    Examples
    --------
    >>> import pandas as pd
    >>> list(frame_meta(pd.DataFrame({"text": pd.Series([], dtype=object)})).columns)
    ['text', 'situation', 'ambiguous', 'candidates', 'confidence', 'kind', 'urgency', 'action', 'error']
    """
    import pandas as pd

    out = df.iloc[:0].copy()
    dtypes = {
        "situation": object,
        "ambiguous": "boolean",
        "candidates": object,
        "confidence": "float64",
        "kind": object,
        "urgency": object,
        "action": object,
        "error": object,
    }
    for name, dtype in dtypes.items():
        out[name] = pd.Series([], dtype=dtype, index=out.index)
    return out


def label_frame(
    df: pd.DataFrame,
    text_col: str = "text",
    *,
    sender_col: str | None = "sender",
    channel_col: str | None = "channel",
    received_at_col: str | None = "received_at",
    subject_col: str | None = "subject",
    lang: str = "zh",
    now: dt.datetime | str | None = None,
    pipeline: Any = None,
) -> pd.DataFrame:
    """Label a pandas DataFrame of notices; return a copy with the label columns added.

    Parameters
    ----------
    df : pandas.DataFrame
        One notice per row.
    text_col : str
        The column with the text.
    sender_col, channel_col, received_at_col, subject_col : str, optional
        Optional columns, used when present.
    lang, now, pipeline
        As for :func:`label`; the pipeline defaults to ``Pipeline.default()``, loaded once
        per process — in a Dask worker, once per worker.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus ``situation`` (``None`` when ambiguous), ``ambiguous``, ``candidates``
        (list), ``confidence``, ``kind``, ``urgency``, ``action`` and ``error`` (the error code
        of a row that could not be labelled, else ``None``). Rows are not de-duplicated.

    Raises
    ------
    InputError
        When ``text_col`` is not a column of ``df``, or for an unknown ``lang`` or a malformed
        ``now``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"text": [
    ...     "尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    ...     "",
    ...     "【工业和信息化部】尊敬的用户，您的网站备案（京ICP备12345678号）已被注销，如有疑问请联系接入服务提供商。",
    ... ]})
    >>> out = label_frame(df)
    >>> out["kind"].tolist(), out["error"].tolist()
    (['change_notice_generic', None, 'filing_cancelled'], [None, 'missing_text', None])
    >>> bool(out["ambiguous"][0]), bool(out["ambiguous"][2])
    (True, False)

    Labelling a Dask DataFrame partition by partition (the pipeline loads once per worker)::

        import dask.dataframe as dd
        from icp_notify.batch import frame_meta, label_frame

        ddf = dd.read_csv("archive-*.csv", dtype=str)
        labelled = ddf.map_partitions(label_frame, text_col="body", meta=frame_meta(ddf._meta))
        labelled.to_parquet("labelled/")
    """
    import pandas as pd

    from icp_notify.readers.common import message_from_record

    labeller = _frame_labeller(pipeline, lang, now)
    columns = {
        "text": text_col,
        "sender": sender_col,
        "channel": channel_col,
        "received_at": received_at_col,
        "subject": subject_col,
    }
    present = {k: v for k, v in columns.items() if v is not None and v in df.columns}
    if "text" not in present:
        raise InputError("invalid_field", f"no column {text_col!r} in the frame", where="text_col")
    values: list[list[Any]] = []
    for position, record in enumerate(
        df[list(present.values())].itertuples(index=False, name=None)
    ):
        fields = {k: (None if _is_missing(v) else v) for k, v in zip(present, record, strict=True)}
        stamp = fields.get("received_at")
        if isinstance(stamp, pd.Timestamp):
            fields["received_at"] = stamp.isoformat()
        item = message_from_record(
            fields,
            path=None,
            text_field="text",
            where={"index": position},
            position=f"row {position}",
        )
        if isinstance(item, ReadError):
            row = _error_from_read(position, item)
        else:
            row = labeller.label_message(position, item)
        values.append(_frame_values(row))
    out = df.copy()
    meta = frame_meta(df)
    for i, name in enumerate(FRAME_COLUMNS):
        column = [v[i] for v in values]
        out[name] = pd.Series(column, index=df.index, dtype=meta[name].dtype)
    return out


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_FRAME_LABELLERS: dict[tuple[int, str, str | None], Labeller] = {}


def _frame_labeller(pipeline: Any, lang: str, now: dt.datetime | str | None) -> Labeller:
    """One labeller (and so one pipeline and its caches) per process, pipeline, lang and now."""
    if pipeline is None:
        # key on the pipeline itself: Pipeline.default() may change (a test stands in a fake),
        # and a cached labeller keeps its pipeline alive, so its id cannot be reused
        from icp_notify.pipeline import Pipeline

        pipeline = Pipeline.default()
    now_key = now.isoformat() if isinstance(now, dt.datetime) else now
    key = (id(pipeline), lang, now_key)
    labeller = _FRAME_LABELLERS.get(key)
    if labeller is None:
        labeller = _FRAME_LABELLERS[key] = Labeller(pipeline, lang=lang, now=now)
    return labeller


_RowT = TypeVar("_RowT", bound="Row | _Line")


def _row_json(row: Row | _Line) -> str:
    line = getattr(row, "json", None)
    return line if isinstance(line, str) else json.dumps(row, ensure_ascii=False)


def write_rows(
    rows: Iterable[_RowT], out: Any, fmt: Literal["jsonl", "csv"] = "jsonl"
) -> Iterator[_RowT]:
    """Write rows to a text stream as they pass; yield them on.

    ``jsonl`` writes one line per row (a :class:`LabelledRow`'s own line, else one
    ``json.dumps``); ``csv`` writes a flat table (:data:`CSV_COLUMNS`); the caller writes the
    header. Rows are written before they are yielded, so a consumer that stops (Ctrl-C) leaves
    only whole rows once the stream is flushed.

    Parameters
    ----------
    rows : iterable of dict
        Rows from :func:`label`.
    out : text stream
        Where to write (an open file, ``sys.stdout``).
    fmt : {"jsonl", "csv"}
        Output format.

    Yields
    ------
    dict
        Each row, after it was written.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> rows = list(write_rows([{"seq": 0, "source": None, "error": {"code": "empty"}}], out))
    >>> out.getvalue()
    '{"seq": 0, "source": null, "error": {"code": "empty"}}\\n'
    """
    if fmt == "jsonl":
        for row in rows:
            out.write(_row_json(row) + "\n")
            yield row
        return
    import csv

    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row.csv_record() if isinstance(row, _Line) else csv_record(row))
        yield row


CSV_COLUMNS: tuple[str, ...] = (
    "seq",
    "file",
    "line",
    "index",
    "message_id",
    "channel",
    "sender",
    "received_at",
    "text",
    "situation",
    "ambiguous",
    "candidates",
    "confidence",
    "kind",
    "urgency",
    "action",
    "summary",
    "error_code",
    "error_message",
)
"""The columns of ``--format csv`` output."""


def csv_record(row: Row) -> list[Any]:
    """Flatten a row into the values of :data:`CSV_COLUMNS`.

    Parameters
    ----------
    row : dict
        A labelled row or an error row.

    Returns
    -------
    list
        One value per column of :data:`CSV_COLUMNS`.

    Examples
    --------
    >>> csv_record({"seq": 3, "source": {"file": "a.txt", "line": 4},
    ...             "error": {"code": "empty", "message": "blank"}})[:4] + csv_record(
    ...             {"seq": 3, "source": None, "error": {"code": "empty", "message": "blank"}})[-2:]
    [3, 'a.txt', 4, None, 'empty', 'blank']
    """
    source = row.get("source") or {}
    head = [
        row["seq"],
        source.get("file"),
        source.get("line"),
        source.get("index"),
        source.get("message_id"),
    ]
    if "error" in row:
        return [
            *head,
            None,
            None,
            None,
            None,
            *([None] * 8),
            row["error"]["code"],
            row["error"]["message"],
        ]
    n, c, a = row["notice"], row["classification"], row["advice"]
    return [
        *head,
        n["channel"],
        n["sender"],
        n["received_at"],
        n["raw_text"],
        c["situation"],
        c["ambiguous"],
        "|".join(c["candidates"]),
        c["confidence"],
        c["kind"],
        a["urgency"],
        a["action"],
        a["summary"],
        None,
        None,
    ]


def last_seq(path: str | Path, fmt: Literal["jsonl", "csv"] = "jsonl") -> int | None:
    """The ``seq`` of the last complete row of an earlier output (what ``--resume`` continues after).

    For JSONL a torn last line (a run killed mid-write) is cut off the file. Returns ``None``
    when the file is missing or has no complete row.

    Parameters
    ----------
    path : str or Path
        The earlier output file.
    fmt : {"jsonl", "csv"}
        Its format.

    Returns
    -------
    int or None
        The last complete row's ``seq``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> _ = p.write_text('{"seq": 0}\\n{"seq": 4}\\n{"seq": 5, "no', encoding="utf-8")
    >>> last_seq(p), p.read_text(encoding="utf-8")
    (4, '{"seq": 0}\\n{"seq": 4}\\n')
    """
    if not os.path.exists(path):
        return None
    if fmt == "csv":
        import csv

        found: int | None = None
        with open(path, encoding="utf-8", newline="") as fh:
            for record in csv.reader(fh):
                if len(record) == len(CSV_COLUMNS) and record[0].isdigit():
                    found = int(record[0])
        return found
    with open(path, "r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        block = 1 << 16
        start = max(0, size - block)
        fh.seek(start)
        tail = fh.read()
        while start > 0 and tail.count(b"\n") < 2:
            start = max(0, start - block)
            fh.seek(start)
            tail = fh.read()
        if tail and not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n") + 1
            fh.truncate(start + cut)
            tail = tail[:cut]
        for line in reversed(tail.split(b"\n")):
            if not line.strip():
                continue
            try:
                return int(json.loads(line)["seq"])
            except (ValueError, KeyError, TypeError):
                return None
        return None


__all__ = [
    "CSV_COLUMNS",
    "FRAME_COLUMNS",
    "LabelledRow",
    "Labeller",
    "Row",
    "SeenSet",
    "Summary",
    "classification_inputs",
    "csv_record",
    "error_row",
    "frame_meta",
    "label",
    "label_frame",
    "last_seq",
    "write_rows",
]
