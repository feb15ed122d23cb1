"""Turn a :class:`~icp_notify.models.Classification` and its :class:`~icp_notify.models.Notice` into advice.

The advice itself is data: ``icp_notify/data/advice.toml`` holds one entry per situation, one per
``kind`` of ``other`` notice, one for the ambiguous generic notice and one for the cancellation
that context shows to follow a move of provider. Each entry has an :class:`~icp_notify.models.Action`,
an :class:`~icp_notify.models.Urgency` and a Chinese and an English text (summary, steps, why) of the
same structure. Texts may use the placeholders ``{provider}``, ``{domain}``, ``{number}``,
``{reachable_after}`` and ``{deadline}``, filled from the notice's entities; any other placeholder,
a missing language, an unknown action or urgency is an :class:`~icp_notify.errors.AdviceFileError`
naming the file, the entry and the field.

Time handling:

* entries marked ``wait_for_sync`` (approvals whose data must travel from MIIT to the provider) get
  ``reachable_after = received_at + sync_hours`` (7 hours, from MIIT's own advice); with ``now``,
  ``wait`` is the time left (zero once past) and, once past, the ``after_sync`` steps say what to
  check instead of waiting;
* entries marked ``deadline_from_notice`` take the deadline the notice states: a date
  (``请于2025年3月5日前``, end of that day in Asia/Shanghai unless a time is given) or a limit
  (``24小时内有效`` → ``received_at + 24 h``).

Examples
--------
>>> import datetime as dt
>>> from icp_notify.models import Classification, Kind, Notice, Situation
>>> notice = Notice(raw_text="x", text="x", received_at="2025-03-04T19:30:00+08:00")
>>> c = Classification(situation=Situation.NEW_DOMAIN, ambiguous=False,
...     candidates=(Situation.NEW_DOMAIN,), confidence=0.95,
...     probabilities={Situation.NEW_DOMAIN: 1.0}, kind=Kind.PROVIDER_NEW_DOMAIN)
>>> a = advise(c, notice, now=dt.datetime.fromisoformat("2025-03-04T23:00:00+08:00"), lang="en")
>>> a.action.value, a.urgency.value, a.reachable_after.isoformat(), str(a.wait)
('wait_for_sync', 'normal', '2025-03-05T02:30:00+08:00', '3:30:00')
"""

from __future__ import annotations

import datetime as dt
import re
import string
import threading
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

from pydantic import ValidationError

from icp_notify.advice_file import (
    AMBIGUOUS,
    KNOWN_KEYS,
    LANGS,
    MOVED_CANCELLATION,
    PLACEHOLDERS,
    REQUIRED_KEYS,
    UNSURE,
    AdviceEntry,
    AdviceFile,
    LangEntry,
    check_structure,
    error_from_validation,
)
from icp_notify.boundary import coerce_time
from icp_notify.errors import AdviceFileError, InputError
from icp_notify.models import (
    SHANGHAI,
    URGENCY_ORDER,
    Advice,
    Classification,
    Decider,
    Kind,
    Notice,
    Reference,
    Situation,
    Urgency,
    construct_trusted,
    in_datetime_range,
)

__all__ = [
    "AMBIGUOUS",
    "DEFAULT_PATH",
    "LANGS",
    "MOVED_CANCELLATION",
    "PLACEHOLDERS",
    "UNSURE",
    "AdviceTiming",
    "Advisor",
    "advise",
    "deadline_from_notice",
    "format_time",
    "parse_now",
]

DEFAULT_PATH = Path(__file__).parent / "data" / "advice.toml"
"""The advice file shipped with the package."""

# --------------------------------------------------------------------------- helpers


class AdviceTiming(NamedTuple):
    """What of an advice depends on the notice's arrival time and the clock (:meth:`Advisor.timing`).

    Examples
    --------
    >>> import datetime as dt
    >>> t = AdviceTiming("new_domain", dt.datetime(2025, 3, 5, 2, 30, tzinfo=SHANGHAI),
    ...     None, False, None, False)
    >>> t.texts("zh")
    ('2025-03-05 02:30（北京时间）', None)
    """

    key: str
    """The advice entry (:meth:`Advisor.entry_key`)."""
    reachable_after: dt.datetime | None
    wait: dt.timedelta | None
    after: bool
    """The wait is over: the ``after_sync`` texts apply."""
    deadline: dt.datetime | None
    deadline_passed: bool

    def texts(self, lang: Literal["zh", "en"]) -> tuple[str | None, str | None]:
        """``reachable_after`` and ``deadline`` as the advice texts write them (:func:`format_time`).

        Parameters
        ----------
        lang : {"zh", "en"}
            The language.

        Returns
        -------
        (str or None, str or None)
        """
        return (
            None if self.reachable_after is None else format_time(self.reachable_after, lang),
            None if self.deadline is None else format_time(self.deadline, lang),
        )


def format_time(value: dt.datetime, lang: Literal["zh", "en"]) -> str:
    """Format an aware datetime in Asia/Shanghai for an advice text.

    Parameters
    ----------
    value : datetime
        Any aware datetime (naive values are taken as Asia/Shanghai).
    lang : {"zh", "en"}
        The language.

    Returns
    -------
    str
        ``YYYY-MM-DD HH:MM`` in China Standard Time, with the zone named.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2025, 3, 4, 18, 40, tzinfo=dt.UTC)
    >>> format_time(t, "zh"), format_time(t, "en")
    ('2025-03-05 02:40（北京时间）', '2025-03-05 02:40 (Beijing time, UTC+8)')
    """
    at = coerce_time(value, field="time").astimezone(SHANGHAI)
    # strftime("%Y-%m-%d %H:%M"): a time in range has a four-digit year in Asia/Shanghai
    local = f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at.hour:02d}:{at.minute:02d}"
    return f"{local}（北京时间）" if lang == "zh" else f"{local} (Beijing time, UTC+8)"


_ZH_CLOSING = "，。：；、）！？”》"
_ZH_OPENING = "（“《"
_SPACES = re.compile("  +")
_ZH_SPACE = re.compile(f" (?=[{_ZH_CLOSING}])|(?<=[{_ZH_OPENING}]) ")


def _fill(template: str, values: Mapping[str, str], lang: Literal["zh", "en"]) -> str:
    """Fill the placeholders; in Chinese, drop the spaces a filled phrase leaves beside punctuation.

    Examples
    --------
    >>> _fill("确认{number}：", {"number": "备案号 京ICP备12345678号 "}, "zh")
    '确认备案号 京ICP备12345678号：'
    """
    text = template.format_map(values)
    if lang == "zh":
        if " " in text:
            # runs of spaces become one; then a space before a closing or after an opening
            # mark goes (each space's fate depends on its own neighbours only)
            text = _ZH_SPACE.sub("", _SPACES.sub(" ", text))
    elif text.startswith(("your ", "the ", "about ", "after ", "before ", "within ")):
        text = text[0].upper() + text[1:]  # a fallback phrase that opens a sentence
    return text.strip()


def _provider_of(notice: Notice) -> str | None:
    """The provider a notice is about: its sender's, else the first one it names."""
    if notice.sender_provider:
        return notice.sender_provider
    mention = notice.entities.provider
    return mention.name if mention is not None else None


def _domain_of(notice: Notice) -> str | None:
    """The operator's domain: the first one named that is not MIIT's own filing site."""
    for domain in notice.entities.domains:
        if domain.name != "miit.gov.cn" and not domain.name.endswith(".miit.gov.cn"):
            return domain.name
    return None


def _number_of(notice: Notice) -> str | None:
    """The filing number: the first website number (``-N``), else the first number named."""
    numbers = notice.entities.icp_numbers
    for number in numbers:
        if number.site is not None:
            return number.canonical
    return numbers[0].canonical if numbers else None


def parse_now(now: dt.datetime | str | None) -> dt.datetime | None:
    """The clock ``now`` as :meth:`Advisor.advise` reads it, for :meth:`Advisor.timing`.

    Callers that advise many notices against one clock (``icp-notify batch``) check it once
    and pass the result to :meth:`Advisor.timing`; :meth:`Advisor.compose` of that timing is
    then what :meth:`Advisor.advise` returns.

    Parameters
    ----------
    now : datetime, ISO 8601 string or None
        Naive values are Asia/Shanghai.

    Returns
    -------
    datetime or None
        Aware, inside the supported range.

    Raises
    ------
    InputError
        For a malformed or out-of-range time (``where="now"``).

    Examples
    --------
    >>> parse_now("2025-03-04T09:12:00").isoformat()
    '2025-03-04T09:12:00+08:00'
    >>> parse_now(None) is None
    True
    """
    return coerce_time(now, field="now")


def _shift(start: dt.datetime, delta: dt.timedelta) -> dt.datetime | None:
    """``start + delta`` in Asia/Shanghai, or ``None`` when it leaves the supported range."""
    try:
        end = (start + delta).astimezone(SHANGHAI)
    except OverflowError:
        return None
    return end if in_datetime_range(end) else None


def _check_lang(lang: str) -> Literal["zh", "en"]:
    if lang not in LANGS:
        raise InputError(
            "invalid_field", f"unknown language {lang!r}", where="lang", hint="use 'zh' or 'en'"
        )
    return "zh" if lang == "zh" else "en"


class _Plan(NamedTuple):
    """What :meth:`Advisor.compose` fills for a timing: the entry, urgency and templates."""

    entry: AdviceEntry
    urgency: Urgency
    summary: str
    steps: tuple[str, ...]
    why: str
    ambiguous: bool
    timed: tuple[bool, frozenset[str], bool]
    """Whether the summary, which steps and whether the why write a time."""

    @classmethod
    def of(
        cls,
        entry: AdviceEntry,
        urgency: Urgency,
        summary: str,
        steps: tuple[str, ...],
        why: str,
        *,
        ambiguous: bool,
    ) -> _Plan:
        """A plan, with the templates that write a time found."""
        timed = (_reads_time(summary), frozenset(filter(_reads_time, steps)), _reads_time(why))
        return cls(entry, urgency, summary, steps, why, ambiguous, timed)

    def time_texts(self, texts: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
        """The time texts the templates are filled with (an ambiguous advice names no deadline)."""
        return (texts[0], None) if self.ambiguous else texts


_TIME_PLACEHOLDERS = frozenset({"reachable_after", "deadline"})


def _reads_time(template: str) -> bool:
    """Whether a template has a ``{reachable_after}`` or ``{deadline}`` placeholder."""
    return any(f in _TIME_PLACEHOLDERS for _, f, _, _ in string.Formatter().parse(template))


def _same_time(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    """Whether two optional times are the same instant written the same way (same zone)."""
    if a is None or b is None:
        return a is b
    return a == b and a.tzinfo is b.tzinfo and a.utcoffset() == b.utcoffset()


# --------------------------------------------------------------------------- advisor


class Advisor:
    """Advice entries loaded from a TOML file, and the function that applies them.

    Build it with :meth:`load` or :meth:`default`; an ``Advisor`` is immutable after loading and
    safe to share between threads.

    Parameters
    ----------
    data : AdviceFile
        The validated advice document (internal; use :meth:`load` or :meth:`from_dict`).
    path : str
        Where the document came from, for error messages.

    Examples
    --------
    >>> advisor = Advisor.default()
    >>> advisor is Advisor.default()
    True
    >>> advisor.entry("access_cancelled").urgency.value
    'critical'
    """

    TIMED_FIELDS: tuple[str, ...] = (
        "summary",
        "steps",
        "why",
        "reachable_after",
        "wait",
        "deadline",
    )
    """The :class:`~icp_notify.models.Advice` fields that :meth:`compose` takes from the timing
    and the time texts; the others (action, urgency, language, references) depend only on the
    classification, the language and the notice, so two timings of one notice differ in these."""

    _default: Advisor | None = None
    _lock = threading.Lock()

    def __init__(self, data: AdviceFile, path: str) -> None:
        self._data = data
        self.path = path
        # candidates tuple -> (most urgent first, all of them wait for sync); a pure function
        # of the tuple and the file, at most a few hundred tuples (orderings of 5 situations)
        self._orderings: dict[tuple[Situation, ...], tuple[tuple[Situation, ...], bool]] = {}
        # (entry, language, side of the wait and deadline[, candidates]) -> the texts to fill
        self._plans: dict[tuple[Any, ...], _Plan] = {}
        # (references wanted, provider named, language) -> the references: a pure function of
        # the key and the file (frozen models, shared as retime shares them)
        self._refs: dict[tuple[Any, ...], tuple[Reference, ...]] = {}

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str | Path) -> Advisor:
        """Load and validate an advice file.

        Parameters
        ----------
        path : str or Path
            A TOML file in the format of ``icp_notify/data/advice.toml``.

        Returns
        -------
        Advisor

        Raises
        ------
        AdviceFileError
            When the file cannot be read, is not TOML, or an entry is invalid (the message names
            the file, the entry and the field).
        """
        name = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise AdviceFileError(name, f"cannot read the file: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise AdviceFileError(name, f"not UTF-8: {exc.reason}") from None
        except tomllib.TOMLDecodeError as exc:
            raise AdviceFileError(name, f"not valid TOML: {exc}") from None
        return cls.from_dict(raw, path=name)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, path: str = "<advice>") -> Advisor:
        """Validate already-parsed advice data (the TOML document as a dict).

        Parameters
        ----------
        raw : Mapping
            The advice document, in the format of ``icp_notify/data/advice.toml``.
        path : str, default "<advice>"
            Name used in error messages.

        Returns
        -------
        Advisor

        Raises
        ------
        AdviceFileError
            As for :meth:`load`.
        """
        for key in raw.get("entry", {}) if isinstance(raw.get("entry"), Mapping) else ():
            if key not in KNOWN_KEYS:
                raise AdviceFileError(
                    path,
                    "unknown entry key (use a situation, a kind of an 'other' notice, "
                    f"'{AMBIGUOUS}', '{UNSURE}' or '{MOVED_CANCELLATION}')",
                    item=f"entry.{key}",
                )
        try:
            data = AdviceFile.model_validate(raw)
        except ValidationError as exc:
            raise error_from_validation(path, exc) from None
        missing = [k for k in REQUIRED_KEYS if k not in data.entry]
        if missing:
            raise AdviceFileError(
                path, f"no advice for {', '.join(missing)}", item=f"entry.{missing[0]}"
            )
        for lang in LANGS:
            if lang not in data.phrases:
                raise AdviceFileError(
                    path, f"the {lang!r} phrases are missing", item=f"phrases.{lang}"
                )
        for ref in ("miit", "miit_query"):
            if ref not in data.references:
                raise AdviceFileError(path, "reference is missing", item=f"references.{ref}")
        for key, entry in data.entry.items():
            check_structure(path, key, entry)
        return cls(data, path)

    @classmethod
    def default(cls) -> Advisor:
        """The advisor of the shipped ``advice.toml``, loaded once (thread-safe) and shared.

        Returns
        -------
        Advisor
            The same object on every call.
        """
        advisor = cls._default
        if advisor is None:
            with cls._lock:
                advisor = cls._default
                if advisor is None:
                    advisor = cls.load(DEFAULT_PATH)
                    Advisor._default = advisor
        return advisor

    # ------------------------------------------------------------------ lookup

    @property
    def keys(self) -> tuple[str, ...]:
        """Every entry key, in file order."""
        return tuple(self._data.entry)

    @property
    def sync_hours(self) -> float:
        """Hours between an approval notice and the site being reachable (MIIT's advice)."""
        return self._data.timing.sync_hours

    @property
    def providers(self) -> dict[str, tuple[str, str | None]]:
        """Provider table: canonical name → (English name, filing console URL or None)."""
        return {name: (p.en, p.console) for name, p in self._data.providers.items()}

    def entry(self, key: str) -> AdviceEntry:
        """The entry for a situation, kind or special key.

        Parameters
        ----------
        key : str
            A situation value, a kind value of an ``other`` notice, ``"ambiguous"`` or
            ``"access_cancelled_after_move"``.

        Returns
        -------
        AdviceEntry
            The validated entry (action, urgency and the texts in each language).

        Raises
        ------
        KeyError
            When there is no such entry.
        """
        return self._data.entry[key]

    def entry_key(self, classification: Classification) -> str:
        """The entry that applies to a classification.

        Ambiguous → ``ambiguous``; ``other`` → the entry of its kind; a cancellation that context
        decided (context only decides it after a move of provider) → ``access_cancelled_after_move``;
        any other change situation → the situation's entry.

        Parameters
        ----------
        classification : Classification
            The classifier's result.

        Returns
        -------
        str
            A key of the advice file's ``entry`` table.

        Examples
        --------
        >>> from icp_notify.models import Classification, Kind, Situation
        >>> c = Classification(situation=Situation.OTHER, ambiguous=False,
        ...     candidates=(Situation.OTHER,), confidence=0.9,
        ...     probabilities={Situation.OTHER: 1.0}, kind=Kind.PHISHING)
        >>> Advisor.default().entry_key(c)
        'phishing'
        """
        situation = classification.situation
        if classification.ambiguous or situation is None:
            return AMBIGUOUS
        if situation is Situation.OTHER:
            key = classification.kind.value
            return key if key in self._data.entry else Situation.OTHER.value
        if (
            situation is Situation.ACCESS_CANCELLED
            and Decider.CONTEXT in classification.decided_by
            and classification.kind is Kind.CHANGE_NOTICE_GENERIC
            and MOVED_CANCELLATION in self._data.entry
        ):
            return MOVED_CANCELLATION
        return situation.value

    # ------------------------------------------------------------------ advice

    def advise(
        self,
        classification: Classification,
        notice: Notice,
        *,
        now: dt.datetime | str | None = None,
        lang: str = "zh",
    ) -> Advice:
        """What to do about a classified notice.

        Parameters
        ----------
        classification : Classification
            The classifier's result for ``notice``.
        notice : Notice
            The parsed notice; its entities fill the placeholders, its ``received_at`` anchors
            ``reachable_after`` and relative deadlines.
        now : datetime or ISO string, optional
            The current time; with it, ``wait`` is computed and the steps follow the clock.
            Naive values are Asia/Shanghai.
        lang : {"zh", "en"}
            The language of the texts; both give the same structure.

        Returns
        -------
        Advice
            Times (``reachable_after``, ``deadline``) are in Asia/Shanghai.

        Raises
        ------
        InputError
            For an unknown ``lang`` or a malformed ``now``.
        """
        language = _check_lang(lang)
        timing = self.timing(classification, notice, now=coerce_time(now, field="now"))
        return self.compose(classification, notice, language, timing, timing.texts(language))

    def timing(
        self,
        classification: Classification,
        notice: Notice,
        *,
        now: dt.datetime | None,
        received_at: dt.datetime | Literal[False] | None = False,
    ) -> AdviceTiming:
        """Everything of the advice that depends on the arrival time and the clock.

        :meth:`advise` is :meth:`compose` of this timing; the rest of the advice reads only the
        classification, the language and the notice's provider, domains and filing numbers.
        ``icp-notify batch`` uses the split to reuse the texts across arrival times.

        Parameters
        ----------
        classification : Classification
            The classifier's result for ``notice``.
        notice : Notice
            The parsed notice (its dates and durations give a stated deadline).
        now : datetime, optional
            The current time (aware), as :meth:`advise` takes it after checking.
        received_at : datetime or None, optional
            The arrival time to use instead of ``notice.received_at``.

        Returns
        -------
        AdviceTiming
        """
        arrived = notice.received_at if received_at is False else received_at
        return self._timing(self.entry_key(classification), classification, notice, now, arrived)

    def _timing(
        self,
        key: str,
        classification: Classification,
        notice: Notice,
        now: dt.datetime | None,
        arrived: dt.datetime | None,
    ) -> AdviceTiming:
        """:meth:`timing` for the entry ``key`` (:meth:`entry_key` of the classification)."""
        if key == AMBIGUOUS:
            ordered, sync_all = self._ordering(classification)
            reachable_after, wait, _after = (
                self._sync(self._data.entry[ordered[0].value], arrived, now)
                if sync_all
                else (None, None, False)
            )
            return AdviceTiming(key, reachable_after, wait, False, None, False)
        entry = self._data.entry[key]
        reachable_after, wait, after = self._sync(entry, arrived, now)
        deadline = _stated_deadline(notice, arrived) if entry.deadline_from_notice else None
        passed = deadline is not None and now is not None and now > deadline
        return AdviceTiming(key, reachable_after, wait, after, deadline, passed)

    def compose(
        self,
        classification: Classification,
        notice: Notice,
        language: Literal["zh", "en"],
        timing: AdviceTiming,
        time_texts: tuple[str | None, str | None],
    ) -> Advice:
        """The advice for a timing (see :meth:`timing`), with the times written as given.

        Parameters
        ----------
        classification : Classification
            The classifier's result for ``notice``.
        notice : Notice
            The parsed notice; its provider, domains and filing numbers fill the placeholders.
        language : {"zh", "en"}
            The language of the texts.
        timing : AdviceTiming
            From :meth:`timing`.
        time_texts : (str or None, str or None)
            ``reachable_after`` and ``deadline`` as written in the texts (``None`` when the
            timing has none): :meth:`advise` passes :meth:`AdviceTiming.texts`.

        Returns
        -------
        Advice
        """
        plan = self._plan(classification, language, timing)
        values = self._values(notice, language, plan.time_texts(time_texts))
        return Advice(
            action=plan.entry.action,
            urgency=plan.urgency,
            lang=language,
            summary=_fill(plan.summary, values, language),
            steps=tuple(_fill(s, values, language) for s in plan.steps),
            why=self._with_chain(classification, language, _fill(plan.why, values, language)),
            references=self._references(plan.entry.references, notice, language),
            reachable_after=timing.reachable_after,
            wait=timing.wait,
            deadline=None if plan.ambiguous else timing.deadline,
        )

    def arrival_matters(self, classification: Classification, notice: Notice) -> bool:
        """Whether the advice for this classification and notice can depend on its arrival time.

        ``False`` means :meth:`timing` (hence :meth:`advise`) gives the same result for every
        ``received_at`` at a given clock: the entry neither waits for MIIT's data to sync nor
        counts a stated limit (``24小时内``) from the arrival. ``True`` is a "may": use
        :meth:`timing` and :meth:`retime` per arrival time.

        Parameters
        ----------
        classification : Classification
            The classifier's result for ``notice``.
        notice : Notice
            The parsed notice.

        Returns
        -------
        bool

        Examples
        --------
        >>> from icp_notify import parse
        >>> from icp_notify.classifier import classify
        >>> advisor = Advisor.default()
        >>> n = parse("【示例云】您的备案申请（新增网站 site1-example.cn）已审核通过。")
        >>> advisor.arrival_matters(classify(n), n)
        True
        >>> n = parse("【示例云】您的网站 site1-example.cn 已完成取消接入。")
        >>> advisor.arrival_matters(classify(n), n)
        False
        """
        key = self.entry_key(classification)
        if key == AMBIGUOUS:
            return self._ordering(classification)[1]
        entry = self._data.entry[key]
        if entry.wait_for_sync:
            return True
        # a stated date wins over a limit counted from the arrival (see _stated_deadline)
        return entry.deadline_from_notice and not any(
            mention.value is not None for mention in notice.entities.dates
        )

    def retime(
        self,
        advice: Advice,
        was: AdviceTiming,
        classification: Classification,
        notice: Notice,
        *,
        now: dt.datetime | None,
        received_at: dt.datetime | None,
    ) -> tuple[Advice, AdviceTiming]:
        """The advice for another arrival time, made from an advice composed for the notice.

        ``advice`` must be ``compose(classification, notice, lang, was, was.texts(lang))``, with
        ``was`` a :meth:`timing` of this classification and notice at the clock ``now``; the
        result is the advice and timing :meth:`advise` gives for the notice arriving at
        ``received_at`` (in ``lang`` = ``advice.lang``, at ``now``): ``compose`` of
        ``timing(classification, notice, now=now, received_at=received_at)``. When both timings
        choose the same texts (same side of the sync wait and of the deadline) only the texts
        that write a time (``{reachable_after}``, ``{deadline}``) are filled again and the
        time fields replaced, the other fields shared with ``advice`` (``advice`` itself when
        nothing changes); otherwise the advice is composed anew. ``icp-notify batch`` re-times
        one cached advice for each row's arrival time this way.

        Parameters
        ----------
        advice : Advice
            The advice composed for ``was``.
        was : AdviceTiming
            The timing ``advice`` was composed for.
        classification : Classification
            The classifier's result for ``notice``.
        notice : Notice
            The parsed notice (its provider, domains and filing numbers fill the texts).
        now : datetime, optional
            The clock ``was`` was computed at (aware, as :func:`parse_now` returns it).
        received_at : datetime, optional
            The arrival time wanted (aware).

        Returns
        -------
        (Advice, AdviceTiming)
            The advice and its timing.

        Examples
        --------
        >>> import datetime as dt
        >>> from icp_notify import parse
        >>> from icp_notify.classifier import classify
        >>> advisor = Advisor.default()
        >>> n = parse("【工信部】您的短信核验码为123456，由示例云发起的新增网站已提交，24小时内有效。")
        >>> c = classify(n)
        >>> now = dt.datetime(2025, 3, 5, 12, tzinfo=SHANGHAI)
        >>> nine, ten = (dt.datetime(2025, 3, 5, h, tzinfo=SHANGHAI) for h in (9, 10))
        >>> was = advisor.timing(c, n, now=now, received_at=nine)
        >>> first = advisor.compose(c, n, "en", was, was.texts("en"))
        >>> again, timing = advisor.retime(first, was, c, n, now=now, received_at=ten)
        >>> again == advisor.advise(c, n.model_copy(update={"received_at": ten}), now=now, lang="en")
        True
        >>> again.deadline.isoformat(), again.references is first.references
        ('2025-03-06T10:00:00+08:00', True)
        """
        language: Literal["zh", "en"] = advice.lang
        # the classification decides the entry: the key of ``was`` is this timing's key
        timing = self._timing(was.key, classification, notice, now, received_at)
        if was.after != timing.after or was.deadline_passed != timing.deadline_passed:
            texts = timing.texts(language)
            return self.compose(classification, notice, language, timing, texts), timing
        values = advice.__dict__
        update: dict[str, Any] = {}
        if not _same_time(was.reachable_after, timing.reachable_after):
            update["reachable_after"] = timing.reachable_after
        if timing.wait != was.wait:
            update["wait"] = timing.wait
        plan = self._plan(classification, language, timing)
        if not plan.ambiguous and not _same_time(was.deadline, timing.deadline):
            update["deadline"] = timing.deadline  # (an ambiguous advice has no deadline)
        if not update:
            return advice, timing
        summary_timed, steps_timed, why_timed = plan.timed
        if summary_timed or steps_timed or why_timed:
            filled = self._values(notice, language, plan.time_texts(timing.texts(language)))
            if summary_timed:
                update["summary"] = _fill(plan.summary, filled, language)
            if steps_timed:
                update["steps"] = tuple(
                    _fill(template, filled, language) if template in steps_timed else text
                    for template, text in zip(plan.steps, values["steps"], strict=True)
                )
            if why_timed:
                why = _fill(plan.why, filled, language)
                update["why"] = self._with_chain(classification, language, why)
        # what compose would build: the same field values (validated when ``advice`` was
        # built, or made by this advisor: aware times in range, a wait of zero or more)
        return construct_trusted(Advice, {**values, **update}), timing

    def _plan(
        self, classification: Classification, language: Literal["zh", "en"], timing: AdviceTiming
    ) -> _Plan:
        """The entry and the templates :meth:`compose` fills for a timing (memoised)."""
        key: tuple[Any, ...] = (timing.key, language, timing.after, timing.deadline_passed)
        if timing.key == AMBIGUOUS:
            generic = classification.kind is Kind.CHANGE_NOTICE_GENERIC
            key = (*key, generic, classification.candidates)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._new_plan(classification, language, timing)
            if len(self._plans) < 4096:  # entries × languages × sides, and candidate orders
                self._plans[key] = plan
        return plan

    def _new_plan(
        self, classification: Classification, language: Literal["zh", "en"], timing: AdviceTiming
    ) -> _Plan:
        """:meth:`_plan`, computed."""
        if timing.key != AMBIGUOUS:
            entry = self._data.entry[timing.key]
            texts: LangEntry = getattr(entry, language)
            summary, steps = texts.summary, texts.steps
            if timing.after and texts.after_sync is not None:
                summary, steps = texts.after_sync.summary, texts.after_sync.steps
            if timing.deadline_passed:
                steps = (self._data.phrases[language].deadline_passed, *steps)
            return _Plan.of(entry, entry.urgency, summary, steps, texts.why, ambiguous=False)
        # the ambiguous advice walks through the candidates, most urgent first (the unsure
        # entry's words for an explicit notice the classifier would not decide)
        entry = self._data.entry[AMBIGUOUS]
        if classification.kind is not Kind.CHANGE_NOTICE_GENERIC:
            entry = self._data.entry.get(UNSURE, entry)
        texts = getattr(entry, language)
        ordered = self._ordering(classification)[0]
        lines = (getattr(self._data.entry[s.value], language).if_candidate for s in ordered)
        steps = (*(line for line in lines if line), *texts.steps)
        urgency = self._data.entry[ordered[0].value].urgency
        return _Plan.of(entry, urgency, texts.summary, steps, texts.why, ambiguous=True)

    def chain_sentence(
        self, classification: Classification, lang: Literal["zh", "en"] = "zh"
    ) -> str | None:
        """The sentence naming the chain of events behind a context decision, or ``None``.

        Parameters
        ----------
        classification : Classification
            A result whose evidence holds the context's chain (``Evidence`` id ``chain``).
        lang : {"zh", "en"}
            The language.

        Returns
        -------
        str or None
            ``None`` when context did not decide (or narrow to a due cancellation), or the
            advice file has no ``[chain]`` table.

        Examples
        --------
        >>> from icp_notify.classifier import classify
        >>> g = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
        >>> c = classify(g, received_at="2025-05-20T10:00:00", context={
        ...     "operations": [{"kind": "access_domain", "provider": "腾讯云",
        ...                     "submitted_at": "2025-03-01T10:00:00"}],
        ...     "previous_notices": [{"text": g, "received_at": "2025-03-09T10:00:00"}]})
        >>> Advisor.default().chain_sentence(c)
        '2025年3月1日提交的腾讯云接入备案已于2025年3月9日的通知生效；这条通知最可能是原接入商取消接入。'
        """
        from icp_notify.context import chain_facts

        texts = self._data.chain.get(lang)
        facts = chain_facts(classification.evidence)
        if texts is None or facts is None:
            return None
        template = {
            "recent_operations": texts.operation,
            "same_approval": texts.approval,
            "confirmed_move": texts.cancellation,
            "completed_move": texts.cancellation,
            "late_cancellation": texts.late_cancellation,
            "rectification": texts.rectification,
            "cancellation_due": texts.cancellation_due,
        }.get(facts.rule)
        if template is None:
            return None

        def day(value: dt.date | None) -> str:
            if value is None:
                return "?"
            mon = [
                "Jan",
                "Feb",
                "Mar",
                "Apr",
                "May",
                "Jun",
                "Jul",
                "Aug",
                "Sep",
                "Oct",
                "Nov",
                "Dec",
            ][value.month - 1]
            return texts.date_format.format(y=value.year, m=value.month, d=value.day, mon=mon)

        def provider(name: str | None) -> str:
            if name is None:
                return texts.provider_unknown
            known = self._data.providers.get(name)
            return known.en if lang == "en" and known is not None else name

        kind = facts.operation_kind or facts.situation
        values = {
            "submitted": day(facts.submitted_on),
            "provider": provider(facts.provider),
            "operation": getattr(texts, kind.value) if kind is not None else "",
            "completed": day(facts.completed_on),
            "move_submitted": day(facts.move_submitted_on),
            "move_provider": provider(facts.move_provider),
        }
        return template.format_map(values)

    def _with_chain(
        self, classification: Classification, lang: Literal["zh", "en"], why: str
    ) -> str:
        if not classification.evidence:
            return why
        sentence = self.chain_sentence(classification, lang)
        if sentence is None:
            return why
        return f"{sentence}{'' if lang == 'zh' else ' '}{why}"

    def _ordering(self, classification: Classification) -> tuple[tuple[Situation, ...], bool]:
        """An ambiguous notice's candidates, most urgent first (stable: the classifier's
        likelihood order within an urgency), and whether all their entries wait for sync."""
        key = classification.candidates
        cacheable = type(key) is tuple
        known = self._orderings.get(key) if cacheable else None
        if known is not None:
            return known
        rank = {u: i for i, u in enumerate(URGENCY_ORDER)}
        candidates = list(classification.candidates) or [
            s for s in Situation if s is not Situation.OTHER
        ]
        ordered = tuple(sorted(candidates, key=lambda s: rank[self._data.entry[s.value].urgency]))
        sync_all = all(self._data.entry[s.value].wait_for_sync for s in ordered)
        if cacheable and len(self._orderings) < 1024:
            self._orderings[key] = ordered, sync_all
        return ordered, sync_all

    # ------------------------------------------------------------------ parts

    def _sync(
        self, entry: AdviceEntry, received_at: dt.datetime | None, now_at: dt.datetime | None
    ) -> tuple[dt.datetime | None, dt.timedelta | None, bool]:
        """(reachable_after, wait, wait is over) for an entry."""
        if not entry.wait_for_sync or received_at is None:
            return None, None, False
        reachable = _shift(received_at, dt.timedelta(hours=self.sync_hours))
        if reachable is None:
            return None, None, False
        if now_at is None:
            return reachable, None, False
        left = reachable - now_at
        if left <= dt.timedelta(0):
            return reachable, dt.timedelta(0), True
        return reachable, left, False

    def _values(
        self,
        notice: Notice,
        lang: Literal["zh", "en"],
        time_texts: tuple[str | None, str | None],
    ) -> dict[str, str]:
        phrases = self._data.phrases[lang]
        provider = phrases.provider_unknown
        name = _provider_of(notice)
        if name is not None:
            provider = name
            known = self._data.providers.get(provider)
            if lang == "en" and known is not None:
                provider = known.en

        def phrase(known: str, unknown: str, value: str | None) -> str:
            return unknown if value is None else known.format(value=value)

        return {
            "provider": provider,
            "domain": phrase(phrases.domain_known, phrases.domain_unknown, _domain_of(notice)),
            "number": phrase(phrases.number_known, phrases.number_unknown, _number_of(notice)),
            "reachable_after": phrase(
                phrases.reachable_after_known, phrases.reachable_after_unknown, time_texts[0]
            ),
            "deadline": phrase(phrases.deadline_known, phrases.deadline_unknown, time_texts[1]),
        }

    def _references(
        self, wanted: Sequence[str], notice: Notice, lang: Literal["zh", "en"]
    ) -> tuple[Reference, ...]:
        key = (tuple(wanted), _provider_of(notice), lang)
        known = self._refs.get(key)
        if known is None:
            known = self._new_references(wanted, notice, lang)
            if len(self._refs) < 4096:  # entries' lists × providers × languages
                self._refs[key] = known
        return known

    def _new_references(
        self, wanted: Sequence[str], notice: Notice, lang: Literal["zh", "en"]
    ) -> tuple[Reference, ...]:
        """:meth:`_references`, computed (reads only the provider :func:`_provider_of` names)."""
        refs: list[Reference] = []
        for ref_name in wanted:
            if ref_name == "provider":
                name = _provider_of(notice)
                known = self._data.providers.get(name) if name is not None else None
                if name is not None and known is not None and known.console is not None:
                    label = name if lang == "zh" else known.en
                    title = self._data.phrases[lang].console_title.format(provider=label)
                    refs.append(Reference(title=title, url=known.console))
            else:
                ref = self._data.references[cast(Literal["miit", "miit_query"], ref_name)]
                refs.append(Reference(title=getattr(ref, lang), url=ref.url))
        return tuple(refs)


# --------------------------------------------------------------------------- deadlines


def deadline_from_notice(notice: Notice) -> dt.datetime | None:
    """The deadline a notice states, from the dates and durations its parser extracted.

    A date (``请于2025年3月5日前``) gives the end of that day in Asia/Shanghai, or the time given
    with it; failing a date, a limit (``24小时内``, ``有效期24小时``) counts from ``received_at``.

    Parameters
    ----------
    notice : Notice

    Returns
    -------
    datetime or None
        In Asia/Shanghai.

    Examples
    --------
    >>> from icp_notify.models import DateMention, Entities, Notice
    >>> import datetime as dt
    >>> n = Notice(raw_text="x", text="请于2025年3月5日前完成核查",
    ...     entities=Entities(dates=(DateMention(text="2025年3月5日", value=dt.date(2025, 3, 5)),)))
    >>> deadline_from_notice(n).isoformat()
    '2025-03-05T23:59:59+08:00'
    """
    return _stated_deadline(notice, notice.received_at)


def _stated_deadline(notice: Notice, received_at: dt.datetime | None) -> dt.datetime | None:
    """:func:`deadline_from_notice` with ``received_at`` for the notice's arrival time."""
    for mention in notice.entities.dates:
        if mention.value is None:
            continue
        at = mention.time if mention.time is not None else dt.time(23, 59, 59)
        stated = dt.datetime.combine(mention.value, at, tzinfo=SHANGHAI)
        return stated if in_datetime_range(stated) else None
    if received_at is None:
        return None
    for duration in notice.entities.durations:
        position = notice.text.find(duration.text)
        around = notice.text[max(0, position - 6) : position + len(duration.text) + 4]
        if duration.within or "有效" in around or "内" in around:
            try:
                delta = dt.timedelta(seconds=duration.seconds)
            except OverflowError:
                return None
            return _shift(received_at, delta)
    return None


def advise(
    classification: Classification,
    notice: Notice,
    *,
    now: dt.datetime | str | None = None,
    lang: str = "zh",
) -> Advice:
    """What to do about a classified notice, with the shipped advice (see :meth:`Advisor.advise`).

    Parameters
    ----------
    classification : Classification
        The classifier's result for ``notice``.
    notice : Notice
        The parsed notice; its entities fill the placeholders, its ``received_at`` anchors
        ``reachable_after`` and relative deadlines.
    now : datetime or ISO string, optional
        The current time; with it, ``wait`` is computed and the steps follow the clock.
        Naive values are Asia/Shanghai.
    lang : {"zh", "en"}
        The language of the texts.

    Returns
    -------
    Advice
        Action, urgency, summary, steps and references; times are in Asia/Shanghai.

    Raises
    ------
    InputError
        For an unknown ``lang`` or a malformed ``now``.

    Examples
    --------
    >>> from icp_notify.models import Classification, Kind, Notice, Situation
    >>> c = Classification(situation=Situation.ACCESS_CANCELLED, ambiguous=False,
    ...     candidates=(Situation.ACCESS_CANCELLED,), confidence=0.97,
    ...     probabilities={Situation.ACCESS_CANCELLED: 1.0}, kind=Kind.PROVIDER_ACCESS_CANCELLED)
    >>> a = advise(c, Notice(raw_text="x", text="x"), lang="en")
    >>> a.action.value, a.urgency.value, a.references[0].url
    ('refile_now', 'critical', 'https://beian.miit.gov.cn/')
    """
    return Advisor.default().advise(classification, notice, now=now, lang=lang)
