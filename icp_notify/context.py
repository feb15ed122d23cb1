"""Weigh the user's recent operations and earlier notices to explain MIIT's generic notice.

MIIT sends one generic text (您的备案信息已被变更…) for 新增域名, 修改域名, 接入域名 and for an old
provider's 取消接入. The text cannot tell them apart; the user's own history can. :func:`weigh`
applies these rules, in this order — the first that applies gives the verdict:

=====  ==============================  ============================================================
 #      rule (``ContextVerdict.rule``)  what it says
=====  ==============================  ============================================================
 1      (validity)                      An operation submitted less than one day before the notice,
                                        or after it, cannot explain it; every later rule ignores it.
 2      (use-up)                        Each approved operation produces one generic notice. Earlier
                                        generic notices in ``previous_notices`` are explained by
                                        these same rules, in time order, and use up what explained
                                        them (when they stay ambiguous: the earliest valid
                                        operation). A provider's explicit access-success notice
                                        confirms (uses up) the matching ``access_domain``
                                        operation. Progress notices, verification codes and every
                                        other notice use up nothing. Earlier notices are
                                        recognised with the rules (:mod:`icp_notify.rules`).
 3      ``recent_operations``           The unused valid operations submitted 1–20 days before the
                                        notice are all of one kind → that kind.
 4      ``confirmed_move``              An ``access_domain`` operation at a new provider is already
                                        confirmed and no generic notice came since → this is the old
                                        provider's cancellation → ``access_cancelled``.
 5      ``late_cancellation``           No valid operation in the 60 days before the notice, but the
                                        context shows an earlier move of provider (an
                                        ``access_domain`` operation with ``from_provider``, or a
                                        confirmed access operation) → ``access_cancelled``.
 6      ``narrowed``                    Otherwise ambiguous; candidates are what can still explain
                                        the notice: the kinds of the unused valid operations of the
                                        last 60 days (oldest first), then ``access_cancelled`` when a
                                        move is known. When that leaves fewer than two, the other
                                        change situations follow in :data:`DEFAULT_ORDER`.
 6      ``unexplained``                 Nothing in the context can explain it → all four, in
                                        :data:`DEFAULT_ORDER`.
 –      ``no_received_at``              The notice has no time: rules 1–5 cannot apply → all four.
 –      ``not_generic``                 The notice is not the generic text: context does not apply
                                        (explicit texts are decided by the text).
=====  ==============================  ============================================================

An ``access_domain`` operation is "at a new provider" unless its ``provider`` equals its
``from_provider``; it is "confirmed" when an earlier provider notice says the access succeeded
(接入备案通过 / 已成功接入) and names the operation's domain or provider (or, when none names
them, it is the earliest unused access operation before that notice).

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from icp_notify.models import (
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
    "DEFAULT_ORDER",
    "LATE_WINDOW",
    "MIN_AGE",
    "RECENT_WINDOW",
    "ContextVerdict",
    "is_generic",
    "prior_kind",
    "weigh",
]

MIN_AGE = dt.timedelta(days=1)
"""An operation younger than this (or later than the notice) cannot explain it (rule 1)."""

RECENT_WINDOW = dt.timedelta(days=20)
"""Rule 3 looks at operations submitted 1–20 days before the notice."""

LATE_WINDOW = dt.timedelta(days=60)
"""Rule 5: no valid operation within this window before the notice; rule 6 looks no further back."""

DEFAULT_ORDER: tuple[Situation, ...] = (
    Situation.ACCESS_CANCELLED,
    Situation.NEW_DOMAIN,
    Situation.ACCESS_DOMAIN,
    Situation.MODIFY_DOMAIN,
)
"""The order of the four candidates when nothing narrows them (the corpus labels use it too).

``access_cancelled`` comes first: the user who needs to ask what the generic notice means is
usually the one who filed nothing recently — and then the old provider's (possibly late)
cancellation is the explanation left; it is also the one that costs the filing when missed.
The others follow by how often an operation of that kind goes unrecorded: adding a site,
moving in, changing details (a change of details is what a user is least likely to forget).
"""

_ACCESS_CONFIRMING = frozenset({Kind.PROVIDER_ACCESS_DOMAIN})
_GENERIC = Kind.CHANGE_NOTICE_GENERIC


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
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    situation: Situation | None
    candidates: tuple[Situation, ...]
    evidence: tuple[Evidence, ...] = ()
    rule: str

    @property
    def applies(self) -> bool:
        """Whether the context took part (false for ``not_generic``)."""
        return self.rule != "not_generic"


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
    from icp_notify.errors import InputError
    from icp_notify.parse import parse

    try:
        notice = parse(
            prior.text, channel=prior.channel, sender=prior.sender, received_at=prior.received_at
        )
    except InputError:
        return None
    return _kind_of(notice, rules)


# --------------------------------------------------------------------------- the timeline


@dataclass
class _Op:
    index: int
    op: Operation
    used_by: str | None = None
    confirmed_by: str | None = None

    @property
    def at(self) -> dt.datetime:
        return self.op.submitted_at

    @property
    def moves(self) -> bool:
        """An access operation that moves the filing away from another provider."""
        return self.op.kind is Situation.ACCESS_DOMAIN and (
            self.op.from_provider is not None and self.op.from_provider != self.op.provider
        )

    @property
    def new_provider(self) -> bool:
        return self.op.kind is Situation.ACCESS_DOMAIN and (
            self.op.from_provider is None or self.op.from_provider != self.op.provider
        )

    def describe(self, when: dt.datetime) -> str:
        age = (when - self.at).total_seconds() / 86400
        parts = [f"{self.op.kind.value} submitted {self.at.isoformat()} ({age:.1f} days before)"]
        if self.op.domain:
            parts.append(f"domain {self.op.domain}")
        if self.op.provider:
            parts.append(f"at {self.op.provider}")
        if self.op.from_provider:
            parts.append(f"from {self.op.from_provider}")
        if self.confirmed_by:
            parts.append(f"confirmed by {self.confirmed_by}")
        elif self.used_by:
            parts.append(f"used up by {self.used_by}")
        return ", ".join(parts)

    def evidence(self, when: dt.datetime, detail: str = "") -> Evidence:
        text = self.describe(when)
        return Evidence(
            source="context",
            id=f"operations[{self.index}]",
            detail=f"{detail}: {text}" if detail else text,
            situation=self.op.kind,
        )


@dataclass
class _State:
    ops: list[_Op]
    pending_cancel: list[tuple[_Op, str]] = field(default_factory=list)
    """Confirmed moves whose cancellation notice has not come yet (op, confirming notice id)."""

    def valid(self, when: dt.datetime) -> list[_Op]:
        """Unused operations that can explain a notice at ``when`` (rule 1), oldest first."""
        return sorted(
            (o for o in self.ops if o.used_by is None and o.at <= when - MIN_AGE),
            key=lambda o: (o.at, o.index),
        )

    def explain(self, when: dt.datetime) -> tuple[str, Situation | None, list[_Op]]:
        """Rules 3–6 for a generic notice at ``when``: (rule, situation, ops used as evidence)."""
        valid = self.valid(when)
        recent = [o for o in valid if o.at >= when - RECENT_WINDOW]
        if recent and len({o.op.kind for o in recent}) == 1:
            return "recent_operations", recent[0].op.kind, recent
        if self.pending_cancel:
            return "confirmed_move", Situation.ACCESS_CANCELLED, [self.pending_cancel[0][0]]
        any_valid_recent = any(
            when - LATE_WINDOW <= o.op.submitted_at <= when - MIN_AGE for o in self.ops
        )
        movers = [o for o in self.ops if (o.moves or o.confirmed_by) and o.at <= when - MIN_AGE]
        if not any_valid_recent and movers:
            return "late_cancellation", Situation.ACCESS_CANCELLED, movers
        return "", None, [o for o in valid if o.at >= when - LATE_WINDOW]


def _mentions(text: str, value: str | None) -> bool:
    return bool(value) and value is not None and value.lower() in text.lower()


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
    context = context or Context()
    state = _State([_Op(i, op) for i, op in enumerate(context.operations)])

    # Rule 2: replay the earlier notices in time order.
    earlier = sorted(
        (
            (i, p)
            for i, p in enumerate(context.previous_notices)
            if p.received_at < when and not (p.received_at == when and p.text == notice.raw_text)
        ),
        key=lambda item: (item[1].received_at, item[0]),
    )
    for i, prior in earlier:
        pid = f"previous_notices[{i}]"
        kind = prior_kind(prior, rules)
        if kind is _GENERIC:
            rule, _situation, used = state.explain(prior.received_at)
            if rule == "confirmed_move":
                state.pending_cancel.pop(0)
            elif rule == "recent_operations":
                used[0].used_by = pid
            else:
                valid = state.valid(prior.received_at)
                if valid:
                    valid[0].used_by = pid
        elif kind in _ACCESS_CONFIRMING:
            candidates = [
                o
                for o in state.ops
                if o.used_by is None
                and o.op.kind is Situation.ACCESS_DOMAIN
                and o.at < prior.received_at
            ]
            named = [
                o
                for o in candidates
                if _mentions(prior.text, o.op.domain) or _mentions(prior.text, o.op.provider)
            ]
            chosen = (named or sorted(candidates, key=lambda o: (o.at, o.index)))[:1]
            for o in chosen:
                o.used_by = o.confirmed_by = pid
                if o.new_provider:
                    state.pending_cancel.append((o, pid))

    rule, situation, used = state.explain(when)
    if situation is not None:
        evidence = [o.evidence(when, rule) for o in used]
        if rule == "confirmed_move":
            _, pid = state.pending_cancel[0]
            evidence.append(
                Evidence(
                    source="context",
                    id=pid,
                    detail=f"{rule}: the new provider confirmed the access; the next generic"
                    " notice is the old provider's cancellation",
                    situation=Situation.ACCESS_CANCELLED,
                    kind=Kind.PROVIDER_ACCESS_DOMAIN,
                )
            )
        return ContextVerdict(
            situation=situation, candidates=(situation,), evidence=tuple(evidence), rule=rule
        )

    # Rule 6: narrow to what can still explain the notice.
    possible: list[Situation] = []
    evidence = []
    for o in used:
        if o.op.kind not in possible:
            possible.append(o.op.kind)
        evidence.append(o.evidence(when, "narrowed"))
    movers = [o for o in state.ops if (o.moves or o.confirmed_by) and o.at <= when - MIN_AGE]
    if movers or state.pending_cancel:
        possible.append(Situation.ACCESS_CANCELLED)
        evidence.extend(o.evidence(when, "narrowed: an earlier move") for o in movers)
    if not possible:
        return ContextVerdict(situation=None, candidates=DEFAULT_ORDER, rule="unexplained")
    if len(possible) < 2:
        possible.extend(s for s in DEFAULT_ORDER if s not in possible)
    return ContextVerdict(
        situation=None, candidates=tuple(possible), evidence=tuple(evidence), rule="narrowed"
    )
