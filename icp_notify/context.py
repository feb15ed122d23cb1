"""Explain MIIT's generic notice by replaying the filing's timeline (operations and notices).

MIIT sends one generic text (您的备案信息已被变更…) for 新增域名, 修改域名, 接入域名 and for an old
provider's 取消接入. The text cannot tell them apart; the user's own history can.
:func:`explain_timeline` replays the operations and notices in time order and attributes every
notice to what explains it — an operation, a move's cancellation, a provider's explicit notice of
the same approval, or nothing — with the rule that attributed it. :func:`weigh` is the same
replay, answering for one notice.

Each approved operation produces one generic notice; a move of provider (an ``access_domain``
operation) produces a second one later, when the old provider cancels its access. When the
history allows several readings (two pending operations of different kinds, a pending operation
while a cancellation is still to come), the replay keeps every reading (at most
:data:`MAX_READINGS`) and a notice is decided only when all readings agree.

The rules, in the order they are tried for a generic notice (the first that applies wins, in
every reading of the history):

=====  ==============================  ============================================================
 #      rule (``ContextVerdict.rule``)  what it says
=====  ==============================  ============================================================
 1      (validity)                      An operation submitted less than one day before the notice,
                                        or after it, cannot explain it; every later rule ignores it.
 2      (use-up)                        Each approved operation produces one generic notice; a
                                        notice uses up what explained it. A provider's explicit
                                        approval notice (接入备案 / 新增网站 / 变更备案已通过)
                                        confirms (uses up) the matching operation (named by domain
                                        or provider, else the earliest); 取消接入 from a provider
                                        settles a cancellation. Progress notices, codes and other
                                        notices use up nothing. Earlier notices are recognised with
                                        the rules (:mod:`icp_notify.rules`).
 3      ``same_approval``               A provider's explicit approval notice came less than
                                        :data:`PAIR_WINDOW` before and no generic notice was paired
                                        with it yet → MIIT's notice of the same approval → that
                                        notice's situation.
 4      ``recent_operations``           The unused valid operations submitted within
                                        :data:`RECENT_WINDOW` (20 days of review + MIIT's 7 h delay)
                                        are all of one kind → that kind. An ``access_domain``
                                        explained so completes a move.
 5      ``cancellation_due``            Family 3: rule 3 or 4 would decide, but a move completed in
                                        the last :data:`CANCEL_WINDOW` (120 days) has no cancellation
                                        yet (or a provider's 整改 request threatens one) → ambiguous
                                        between that kind and ``access_cancelled``; the next notice
                                        stays ambiguous until the readings agree again.
 6      ``confirmed_move``              No unused valid operation in the :data:`LATE_WINDOW`
                                        (60 days) before, and a move confirmed by the new provider
                                        has no cancellation yet → ``access_cancelled``.
 6      ``completed_move``              Family 1: the same for a move whose access operation an
                                        earlier generic notice explained (days or months ago).
 6      ``late_cancellation``           Family 2: the same for an ``access_domain`` operation older
                                        than 60 days that nothing explained: the 接入 was settled
                                        long ago; this is the old provider's late cancellation.
 7      ``narrowed``                    Otherwise ambiguous: the kinds of unused operations of the
                                        last 60 days (oldest first), then ``access_cancelled`` when
                                        a cancellation is possible; when fewer than two remain, the
                                        others follow in :data:`DEFAULT_ORDER`.
 7      ``unexplained``                 Nothing in the context can explain it → all four, in
                                        :data:`DEFAULT_ORDER`.
 –      ``no_received_at``              The notice has no time: rules 1–6 cannot apply → all four.
 –      ``not_generic``                 The notice is not the generic text: context does not apply
                                        (explicit texts are decided by the text).
=====  ==============================  ============================================================

Every ``access_domain`` operation is a move unless ``keeps_previous_provider`` is true (a second
provider added, the first kept) or its ``provider`` equals its ``from_provider``. A cancellation
is counted once per move: after a generic notice was read as the old provider's cancellation,
the move is closed.

Bad input raises :class:`~icp_notify.errors.InputError` (:func:`check_context`): the same
operation twice, more than :data:`MAX_OPERATIONS` operations or :data:`MAX_NOTICES` earlier
notices; an unknown operation kind is refused when the context is validated. Operations may be
listed in any order (the replay orders them by time). Times without a zone are read as
Asia/Shanghai (UTC+8), and :class:`Timeline` says so (``time_zone``).

Examples
--------
>>> from icp_notify.models import Context, Notice
>>> text = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
>>> notice = Notice(raw_text=text, text=text, received_at="2025-03-10T09:00:00")
>>> ctx = Context.model_validate({"operations": [
...     {"kind": "modify_domain", "submitted_at": "2025-03-04T10:00:00"}]})
>>> verdict = weigh(notice, ctx)
>>> verdict.situation.value, verdict.rule
('modify_domain', 'recent_operations')
>>> weigh(notice, None).candidates[0].value
'access_cancelled'
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from icp_notify.errors import InputError
from icp_notify.models import (
    DEFAULT_ORDER,
    AwareDatetime,
    Channel,
    Context,
    Evidence,
    Kind,
    Notice,
    Operation,
    PriorNotice,
    Situation,
)

if TYPE_CHECKING:
    from icp_notify.rules import RuleSet

__all__ = [
    "CANCEL_WINDOW",
    "DEFAULT_ORDER",
    "LATE_WINDOW",
    "MAX_NOTICES",
    "MAX_OPERATIONS",
    "MAX_READINGS",
    "MIN_AGE",
    "PAIR_WINDOW",
    "RECENT_WINDOW",
    "RECTIFY_DEADLINE",
    "THREAT_WINDOW",
    "ChainFacts",
    "ContextVerdict",
    "NoticeAttribution",
    "OperationTrace",
    "Timeline",
    "chain_facts",
    "check_context",
    "explain_timeline",
    "is_generic",
    "prior_kind",
    "weigh",
]

MIN_AGE = dt.timedelta(days=1)
"""An operation younger than this (or later than the notice) cannot explain it (rule 1)."""

RECENT_WINDOW = dt.timedelta(days=20, hours=7)
"""Rule 4: a review takes at most 20 days and MIIT's notice follows within 7 hours."""

LATE_WINDOW = dt.timedelta(days=60)
"""Rule 6: no unused valid operation within this window; family 2 settles older access."""

CANCEL_WINDOW = dt.timedelta(days=120)
"""Rule 5: an old provider cancels within 120 days of a completed move."""

PAIR_WINDOW = dt.timedelta(days=1)
"""Rule 3: a provider's explicit notice and MIIT's notice of the same approval come this close."""

THREAT_WINDOW = dt.timedelta(days=30, hours=7)
"""A provider's 整改 request (核查未通过…逾期将取消接入) can end in its cancellation within 30 days
(MIIT's notice of it within 7 more hours)."""

RECTIFY_DEADLINE = dt.timedelta(days=15)
"""The usual deadline of a 整改 request; before it passes, its cancellation only narrows."""

MAX_OPERATIONS = 1000
"""More operations in one context raise :class:`~icp_notify.errors.InputError` (``too_many``)."""

MAX_NOTICES = 1000
"""More earlier notices in one context (or notices to explain) raise ``InputError``."""

MAX_READINGS = 32
"""How many readings of an ambiguous history the replay keeps (the first ones found)."""

_GENERIC = Kind.CHANGE_NOTICE_GENERIC
_APPROVALS: dict[Kind, Situation] = {
    Kind.PROVIDER_NEW_DOMAIN: Situation.NEW_DOMAIN,
    Kind.PROVIDER_MODIFY_DOMAIN: Situation.MODIFY_DOMAIN,
    Kind.PROVIDER_ACCESS_DOMAIN: Situation.ACCESS_DOMAIN,
    Kind.PROVIDER_ACCESS_CANCELLED: Situation.ACCESS_CANCELLED,
}
TIME_ZONE = "Asia/Shanghai"


class ContextVerdict(BaseModel):
    """What the context says about a generic notice.

    Attributes
    ----------
    situation : Situation or None
        The situation the context settles on, or ``None`` when it cannot.
    candidates : tuple of Situation
        Ordered most likely first; ``(situation,)`` when settled; empty when ``not_generic``.
    evidence : tuple of Evidence
        The context items used (``source="context"``, ids like ``operations[0]`` or
        ``previous_notices[1]``).
    rule : str
        The rule applied (see the module docstring).
    chain : NoticeAttribution or None
        The notice's attribution in the replayed timeline (what explains it and why).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    situation: Situation | None
    candidates: tuple[Situation, ...]
    evidence: tuple[Evidence, ...] = ()
    rule: str
    chain: NoticeAttribution | None = None

    @property
    def applies(self) -> bool:
        """Whether the context took part (false for ``not_generic``)."""
        return self.rule != "not_generic"


class OperationTrace(BaseModel):
    """What became of one operation in the replayed timeline.

    Attributes
    ----------
    id : str
        ``operations[i]`` (the position in ``Context.operations``).
    operation : Operation
        The operation itself.
    explained : str or None
        The id of the generic notice it explains (in the first reading of the history).
    confirmed_by : str or None
        The id of the provider's explicit notice that confirmed it.
    move : bool
        Whether it is a move of provider (an old provider's cancellation follows).
    completed_at : datetime or None
        When the move took effect (the notice that explained or confirmed it).
    cancelled_by : str or None
        The id of the notice read as the old provider's cancellation.

    Examples
    --------
    >>> from icp_notify.models import Context, Operation, PriorNotice
    >>> g = "尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
    >>> ctx = Context(operations=[Operation(kind="access_domain", provider="示例云B",
    ...     from_provider="示例云A", submitted_at="2025-03-01T10:00:00")])
    >>> tl = explain_timeline(ctx, [PriorNotice(text=g, received_at="2025-03-09T09:00:00"),
    ...                             PriorNotice(text=g, received_at="2025-05-20T09:00:00")])
    >>> op = tl.operations[0]
    >>> op.id, op.move, op.explained, op.cancelled_by
    ('operations[0]', True, 'notices[0]', 'notices[1]')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    operation: Operation
    explained: str | None = None
    confirmed_by: str | None = None
    move: bool = False
    completed_at: AwareDatetime | None = None
    cancelled_by: str | None = None


class NoticeAttribution(BaseModel):
    """One notice of the timeline and what explains it.

    Attributes
    ----------
    id : str
        ``previous_notices[i]`` or ``notices[i]`` (the position in its input).
    received_at : datetime or None
        When it arrived.
    kind : Kind or None
        What the rules recognise (``None``: no rule is sure).
    generic : bool
        Whether it is MIIT's generic notice (only those are explained by context).
    situation : Situation or None
        The situation it is attributed to (``None``: ambiguous, or an ``other`` text).
    candidates : tuple of Situation
        Ordered most likely first (``(situation,)`` when decided).
    rule : str
        The rule that attributed it (see the module docstring); ``text`` for explicit notices.
    cause : {"operation", "approval", "cancellation", "text", "nothing", "ambiguous"}
        What explains it: an operation, a provider's notice of the same approval, a move's
        (or a 整改's) cancellation, its own text, nothing, or several readings.
    operation : str or None
        The operation that explains it (or whose move it cancels), ``operations[i]``.
    related : tuple of str
        Other notices of the chain (the notice that completed the move, the provider's notice).
    detail : str
        The chain in words (English).

    Examples
    --------
    >>> from icp_notify.models import Context, Operation, PriorNotice
    >>> g = "尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
    >>> ctx = Context(operations=[Operation(kind="access_domain", provider="示例云B",
    ...     from_provider="示例云A", submitted_at="2025-03-01T10:00:00")])
    >>> tl = explain_timeline(ctx, [PriorNotice(text=g, received_at="2025-03-09T09:00:00"),
    ...                             PriorNotice(text=g, received_at="2025-05-20T09:00:00")])
    >>> late = tl.notice("notices[1]")
    >>> late.generic, late.situation.value, late.cause, late.operation
    (True, 'access_cancelled', 'cancellation', 'operations[0]')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    received_at: AwareDatetime | None = None
    kind: Kind | None = None
    generic: bool = False
    situation: Situation | None = None
    candidates: tuple[Situation, ...] = ()
    rule: str
    cause: Literal["operation", "approval", "cancellation", "text", "nothing", "ambiguous"]
    operation: str | None = None
    move: str | None = Field(
        default=None, description="the access operation of the move whose cancellation is meant"
    )
    related: tuple[str, ...] = ()
    detail: str = ""


class ChainFacts(BaseModel):
    """The chain behind a context decision, as the advice names it (``Evidence`` id ``chain``).

    Attributes
    ----------
    rule : str
        The context rule.
    cause : str
        As in :class:`NoticeAttribution`.
    situation : Situation or None
        The decided situation (``None``: ambiguous).
    operation_kind : Situation or None
        The kind of the operation concerned.
    submitted_on : date or None
        When that operation was submitted (Asia/Shanghai date).
    provider, from_provider : str or None
        Its provider and the provider it moved from.
    completed_on : date or None
        When the move (or the 整改 request, or the provider's notice) took effect.
    move_kind_pending : bool
        For ``cancellation_due``: a move's cancellation is still to come.

    Examples
    --------
    >>> from icp_notify.classifier import classify
    >>> g = "尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
    >>> c = classify(g, received_at="2025-05-20T10:00:00", context={
    ...     "operations": [{"kind": "access_domain", "provider": "腾讯云",
    ...                     "submitted_at": "2025-03-01T10:00:00"}],
    ...     "previous_notices": [{"text": g, "received_at": "2025-03-09T10:00:00"}]})
    >>> facts = chain_facts(c.evidence)
    >>> facts.rule, facts.provider, str(facts.submitted_on)
    ('completed_move', '腾讯云', '2025-03-01')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    cause: str
    situation: Situation | None = None
    operation_kind: Situation | None = None
    submitted_on: dt.date | None = None
    provider: str | None = None
    from_provider: str | None = None
    completed_on: dt.date | None = None
    move_submitted_on: dt.date | None = None
    move_provider: str | None = None


def chain_facts(evidence: Sequence[Evidence]) -> ChainFacts | None:
    """The :class:`ChainFacts` among a classification's evidence (``None`` when absent).

    Parameters
    ----------
    evidence : sequence of Evidence
        ``Classification.evidence``.

    Returns
    -------
    ChainFacts or None

    Examples
    --------
    >>> chain_facts(()) is None
    True
    """
    for e in evidence:
        if e.source == "context" and e.id == "chain":
            try:
                return ChainFacts.model_validate_json(e.detail)
            except ValueError:
                return None
    return None


class Timeline(BaseModel):
    """A filing's operations and notices replayed in time order, each notice attributed.

    Attributes
    ----------
    time_zone : str
        The zone times without one were read in (always ``Asia/Shanghai``).
    operations : tuple of OperationTrace
        In submission order.
    notices : tuple of NoticeAttribution
        In receive order.

    Examples
    --------
    >>> from icp_notify.models import Context, Operation, PriorNotice
    >>> g = "尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
    >>> ctx = Context(operations=[Operation(kind="access_domain", provider="示例云B",
    ...     from_provider="示例云A", submitted_at="2025-03-01T10:00:00")])
    >>> tl = explain_timeline(ctx, [PriorNotice(text=g, received_at="2025-03-09T09:00:00"),
    ...                             PriorNotice(text=g, received_at="2025-05-20T09:00:00")])
    >>> tl.time_zone, len(tl.operations), [n.rule for n in tl.notices]
    ('Asia/Shanghai', 1, ['recent_operations', 'completed_move'])
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zone: str = Field(default=TIME_ZONE, description="naive times are read in this zone")
    operations: tuple[OperationTrace, ...] = ()
    notices: tuple[NoticeAttribution, ...] = ()

    def notice(self, id: str) -> NoticeAttribution | None:
        """The attribution of the notice ``id`` (``None`` when absent).

        Parameters
        ----------
        id : str
            ``previous_notices[i]`` or ``notices[i]``.

        Returns
        -------
        NoticeAttribution or None
        """
        return next((n for n in self.notices if n.id == id), None)


ContextVerdict.model_rebuild()


# --------------------------------------------------------------------------- recognition


def is_generic(notice: Notice, rules: RuleSet | None = None) -> bool:
    """Whether the rules take ``notice`` for MIIT's generic change notice.

    Parameters
    ----------
    notice : Notice
        A parsed notice.
    rules : RuleSet, optional
        The rules to use (default: the shipped rules).

    Returns
    -------
    bool

    Examples
    --------
    >>> from icp_notify.models import Notice
    >>> is_generic(Notice(raw_text="x", text="您的备案信息已被变更，详情请咨询您的接入服务提供商。"))
    True
    """
    return _kind_of(notice, rules) is _GENERIC


def _kind_of(notice: Notice, rules: RuleSet | None) -> Kind | None:
    if rules is None:
        from icp_notify.rules import default_rules

        rules = default_rules()
    best = None
    for ev in rules.match(notice):
        if ev.timed_out or ev.weight is None:
            continue
        if best is None or ev.weight > (best.weight or 0.0):
            best = ev
    return None if best is None else best.kind


def prior_kind(prior: PriorNotice, rules: RuleSet | None = None) -> Kind | None:
    """Recognise an earlier notice with the rules (``None`` when no rule is sure).

    Parameters
    ----------
    prior : PriorNotice
        An earlier notice from the context; it is parsed first (unparseable → ``None``).
    rules : RuleSet, optional
        The rules to use (default: the shipped rules).

    Returns
    -------
    Kind or None

    Examples
    --------
    >>> from icp_notify.models import PriorNotice
    >>> prior_kind(PriorNotice(text="【某云】您的接入备案已审核通过。", received_at="2025-01-02T10:00:00"))
    <Kind.PROVIDER_ACCESS_DOMAIN: 'provider_access_domain'>
    """
    from icp_notify.rules import default_rules

    if rules is None or rules is default_rules():
        return _default_prior_kind(prior.text, prior.channel, prior.sender)
    cache = _PRIOR_KINDS.setdefault(rules, {})  # per rule set: a pure function of the text
    key = (prior.text, prior.channel, prior.sender)
    if key not in cache:
        if len(cache) >= _PRIOR_KINDS_SIZE:
            cache.clear()
        cache[key] = _prior_kind(prior.text, prior.channel, prior.sender, rules)
    return cache[key]


_PRIOR_KINDS: weakref.WeakKeyDictionary[RuleSet, dict[tuple[str, Channel, str | None], Kind | None]]
_PRIOR_KINDS = weakref.WeakKeyDictionary()
"""Recognised earlier notices per (non-default) rule set, dropped with the rule set."""

_PRIOR_KINDS_SIZE = 16384
"""Most entries kept per rule set (cleared when full)."""


@functools.lru_cache(maxsize=16384)
def _default_prior_kind(text: str, channel: Channel, sender: str | None) -> Kind | None:
    """:func:`prior_kind` with the shipped rules, memoised (a pure function of its arguments)."""
    return _prior_kind(text, channel, sender, None)


def _prior_kind(
    text: str, channel: Channel, sender: str | None, rules: RuleSet | None
) -> Kind | None:
    from icp_notify.parse import parse

    try:
        notice = parse(text, channel=channel, sender=sender)
    except InputError:
        return None
    return _kind_of(notice, rules)


# --------------------------------------------------------------------------- bad input


def check_context(context: Context, *, where: str = "context") -> None:
    """Refuse a context the replay cannot read honestly.

    Parameters
    ----------
    context : Context
        The operations and earlier notices.
    where : str, default "context"
        Prefix of the field named in the error.

    Operations may be listed in any order (the replay orders them by ``submitted_at``; their
    ids stay their positions in the list).

    Raises
    ------
    InputError
        ``too_many`` past :data:`MAX_OPERATIONS` operations or :data:`MAX_NOTICES` notices;
        ``duplicate`` when the same operation is listed twice.

    Examples
    --------
    >>> from icp_notify.models import Context
    >>> op = {"kind": "new_domain", "submitted_at": "2025-03-04T10:00:00", "domain": "a.cn"}
    >>> check_context(Context.model_validate({"operations": [op, op]}))
    Traceback (most recent call last):
    ...
    icp_notify.errors.InputError: context.operations[1]: the same operation as operations[0] (new_domain submitted 2025-03-04T10:00:00+08:00) (code: duplicate). Hint: list each submitted operation once
    """
    ops = context.operations
    if len(ops) > MAX_OPERATIONS:
        raise InputError(
            "too_many",
            f"{len(ops)} operations, more than the limit of {MAX_OPERATIONS}",
            where=f"{where}.operations",
            hint="pass the filing's operations of the last few years only",
        )
    if len(context.previous_notices) > MAX_NOTICES:
        raise InputError(
            "too_many",
            f"{len(context.previous_notices)} earlier notices, more than the limit of {MAX_NOTICES}",
            where=f"{where}.previous_notices",
            hint="pass the filing's latest notices only",
        )
    seen: dict[tuple[object, ...], int] = {}
    for i, op in enumerate(ops):
        key = (
            op.kind,
            op.submitted_at,
            op.domain,
            op.provider,
            op.from_provider,
            op.keeps_previous_provider,
        )
        if key in seen:
            raise InputError(
                "duplicate",
                f"the same operation as operations[{seen[key]}]"
                f" ({op.kind.value} submitted {op.submitted_at.isoformat()})",
                where=f"{where}.operations[{i}]",
                hint="list each submitted operation once",
            )
        seen[key] = i


# --------------------------------------------------------------------------- the replay


@dataclass(frozen=True)
class _OpInfo:
    index: int
    op: Operation

    @property
    def id(self) -> str:
        return f"operations[{self.index}]"

    @property
    def at(self) -> dt.datetime:
        return self.op.submitted_at

    @property
    def kind(self) -> Situation:
        return self.op.kind

    @property
    def is_move(self) -> bool:
        return (
            self.op.kind is Situation.ACCESS_DOMAIN
            and not self.op.keeps_previous_provider
            and not (
                self.op.from_provider is not None and self.op.from_provider == self.op.provider
            )
        )


@dataclass(frozen=True)
class _Move:
    op: int | None  # None: inferred from a provider's access notice with no recorded operation
    completed_at: dt.datetime
    completed_by: str
    via: Literal["generic", "confirmation", "settled", "explicit", "threat"]
    cancelled_by: str | None = None


_CANCEL_RULE = {
    "confirmation": "confirmed_move",
    "generic": "completed_move",
    "threat": "rectification",
    "settled": "late_cancellation",
    "explicit": "narrowed",
}


def _open(m: _Move, t: dt.datetime) -> bool:
    """Whether a cancellation can still come from ``m`` at ``t``."""
    if m.cancelled_by is not None or m.completed_at > t:
        return False
    return m.via != "threat" or m.completed_at >= t - THREAT_WINDOW


def _deciding(m: _Move, t: dt.datetime) -> bool:
    """Whether an open cancellation of ``m`` may decide (rule 6) rather than only narrow."""
    if m.via == "explicit":
        return False
    return m.via != "threat" or m.completed_at <= t - RECTIFY_DEADLINE


@dataclass(frozen=True)
class _Approval:
    id: str
    at: dt.datetime
    situation: Situation
    paired_by: str | None = None


@dataclass(frozen=True)
class _Generic:
    id: str
    at: dt.datetime
    situation: Situation | None
    paired: bool = False


@dataclass(frozen=True)
class _Reading:
    """One reading of the history: what each notice so far was taken for."""

    used: tuple[tuple[int, str, str], ...] = ()  # (op index, notice id, "generic"|"confirmation")
    moves: tuple[_Move, ...] = ()
    approvals: tuple[_Approval, ...] = ()
    generics: tuple[_Generic, ...] = ()
    incomplete: str | None = None  # the first notice that shows an unrecorded operation

    def used_ops(self) -> set[int]:
        return {u[0] for u in self.used}

    def key(self) -> tuple[object, ...]:
        return (
            tuple(sorted(u[:1] + u[2:] for u in self.used)),
            tuple((m.op, m.completed_at, m.via, m.cancelled_by is None) for m in self.moves),
            tuple((a.id, a.paired_by is None) for a in self.approvals),
            tuple((g.id, g.situation, g.paired) for g in self.generics),
            self.incomplete,
        )


@dataclass(frozen=True)
class _Branch:
    situation: Situation | None  # None: anything (nothing explains it)
    rule: str
    reading: _Reading
    weak: bool = False  # a narrowing, never a decision
    op: _OpInfo | None = None
    move: _Move | None = None
    approval: _Approval | None = None


@dataclass
class _Replay:
    ops: list[_OpInfo]  # by index (the position in Context.operations)
    readings: list[_Reading] = field(default_factory=lambda: [_Reading()])
    order: list[_OpInfo] = field(default_factory=list)  # by submission time

    def __post_init__(self) -> None:
        self.order = sorted(self.ops, key=lambda o: (o.at, o.index))

    # ------------------------------------------------------------ one generic notice

    def _branches(self, r: _Reading, t: dt.datetime, nid: str) -> list[_Branch]:
        used = r.used_ops()
        valid = [o for o in self.order if o.index not in used and o.at <= t - MIN_AGE]
        recent = [o for o in valid if o.at >= t - RECENT_WINDOW]
        stale = [o for o in valid if t - LATE_WINDOW <= o.at < t - RECENT_WINDOW]
        due = [m for m in r.moves if _open(m, t) and m.completed_at >= t - CANCEL_WINDOW]
        approvals = [a for a in r.approvals if a.paired_by is None and t - PAIR_WINDOW <= a.at <= t]

        def record(reading: _Reading, situation: Situation | None) -> _Reading:
            return replace(reading, generics=(*reading.generics, _Generic(nid, t, situation)))

        def cancel(move: _Move, rule: str, *, weak: bool = False) -> _Branch:
            moves = tuple(replace(m, cancelled_by=nid) if m is move else m for m in r.moves)
            reading = record(replace(r, moves=moves), Situation.ACCESS_CANCELLED)
            return _Branch(
                Situation.ACCESS_CANCELLED,
                rule,
                reading,
                weak=weak,
                op=self._op(move.op),
                move=move,
            )

        def use(o: _OpInfo, rule: str, *, weak: bool = False) -> _Branch:
            reading = replace(r, used=(*r.used, (o.index, nid, "generic")))
            if o.is_move:
                move = _Move(o.index, t, nid, "generic")
                reading = replace(reading, moves=(*reading.moves, move))
            return _Branch(o.kind, rule, record(reading, o.kind), weak=weak, op=o)

        # Rule 3: MIIT's notice of an approval a provider already announced.
        if approvals:
            a = approvals[0]
            paired = tuple(replace(x, paired_by=nid) if x is a else x for x in r.approvals)
            reading = replace(record(r, a.situation), approvals=paired)
            out = [_Branch(a.situation, "same_approval", reading, approval=a)]
            due = [m for m in due if m.completed_by != a.id]
            if due and a.situation is not Situation.ACCESS_CANCELLED:
                out = [replace(out[0], rule="cancellation_due"), cancel(due[0], "cancellation_due")]
            # another pending operation may have been approved at the same time
            others: dict[Situation, _OpInfo] = {}
            for o in recent:
                if o.kind is not a.situation:
                    others.setdefault(o.kind, o)
            out.extend(use(o, "narrowed") for o in others.values())
            return out
        # Rule 4 (and 5): recent operations.
        if recent:
            kinds: dict[Situation, _OpInfo] = {}
            for o in recent:
                kinds.setdefault(o.kind, o)
            rule = "recent_operations" if len(kinds) == 1 else "narrowed"
            out = [use(o, rule) for o in kinds.values()]
            if due:
                out = [replace(b, rule="cancellation_due") for b in out]
                out.append(cancel(due[0], "cancellation_due"))
            return out
        # Rule 6: a move whose cancellation has not come.
        if not stale:
            open_moves = [m for m in r.moves if _open(m, t) and _deciding(m, t)]
            settled = [o for o in valid if o.is_move and o.at < t - LATE_WINDOW]
            if open_moves:
                weak = r.incomplete is not None
                rules = {m: "narrowed" if weak else _CANCEL_RULE[m.via] for m in open_moves}
                return [cancel(m, rules[m], weak=weak) for m in open_moves]
            if settled and r.incomplete is None:
                o = settled[0]
                move = _Move(o.index, o.at, o.id, "settled", cancelled_by=nid)
                reading = replace(
                    r, used=(*r.used, (o.index, nid, "settled")), moves=(*r.moves, move)
                )
                return [
                    _Branch(
                        Situation.ACCESS_CANCELLED,
                        "late_cancellation",
                        record(reading, Situation.ACCESS_CANCELLED),
                        op=o,
                        move=move,
                    )
                ]
        # Rule 7: narrowed or unexplained.
        out = []
        kinds = {}
        for o in stale:
            kinds.setdefault(o.kind, o)
        out = [use(o, "narrowed", weak=True) for o in kinds.values()]
        open_any = [m for m in r.moves if _open(m, t)]
        if open_any:
            out.append(cancel(open_any[0], "narrowed", weak=True))
        elif any(o.is_move for o in valid):
            o = next(o for o in valid if o.is_move)
            out.append(
                _Branch(
                    Situation.ACCESS_CANCELLED,
                    "narrowed",
                    record(r, Situation.ACCESS_CANCELLED),
                    weak=True,
                    op=o,
                )
            )
        if not out:
            reading = replace(r, incomplete=r.incomplete or nid)
            out.append(_Branch(None, "unexplained", record(reading, None), weak=True))
        return out

    def threat(self, t: dt.datetime, nid: str) -> None:
        """A provider's 整改 request: its cancellation may follow (within THREAT_WINDOW)."""
        move = _Move(None, t, nid, "threat")
        self.readings = [replace(r, moves=(*r.moves, move)) for r in self.readings]

    def _op(self, index: int | None) -> _OpInfo | None:
        return None if index is None else self.ops[index]

    def generic(self, t: dt.datetime, nid: str) -> list[_Branch]:
        """Explain a generic notice at ``t`` in every reading; advance the readings."""
        self._prune(t)
        branches = [b for r in self.readings for b in self._branches(r, t, nid)]
        readings: dict[tuple[object, ...], _Reading] = {}
        for b in branches:
            readings.setdefault(b.reading.key(), b.reading)
        self.readings = list(readings.values())[:MAX_READINGS]
        return branches

    def _prune(self, t: dt.datetime) -> None:
        """Drop readings in which a provider's approval went without MIIT's notice."""

        def clean(r: _Reading) -> bool:
            return all(a.paired_by is not None or a.at >= t - PAIR_WINDOW for a in r.approvals)

        kept = [r for r in self.readings if clean(r)] or self.readings
        # parsimony: prefer the readings that leave the fewest operations past their review
        # without an approval or a rejection
        silent = [self._silent(r, t) for r in kept]
        least = min(silent)
        self.readings = [r for r, n in zip(kept, silent, strict=True) if n == least]

    def _silent(self, r: _Reading, t: dt.datetime) -> int:
        used = r.used_ops()
        return sum(1 for o in self.order if o.index not in used and o.at < t - RECENT_WINDOW)

    def rejected(self, prior: PriorNotice, nid: str) -> str | None:
        """A provider's 退回 notice: the operation in review it names (else the earliest) failed."""
        t = prior.received_at
        first: str | None = None
        out = []
        for r in self.readings:
            used = r.used_ops()
            pending = [
                o
                for o in self.order
                if o.index not in used and t - RECENT_WINDOW - PAIR_WINDOW <= o.at < t
            ]
            if not pending:
                out.append(r)
                continue
            o = max(
                pending,
                key=lambda o: (
                    2 * _mentions(prior.text, o.op.provider) + _mentions(prior.text, o.op.domain),
                    -o.index,
                ),
            )
            first = first or o.id
            out.append(replace(r, used=(*r.used, (o.index, nid, "rejection"))))
        self.readings = out
        return first

    # ------------------------------------------------------------ explicit notices

    def explicit(self, prior: PriorNotice, situation: Situation, nid: str) -> str | None:
        """A provider's explicit approval (or cancellation) notice; return the op it confirms."""
        t = prior.received_at
        confirmed: str | None = None
        out = []
        for r in self.readings:
            approval = _Approval(nid, t, situation)
            generics = list(r.generics)
            for i, g in enumerate(generics):
                if (
                    not g.paired
                    and t - PAIR_WINDOW <= g.at <= t
                    and g.situation in (situation, None)
                ):
                    generics[i] = replace(g, paired=True)
                    approval = replace(approval, paired_by=g.id)
                    break
            reading = replace(r, generics=tuple(generics), approvals=(*r.approvals, approval))
            if situation is Situation.ACCESS_CANCELLED:
                open_moves = [m for m in reading.moves if _open(m, t)]
                if open_moves and approval.paired_by is None:
                    m = open_moves[0]
                    moves = tuple(
                        replace(x, cancelled_by=nid) if x is m else x for x in reading.moves
                    )
                    reading = replace(reading, moves=moves)
                out.append(reading)
                continue
            op = self._match(reading, prior, situation)
            if op is not None:
                if confirmed is None:
                    confirmed = op.id
                already = [u for u in reading.used if u[0] == op.index]
                if not already:
                    reading = replace(
                        reading, used=(*reading.used, (op.index, nid, "confirmation"))
                    )
                if op.is_move and not any(m.op == op.index for m in reading.moves):
                    move = _Move(op.index, t, nid, "confirmation")
                    reading = replace(reading, moves=(*reading.moves, move))
            else:
                reading = replace(reading, incomplete=reading.incomplete or nid)
                if situation is Situation.ACCESS_DOMAIN:
                    move = _Move(None, t, nid, "explicit")
                    reading = replace(reading, moves=(*reading.moves, move))
            out.append(reading)
        readings: dict[tuple[object, ...], _Reading] = {}
        for r in out:
            readings.setdefault(r.key(), r)
        self.readings = list(readings.values())[:MAX_READINGS]
        return confirmed

    def _match(self, r: _Reading, prior: PriorNotice, situation: Situation) -> _OpInfo | None:
        """The operation a provider's approval notice confirms, in reading ``r``."""
        t = prior.received_at
        paired = next((g for g in r.generics if g.paired and t - PAIR_WINDOW <= g.at <= t), None)
        if paired is not None:
            by_generic = [
                self.ops[u[0]]
                for u in r.used
                if u[1] == paired.id and self.ops[u[0]].kind is situation
            ]
            if by_generic:
                return by_generic[0]
        used = r.used_ops()
        candidates = [
            o for o in self.order if o.kind is situation and o.index not in used and o.at < t
        ]
        in_review = [o for o in candidates if o.at >= t - RECENT_WINDOW - PAIR_WINDOW]
        candidates = in_review or candidates
        if not candidates:
            return None
        # the provider named counts most, then the domain; ties: the earliest
        return max(
            candidates,
            key=lambda o: (
                2 * _mentions(prior.text, o.op.provider) + _mentions(prior.text, o.op.domain),
                -o.index,
            ),
        )


def _mentions(text: str, value: str | None) -> bool:
    return value is not None and bool(value) and value.lower() in text.lower()


# --------------------------------------------------------------------------- attribution


def _day(value: dt.datetime) -> str:
    return value.astimezone(_SHANGHAI()).date().isoformat()


@functools.cache
def _SHANGHAI() -> dt.tzinfo:  # noqa: N802
    from icp_notify.models import SHANGHAI

    return SHANGHAI


def _describe_op(o: _OpInfo) -> str:
    parts = [f"{o.kind.value} submitted {_day(o.at)}"]
    if o.op.domain:
        parts.append(f"domain {o.op.domain}")
    if o.op.provider:
        parts.append(f"at {o.op.provider}")
    if o.op.from_provider:
        parts.append(f"from {o.op.from_provider}")
    return ", ".join(parts)


def _combine(
    branches: list[_Branch], nid: str, t: dt.datetime, kind: Kind | None
) -> NoticeAttribution:
    """One attribution from the branches of every reading."""
    situations: list[Situation] = []
    anything = False
    for b in branches:
        if b.situation is None:
            anything = True
        elif b.situation not in situations:
            situations.append(b.situation)
    weak = any(b.weak for b in branches)
    decided = len(situations) == 1 and not anything and not weak
    if decided:
        b = branches[0]
        cause: Literal["operation", "approval", "cancellation", "text", "nothing", "ambiguous"]
        related: tuple[str, ...] = ()
        if b.approval is not None:
            cause, detail = "approval", f"MIIT's notice of the approval {b.approval.id} announced"
            related = (b.approval.id,)
        elif b.move is not None:
            cause = "cancellation"
            related = () if b.move.via == "settled" else (b.move.completed_by,)
            what = _describe_op(b.op) if b.op is not None else "a move"
            if b.move.via == "threat":
                detail = (
                    f"the provider's cancellation after its 整改 request of"
                    f" {_day(b.move.completed_at)} ({b.move.completed_by})"
                )
            elif b.move.via == "settled":
                detail = f"the old provider's late cancellation after {what} (settled long ago)"
            else:
                detail = (
                    f"the old provider's cancellation after {what},"
                    f" in effect since {_day(b.move.completed_at)} ({b.move.completed_by})"
                )
        else:
            assert b.op is not None
            cause, detail = "operation", f"the approval of {_describe_op(b.op)}"
        return NoticeAttribution(
            id=nid,
            received_at=t,
            kind=kind,
            generic=True,
            situation=b.situation,
            candidates=(b.situation,) if b.situation else (),
            rule=b.rule,
            cause=cause,
            operation=b.op.id if b.op is not None else None,
            move=b.op.id if b.move is not None and b.op is not None else None,
            related=related,
            detail=detail,
        )
    rules = {b.rule for b in branches}
    rule = (
        "cancellation_due"
        if "cancellation_due" in rules
        else "unexplained"
        if rules == {"unexplained"}
        else "narrowed"
    )
    candidates = list(situations)
    if anything or len(candidates) < 2:
        candidates.extend(s for s in DEFAULT_ORDER if s not in candidates)
    ops = [b.op.id for b in branches if b.op is not None and b.move is None]
    moved = [b.op.id for b in branches if b.op is not None and b.move is not None]
    if rule == "unexplained":
        detail, cause = "nothing in the context explains it", "nothing"
    else:
        cause = "ambiguous"
        detail = "several readings of the history: " + "; ".join(
            f"{b.situation.value if b.situation else 'anything'} ({b.rule})" for b in branches[:6]
        )
    return NoticeAttribution(
        id=nid,
        received_at=t,
        kind=kind,
        generic=True,
        situation=None,
        candidates=tuple(candidates),
        rule=rule,
        cause=cause,
        operation=ops[0] if ops else None,
        move=moved[0] if moved else None,
        related=tuple(dict.fromkeys(b.move.completed_by for b in branches if b.move is not None)),
        detail=detail,
    )


def _replay(
    context: Context,
    items: Sequence[tuple[str, PriorNotice]],
    rules: RuleSet | None,
    *,
    attribute: bool = True,
) -> tuple[_Replay, list[NoticeAttribution]]:
    ops = [_OpInfo(i, op) for i, op in enumerate(context.operations)]
    replay = _Replay(ops)
    order = sorted(range(len(items)), key=lambda i: (items[i][1].received_at, i))
    out: list[NoticeAttribution] = []
    for i in order:
        nid, prior = items[i]
        kind = prior_kind(prior, rules)
        attr = _step(replay, nid, prior, kind, attribute=attribute)
        if attr is not None:
            out.append(attr)
    return replay, out


def _step(
    replay: _Replay, nid: str, prior: PriorNotice, kind: Kind | None, *, attribute: bool = True
) -> NoticeAttribution | None:
    t = prior.received_at
    if kind is _GENERIC:
        branches = replay.generic(t, nid)
        return _combine(branches, nid, t, kind) if attribute else None
    if kind is Kind.CHECK_REQUEST:
        replay.threat(t, nid)
    if kind is Kind.REJECTED:
        rejected = replay.rejected(prior, nid)
        if rejected is not None and attribute:
            detail = f"decided by its own text; {rejected} was returned (退回)"
            return NoticeAttribution(
                id=nid,
                received_at=t,
                kind=kind,
                situation=Situation.OTHER,
                candidates=(Situation.OTHER,),
                rule="text",
                cause="text",
                operation=rejected,
                detail=detail,
            )
    situation = _APPROVALS.get(kind) if kind is not None else None
    op = None
    if situation is not None:
        op = replay.explicit(prior, situation, nid)
    if not attribute:
        return None
    text_situation = None
    if kind is not None:
        from icp_notify.models import KIND_SITUATION

        text_situation = KIND_SITUATION[kind]
    return NoticeAttribution(
        id=nid,
        received_at=t,
        kind=kind,
        generic=False,
        situation=text_situation,
        candidates=(text_situation,) if text_situation else (),
        rule="text",
        cause="text",
        operation=op,
        detail="decided by its own text" + (f"; confirms {op}" if op else ""),
    )


def _traces(replay: _Replay, context: Context) -> tuple[OperationTrace, ...]:
    reading = replay.readings[0]
    out = []
    for o in replay.ops:
        explained = next(
            (u[1] for u in reading.used if u[0] == o.index and u[2] == "generic"), None
        )
        confirmed = next(
            (u[1] for u in reading.used if u[0] == o.index and u[2] == "confirmation"), None
        )
        move = next((m for m in reading.moves if m.op == o.index), None)
        out.append(
            OperationTrace(
                id=o.id,
                operation=o.op,
                explained=explained,
                confirmed_by=confirmed,
                move=o.is_move,
                completed_at=move.completed_at
                if move is not None and move.via != "settled"
                else None,
                cancelled_by=move.cancelled_by if move is not None else None,
            )
        )
    return tuple(out)


def explain_timeline(
    context: Context | None,
    notices: Sequence[PriorNotice] = (),
    *,
    rules: RuleSet | None = None,
) -> Timeline:
    """Replay a filing's operations and notices; attribute every notice.

    Parameters
    ----------
    context : Context or None
        The operations and earlier notices (``previous_notices[i]``).
    notices : sequence of PriorNotice, optional
        More notices to place in the timeline (``notices[i]``), e.g. the ones being explained.
    rules : RuleSet, optional
        Rules used to recognise the notices (default: the shipped rules).

    Returns
    -------
    Timeline
        Every notice in receive order, each attributed by the rules of the module docstring
        with only what came before it; every operation with what became of it.

    Raises
    ------
    InputError
        See :func:`check_context`.

    Examples
    --------
    >>> from icp_notify.models import Context, Operation, PriorNotice
    >>> g = "尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
    >>> ctx = Context(operations=[Operation(kind="access_domain", provider="示例云B",
    ...                                     submitted_at="2025-03-01T10:00:00")])
    >>> tl = explain_timeline(ctx, [PriorNotice(text=g, received_at="2025-03-09T09:00:00"),
    ...                             PriorNotice(text=g, received_at="2025-05-20T09:00:00")])
    >>> [(n.situation.value, n.rule) for n in tl.notices]
    [('access_domain', 'recent_operations'), ('access_cancelled', 'completed_move')]
    >>> tl.operations[0].cancelled_by
    'notices[1]'
    """
    context = context or Context()
    check_context(context)
    if len(notices) > MAX_NOTICES:
        raise InputError(
            "too_many",
            f"{len(notices)} notices, more than the limit of {MAX_NOTICES}",
            where="notices",
        )
    items = [(f"previous_notices[{i}]", p) for i, p in enumerate(context.previous_notices)]
    items += [(f"notices[{i}]", p) for i, p in enumerate(notices)]
    replay, out = _replay(context, items, rules)
    return Timeline(operations=_traces(replay, context), notices=tuple(out))


def _index(item_id: str) -> int:
    return int(item_id.split("[")[1].rstrip("]"))


def _facts(attr: NoticeAttribution, context: Context) -> ChainFacts | None:
    if attr.rule in ("unexplained", "narrowed", "no_received_at", "not_generic"):
        return None
    op = context.operations[_index(attr.operation)] if attr.operation else None
    mv = context.operations[_index(attr.move)] if attr.move else None
    completed = None
    for rid in attr.related:
        if rid.startswith("previous_notices["):
            completed = context.previous_notices[_index(rid)].received_at
            break
    return ChainFacts(
        rule=attr.rule,
        cause=attr.cause,
        situation=attr.situation,
        operation_kind=op.kind if op is not None else None,
        submitted_on=_day_of(op.submitted_at) if op is not None else None,
        provider=op.provider if op is not None else None,
        from_provider=op.from_provider if op is not None else None,
        completed_on=_day_of(completed) if completed is not None else None,
        move_submitted_on=_day_of(mv.submitted_at) if mv is not None else None,
        move_provider=mv.provider if mv is not None else None,
    )


def _day_of(value: dt.datetime) -> dt.date:
    return value.astimezone(_SHANGHAI()).date()


def _evidence(attr: NoticeAttribution, context: Context) -> tuple[Evidence, ...]:
    out = []
    for item in dict.fromkeys(x for x in (attr.operation, attr.move) if x is not None):
        op = context.operations[_index(item)]
        out.append(
            Evidence(
                source="context",
                id=item,
                detail=f"{attr.rule}: {attr.detail}",
                situation=op.kind,
            )
        )
    for rid in attr.related:
        if rid.startswith("previous_notices["):
            out.append(
                Evidence(
                    source="context",
                    id=rid,
                    detail=f"{attr.rule}: {attr.detail}",
                    situation=attr.situation,
                )
            )
    facts = _facts(attr, context)
    if facts is not None:
        out.append(
            Evidence(
                source="context",
                id="chain",
                detail=facts.model_dump_json(exclude_none=True),
                situation=attr.situation,
            )
        )
    return tuple(out)


def weigh(
    notice: Notice,
    context: Context | None,
    *,
    rules: RuleSet | None = None,
    generic: bool | None = None,
) -> ContextVerdict:
    """Explain a generic notice by the context (the rules in the module docstring).

    Parameters
    ----------
    notice : Notice
        The notice; its ``received_at`` anchors every time rule.
    context : Context or None
        The user's operations and earlier notices; ``None`` is an empty context.
    rules : RuleSet, optional
        Rules used to recognise the notice and earlier notices (default: the shipped rules).
    generic : bool, optional
        Whether ``notice`` is the generic notice; found with the rules when omitted.

    Returns
    -------
    ContextVerdict
        ``situation`` set when a rule settles it; otherwise ``candidates`` ordered most likely
        first. ``rule == "not_generic"`` (no candidates) when the notice is not the generic one.

    Raises
    ------
    InputError
        See :func:`check_context`.

    Examples
    --------
    >>> from icp_notify.models import Notice
    >>> n = Notice(raw_text="您的新增网站备案已审核通过。", text="您的新增网站备案已审核通过。")
    >>> weigh(n, None).rule
    'not_generic'

    The generic notice with a recent operation before it:

    >>> from icp_notify.models import Context, Operation
    >>> from icp_notify.parse import parse
    >>> g = parse("尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    ...           received_at="2025-03-05T09:00:00")
    >>> ctx = Context(operations=[Operation(kind="new_domain", submitted_at="2025-03-01T10:00:00")])
    >>> v = weigh(g, ctx)
    >>> v.situation.value, v.rule
    ('new_domain', 'recent_operations')
    >>> weigh(g, None).situation is None, len(weigh(g, None).candidates)
    (True, 4)
    """
    if generic is None:
        generic = is_generic(notice, rules)
    if not generic:
        return ContextVerdict(situation=None, candidates=(), rule="not_generic")
    context = context or Context()
    check_context(context)
    when = notice.received_at
    if when is None:
        return ContextVerdict(
            situation=None,
            candidates=DEFAULT_ORDER,
            rule="no_received_at",
            evidence=(
                Evidence(
                    source="context",
                    id="received_at",
                    detail="the notice has no receive time, so no operation can be placed before it",
                ),
            ),
        )
    items = [
        (f"previous_notices[{i}]", p)
        for i, p in enumerate(context.previous_notices)
        if p.received_at < when
    ]
    replay, _ = _replay(context, items, rules, attribute=False)
    attr = _combine(replay.generic(when, "notice"), "notice", when, _GENERIC)
    return ContextVerdict(
        situation=attr.situation,
        candidates=attr.candidates,
        evidence=_evidence(attr, context),
        rule=attr.rule,
        chain=attr,
    )
