"""The decision: combine rule evidence, model probabilities and context into a Classification.

Everything is in :func:`decide`, one pure function whose docstring is the policy table.
:class:`Classifier` gathers its inputs for one notice (rules, text model, context), and
:func:`classify` is the public one-call entry point (``icp_notify.classify``).

Examples
--------
>>> from icp_notify.models import Notice
>>> text = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
>>> c = Classifier(model=None).classify_notice(Notice(raw_text=text, text=text))
>>> c.ambiguous, [s.value for s in c.candidates]
(True, ['access_cancelled', 'new_domain', 'access_domain', 'modify_domain'])
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

# imported here, not in the functions: an import statement costs ~1 µs on every call
from icp_notify.boundary import coerce_context
from icp_notify.calibration import SINGLE_SOURCE_CAP
from icp_notify.calibration import apply as calibrate
from icp_notify.combiner import HARD_KINDS, combiner_features
from icp_notify.models import (
    DEFAULT_ORDER,
    KIND_SITUATION,
    Channel,
    Classification,
    Context,
    Decider,
    Evidence,
    Kind,
    Notice,
    RawMessage,
    Situation,
    construct_trusted,
)
from icp_notify.parse import parse_for_classification
from icp_notify.rules import STRONG_WEIGHT, RuleSet, default_rules
from icp_notify.textmodel import model_text

if TYPE_CHECKING:
    from icp_notify.calibration import CalibrationTable
    from icp_notify.combiner import Combiner
    from icp_notify.context import ContextVerdict

__all__ = [
    "CAPPED_CONFIDENCE",
    "CONTEXT_CONFIDENCE",
    "HINT_SHARE",
    "MODEL_THRESHOLD",
    "OTHER_GUARD",
    "SIDE_TOPIC_KINDS",
    "SIGNATURE_KINDS",
    "Classifier",
    "ProbaModel",
    "classify",
    "decide",
    "default_tokenizer",
    "rank_probabilities",
]

MODEL_THRESHOLD = 0.45
"""Least probability of the model's top situation for the model to decide alone."""

CONTEXT_CONFIDENCE = 0.95
"""Confidence of a generic notice settled by a context rule (the rules are exact, the data may not be)."""

CAPPED_CONFIDENCE = SINGLE_SOURCE_CAP
"""Highest confidence of an ``access_cancelled`` no rule supports (never "confident", i.e. ≥ 0.9).

The single-source cap itself (:data:`icp_notify.calibration.SINGLE_SOURCE_CAP`): a cap sits just
below the confident threshold, because any lower value under-states answers that are right ~98 % of
the time on unseen writers without making anything safer (it was 0.85 until 2026-12-07;
docs/model.md)."""

OTHER_GUARD = 0.3
"""Model mass on ``other`` above which an unsupported ``access_cancelled`` stays ambiguous with ``other``."""

HINT_SHARE = 0.5
"""Share of a hint rule's weight (rules below ``STRONG_WEIGHT``) added to the model's mass on its situation."""

SIDE_TOPIC_KINDS = frozenset({Kind.FOOTER_REMINDER, Kind.MARKETING, Kind.SHELL_SITE_WARNING})
"""Kinds whose sure rules name a topic that often rides along with a real outcome — an approval
that ends with 请悬挂备案号, a digest with an advert, a cancellation after a 空壳 warning. When the
model's top situation is a change situation they do not decide (row 1); the model rows decide,
under the caution cap (a sure ``other`` rule is a caution). Measured by leave-one-writer-out: of
the answers such a rule decided against the model, the model was right in 10 of 10 (four
writers); the certain kinds (phishing, 公安, 注销 …) keep deciding (8 of 8 right)."""

SIGNATURE_KINDS = frozenset({Kind.PUBLIC_SECURITY, Kind.ANTI_FRAUD})
"""Kinds whose rules are also run over the 【signature】 alone (the sender names the topic)."""

_SITUATIONS: tuple[Situation, ...] = tuple(Situation)
"""``Situation`` members in definition order (iterating the Enum class costs a generator)."""

_SITUATION_RANK = {s: i for i, s in enumerate(_SITUATIONS)}
"""``list(Situation).index(s)`` for every situation."""

_ONLY_KIND = frozenset({Kind})
_ONLY_FLOAT = frozenset({float})

_SIGNATURE_CACHE_SIZE = 1024
"""Most (signature, channel) pairs whose signature evidence a :class:`Classifier` keeps."""

_SIGNATURE_CACHE_LENGTH = 64
"""Longest signature whose evidence is kept (longer ones are matched every time)."""


class ProbaModel(Protocol):
    """What the classifier needs from a text model: probabilities over :class:`Kind` values.

    ``top_features(tokens, kind, n)`` and ``version`` are used when present.
    """

    def predict_proba(self, tokens: Sequence[str]) -> Mapping[Any, float]:
        """Probabilities over :class:`Kind` values (or their string values) for ``tokens``.

        Parameters
        ----------
        tokens : sequence of str
            The notice's tokens, from :func:`icp_notify.textmodel.notice_tokens`.

        Returns
        -------
        Mapping
            Kind (or kind value) → probability; the values sum to 1.
        """
        ...


# --------------------------------------------------------------------------- helpers


def rank_probabilities(candidates: Sequence[Situation]) -> dict[Situation, float]:
    """Spread probability over ordered candidates, mildly decreasing by rank (the fixed prior).

    Rank ``i`` of ``k`` candidates gets weight ``k - i + 2``; labels not listed get 0.

    Parameters
    ----------
    candidates : sequence of Situation
        The candidates, most likely first.

    Returns
    -------
    dict of Situation to float
        A probability for every situation; they sum to 1 (all 0 for no candidates).

    Examples
    --------
    >>> from icp_notify.context import DEFAULT_ORDER
    >>> {s.value: round(p, 3) for s, p in rank_probabilities(DEFAULT_ORDER).items() if p}
    {'new_domain': 0.278, 'modify_domain': 0.167, 'access_domain': 0.222, 'access_cancelled': 0.333}
    """
    k = len(candidates)
    weights = {s: float(k - i + 2) for i, s in enumerate(candidates)}
    total = sum(weights.values())
    return {s: weights.get(s, 0.0) / total if total else 0.0 for s in _SITUATIONS}


@functools.lru_cache(maxsize=256)
def _rank_probabilities(candidates: tuple[Situation, ...]) -> dict[Situation, float]:
    """:func:`rank_probabilities`, kept per candidate tuple; callers only read the dict."""
    return rank_probabilities(candidates)


def _situation_probs(
    kinds: Mapping[Kind, float], spread: Sequence[Situation]
) -> dict[Situation, float]:
    """Aggregate kind probabilities per situation, spreading the generic mass over ``spread``."""
    out = dict.fromkeys(_SITUATIONS, 0.0)
    for kind, p in kinds.items():
        situation = KIND_SITUATION[kind]
        if situation is not None:
            out[situation] += p
    generic = kinds.get(Kind.CHANGE_NOTICE_GENERIC, 0.0)
    if generic:
        for s, share in _rank_probabilities(tuple(spread)).items():
            out[s] += generic * share
    return _normalised(out)


def _normalised(probs: Mapping[Situation, float]) -> dict[Situation, float]:
    total = sum(probs.values())
    if total <= 0:
        return {s: 1.0 / len(_SITUATIONS) for s in _SITUATIONS}
    return {s: probs.get(s, 0.0) / total for s in _SITUATIONS}


def _blend(
    situation: Situation, confidence: float, rest: Mapping[Situation, float] | None
) -> dict[Situation, float]:
    """``situation`` gets ``confidence``; the rest is shared as in ``rest`` (uniform if absent)."""
    others = [s for s in _SITUATIONS if s is not situation]
    weights = {s: (rest or {}).get(s, 0.0) for s in others}
    total = sum(weights.values())
    if total <= 0:
        weights = dict.fromkeys(others, 1.0)
        total = float(len(others))
    out = {s: (1.0 - confidence) * weights[s] / total for s in others}
    out[situation] = confidence
    return _normalised(out)


def _clean_probs(model_probs: Mapping[Any, float] | None) -> dict[Kind, float] | None:
    if model_probs is None:
        return None
    kinds: dict[Kind, float]
    if (
        type(model_probs) is dict
        and {*map(type, model_probs)} == _ONLY_KIND
        and {*map(type, model_probs.values())} == _ONLY_FLOAT
    ):
        # the common case: distinct Kind keys, so each sum below has one term (0.0 + x), and
        # float values, so max(float(v), 0.0) is (0.0 if v < 0.0 else v)
        kinds = {key: 0.0 + (0.0 if v < 0.0 else v) for key, v in model_probs.items()}
    else:
        kinds = {}
        for key, value in model_probs.items():
            if type(key) is Kind:
                kind = key
            else:
                try:
                    kind = Kind(key)
                except ValueError:
                    continue
            kinds[kind] = kinds.get(kind, 0.0) + max(float(value), 0.0)
    total = sum(kinds.values())
    if total <= 0:
        return None
    return {k: v / total for k, v in kinds.items()}


def _clean_again(kinds: dict[Kind, float]) -> dict[Kind, float] | None:
    """``_clean_probs(kinds)`` for ``kinds`` that ``_clean_probs`` returned.

    Its keys are distinct Kinds and its values ``+0.0``, positive or NaN, so
    ``0.0 + max(float(v), 0.0)`` is ``v`` and only the renormalisation is left to do.
    """
    total = sum(kinds.values())
    if total <= 0:
        return None
    return {k: v / total for k, v in kinds.items()}


def sure_rule(rule_evidence: Sequence[Evidence]) -> Evidence | None:
    """The deciding rule: the highest-weight match of weight ≥ ``STRONG_WEIGHT``, if unique.

    Two sure rules of equal top weight that disagree on the kind cancel out (``None``).

    Parameters
    ----------
    rule_evidence : sequence of Evidence
        The rules' matches for one notice.

    Returns
    -------
    Evidence or None
        The deciding match, or ``None`` when no single sure rule decides.

    Examples
    --------
    >>> e = Evidence(source="rule", id="r", kind=Kind.PROGRESS, weight=0.95)
    >>> sure_rule([e]).id
    'r'
    """
    sure = [
        e
        for e in rule_evidence
        if not e.timed_out and e.weight is not None and e.weight >= STRONG_WEIGHT and e.kind
    ]
    if not sure:
        return None
    top = max(e.weight or 0.0 for e in sure)
    best = [e for e in sure if e.weight == top]
    if len({e.kind for e in best}) > 1:
        return None
    return best[0]


def cautions(rule_evidence: Sequence[Evidence]) -> tuple[Evidence, ...]:
    """Rule evidence that forbids a confident change situation: phishing signals or sure ``other`` rules.

    Any phishing rule (hint or sure), and any sure rule whose situation is ``other``.

    Parameters
    ----------
    rule_evidence : sequence of Evidence
        The rules' matches for one notice.

    Returns
    -------
    tuple of Evidence
        The cautioning matches, in input order (timed-out matches left out).

    Examples
    --------
    >>> hint = Evidence(source="rule", id="signal.x", kind=Kind.PHISHING, situation=Situation.OTHER, weight=0.6)
    >>> [e.id for e in cautions([hint])]
    ['signal.x']
    """
    return tuple(
        e
        for e in rule_evidence
        if not e.timed_out
        and e.kind is not None
        and (
            e.kind is Kind.PHISHING
            or (e.situation is Situation.OTHER and (e.weight or 0.0) >= STRONG_WEIGHT)
        )
    )


def _with_hints(
    model_sit: Mapping[Situation, float], rule_evidence: Sequence[Evidence]
) -> dict[Situation, float]:
    """Add ``HINT_SHARE`` × weight of every hint rule (below ``STRONG_WEIGHT``) to its situation."""
    out = dict(model_sit)
    for e in rule_evidence:
        weight = e.weight or 0.0
        if e.timed_out or e.situation is None or weight >= STRONG_WEIGHT:
            continue
        out[e.situation] = out.get(e.situation, 0.0) + HINT_SHARE * weight
    return _normalised(out)


def _ambiguous(  # noqa: PLR0917
    candidates: Sequence[Situation],
    probabilities: Mapping[Situation, float],
    kind: Kind,
    decided_by: tuple[Decider, ...],
    evidence: Sequence[Evidence],
    model_version: str | None,
) -> dict[str, Any]:
    probs = _normalised(probabilities)
    return {
        "situation": None,
        "ambiguous": True,
        "candidates": tuple(candidates),
        "confidence": round(probs[candidates[0]], 6),
        "probabilities": probs,
        "kind": kind,
        "decided_by": decided_by,
        "evidence": tuple(evidence),
        "model_version": model_version,
    }


def _decided(  # noqa: PLR0917
    situation: Situation,
    confidence: float,
    probabilities: Mapping[Situation, float],
    kind: Kind,
    decided_by: tuple[Decider, ...],
    evidence: Sequence[Evidence],
    model_version: str | None,
) -> dict[str, Any]:
    return {
        "situation": situation,
        "ambiguous": False,
        "candidates": (situation,),
        "confidence": round(min(max(confidence, 0.0), 1.0), 6),
        "probabilities": _normalised(probabilities),
        "kind": kind,
        "decided_by": decided_by,
        "evidence": tuple(evidence),
        "model_version": model_version,
    }


def _classification(values: dict[str, Any]) -> Classification:
    """``Classification(**values)`` for the field values :func:`_decide` returns.

    When every value is already what validation would return (members of the right enums,
    tuples, a float confidence in [0, 1], Evidence instances, the consistency rules of
    ``Classification``), the instance is built without validating again — the same instance.
    ``probabilities`` always comes from ``_normalised`` (float values over the five
    situations). Anything else (a NaN confidence, a caller's odd evidence, one candidate) is
    validated, and fails or converts exactly as before.
    """
    situation = values["situation"]
    ambiguous = values["ambiguous"]
    candidates = values["candidates"]
    confidence = values["confidence"]
    model_version = values["model_version"]
    if (
        type(confidence) is float
        and 0.0 <= confidence <= 1.0
        and type(values["kind"]) is Kind
        and (model_version is None or type(model_version) is str)
        and (
            (not ambiguous and type(situation) is Situation and candidates == (situation,))
            or (
                ambiguous
                and situation is None
                and len(candidates) >= 2
                and all(type(c) is Situation for c in candidates)
            )
        )
        and all(type(e) is Evidence for e in values["evidence"])
    ):
        return construct_trusted(Classification, values)
    return Classification(**values)


# --------------------------------------------------------------------------- the policy


def decide(
    notice: Notice,
    rule_evidence: Sequence[Evidence],
    model_probs: Mapping[Any, float] | None,
    context_verdict: ContextVerdict | None,
    *,
    model_evidence: Sequence[Evidence] = (),
    model_version: str | None = None,
) -> Classification:
    """Combine rule evidence, model probabilities and the context verdict — the one policy.

    The first row that applies decides. *Cautions* (:func:`cautions`) are any phishing rule
    (hint or sure) and any sure rule of situation ``other``; *hints* are rules below
    ``STRONG_WEIGHT``.

    ===  ==========================================  ===========================================
     #    when                                        result
    ===  ==========================================  ===========================================
     1    a sure rule (weight ≥ 0.9, not timed        that kind's situation; confidence = the
          out, highest weight) names an explicit      rule's weight, capped at 0.89 for a change
          kind — unless it is a side topic            situation when a caution is present;
          (``SIDE_TOPIC_KINDS``) and the model's      ``decided_by`` = rules (+ model when the
          top situation is a change situation         model agrees)
     2    the notice is the generic one (sure         the context's situation; kind
          generic rule; or no sure rule and the       ``change_notice_generic``; confidence 0.95;
          model's top kind is generic) and the        ``decided_by`` = rules or model, + context
          context verdict settles it
     3    the generic notice, context not settling    ambiguous; candidates = the context's
          it (or no context)                          narrowed candidates, else all four in
                                                      ``context.DEFAULT_ORDER``; probabilities
                                                      by :func:`rank_probabilities`
     –    rows 4–7 use the model's situation          each hint adds ``HINT_SHARE`` × its weight
          probabilities plus the hints                to its situation (then renormalised)
     4    no sure rule, the top situation is          ambiguous between ``access_cancelled`` and
          ``access_cancelled``, no rule supports      ``other`` — never a confident cancellation
          it (or a caution is present) and           for an ``other``-looking text
          ``other`` ≥ 0.3
     5    no sure rule, the top situation has         that situation, kind = the model's top kind
          probability ≥ 0.45                          of it; confidence = its probability, capped
                                                      at 0.89 for an unsupported
                                                      ``access_cancelled`` and for any change
                                                      situation under a caution;
                                                      ``decided_by`` = model
     6    no sure rule, low confidence, top is        ``other`` with the (low) confidence
          ``other``
     7    no sure rule, low confidence, top is a      ambiguous among the situations with
          change situation                            probability ≥ 0.15 (at least two, at most
                                                      three), most likely first
     8    no sure rule and no model                   ``other`` / ``unrelated``, confidence 0.5
    ===  ==========================================  ===========================================

    ``probabilities`` always cover the five labels and sum to 1: the model's kind probabilities
    summed per situation, with the generic kind's mass spread over the four change situations
    by :func:`rank_probabilities`; a rule or context decision puts its confidence on its
    situation and shares the rest as the model does (uniformly without a model).

    Parameters
    ----------
    notice : Notice
        The notice (kept for policies that look at it; rows above use the evidence only).
    rule_evidence : sequence of Evidence
        From :meth:`icp_notify.rules.RuleSet.match`.
    model_probs : mapping of Kind to float, or None
        The text model's probabilities over :class:`Kind` (``None``: no model).
    context_verdict : ContextVerdict or None
        From :func:`icp_notify.context.weigh` (``None``: context not weighed).
    model_evidence : sequence of Evidence, optional
        The model's top features, passed through to ``evidence``.
    model_version : str, optional
        Recorded in the result.

    Returns
    -------
    Classification

    Examples
    --------
    >>> from icp_notify.models import Notice
    >>> n = Notice(raw_text="x", text="x")
    >>> c = decide(n, [], {Kind.PROGRESS: 0.9, Kind.UNRELATED: 0.1}, None)
    >>> c.situation.value, c.kind.value, c.decided_by
    ('other', 'progress', (<Decider.MODEL: 'model'>,))
    """
    del notice  # the policy reads the evidence only
    rule_ev = tuple(rule_evidence)
    return _classification(
        _decide(
            rule_ev,
            _clean_probs(model_probs),
            sure_rule(rule_ev),
            context_verdict,
            tuple(model_evidence),
            model_version,
        )
    )


def _decide(  # noqa: PLR0917
    rule_ev: tuple[Evidence, ...],
    kinds: dict[Kind, float] | None,
    best: Evidence | None,
    context_verdict: ContextVerdict | None,
    model_evidence: tuple[Evidence, ...],
    model_version: str | None,
) -> dict[str, Any]:
    """:func:`decide`'s field values for ``Classification``, given the cleaned probabilities
    (``_clean_probs``) and the sure rule (:func:`sure_rule`) of ``rule_ev``."""
    spread = DEFAULT_ORDER
    if context_verdict is not None and context_verdict.applies and context_verdict.candidates:
        spread = context_verdict.candidates
    model_sit = _situation_probs(kinds, spread) if kinds else None
    model_top_kind = max(kinds, key=kinds.__getitem__) if kinds else None
    caution = cautions(rule_ev)

    # Row 1: a sure explicit rule (a side topic yields to a model that reads an outcome).
    if (
        best is not None
        and best.kind is not Kind.CHANGE_NOTICE_GENERIC
        and not (
            best.kind in SIDE_TOPIC_KINDS
            and model_sit is not None
            and max(model_sit, key=model_sit.__getitem__) is not Situation.OTHER
        )
    ):
        assert best.kind is not None
        situation = KIND_SITUATION[best.kind]
        assert situation is not None
        deciders: tuple[Decider, ...] = (Decider.RULES,)
        if model_sit is not None and max(model_sit, key=model_sit.__getitem__) is situation:
            deciders += (Decider.MODEL,)
        confidence = best.weight or 0.0
        if situation is not Situation.OTHER and caution:
            confidence = min(confidence, CAPPED_CONFIDENCE)
        return _decided(
            situation,
            confidence,
            _blend(situation, confidence, model_sit),
            best.kind,
            deciders,
            (*rule_ev, *model_evidence),
            model_version,
        )

    # Rows 2–3: the generic notice.
    generic_by_model = best is None and model_top_kind is Kind.CHANGE_NOTICE_GENERIC
    if (best is not None and best.kind is Kind.CHANGE_NOTICE_GENERIC) or generic_by_model:
        first: tuple[Decider, ...] = (Decider.MODEL,) if generic_by_model else (Decider.RULES,)
        verdict = (
            context_verdict if context_verdict is not None and context_verdict.applies else None
        )
        context_ev = verdict.evidence if verdict is not None else ()
        evidence = (*rule_ev, *model_evidence, *context_ev)
        if verdict is not None and verdict.situation is not None:
            rest = _rank_probabilities(
                tuple(s for s in DEFAULT_ORDER if s is not verdict.situation)
            )
            return _decided(
                verdict.situation,
                CONTEXT_CONFIDENCE,
                _blend(verdict.situation, CONTEXT_CONFIDENCE, rest),
                Kind.CHANGE_NOTICE_GENERIC,
                (*first, Decider.CONTEXT),
                evidence,
                model_version,
            )
        candidates = verdict.candidates if verdict is not None else DEFAULT_ORDER
        deciders = (*first, Decider.CONTEXT) if verdict is not None else first
        return _ambiguous(
            candidates,
            _rank_probabilities(tuple(candidates)),
            Kind.CHANGE_NOTICE_GENERIC,
            deciders,
            evidence,
            model_version,
        )

    # Row 8: nothing sure and no model.
    if kinds is None or model_sit is None:
        return _decided(
            Situation.OTHER,
            0.5,
            _blend(Situation.OTHER, 0.5, None),
            Kind.UNRELATED,
            (),
            rule_ev,
            model_version,
        )

    # Rows 4–7: the model, with the hint rules' weight added.
    return _by_probabilities(
        _with_hints(model_sit, rule_ev),
        kinds,
        rule_ev,
        caution,
        (*rule_ev, *model_evidence),
        model_version,
        None,
    )


def _by_probabilities(  # noqa: PLR0917
    sit_probs: dict[Situation, float],
    kinds: Mapping[Kind, float],
    rule_ev: tuple[Evidence, ...],
    caution: tuple[Evidence, ...],
    evidence: tuple[Evidence, ...],
    model_version: str | None,
    deciders_of: Callable[[Situation], tuple[Decider, ...]] | None,
    best: Evidence | None = None,
) -> dict[str, Any]:
    """Rows 4–7 of :func:`decide` over situation probabilities (the model's with the hints, or
    the combiner's); ``deciders_of(top)`` names the deciders (default: the model); with
    ``deciders_of``, ``best`` is :func:`sure_rule` of ``rule_ev``, whose kind names its situation."""
    ranked = sorted(_SITUATIONS, key=lambda s: (-sit_probs[s], _SITUATION_RANK[s]))
    top = ranked[0]
    deciders = deciders_of(top) if deciders_of is not None else (Decider.MODEL,)
    if deciders_of is None:
        best = None

    def top_kind_of(situation: Situation) -> Kind:
        if best is not None and best.kind is not None and best.situation is situation:
            return best.kind
        of = [k for k in kinds if KIND_SITUATION[k] is situation]
        return max(of, key=kinds.__getitem__) if of else Kind.UNRELATED

    if top is Situation.ACCESS_CANCELLED:
        supported = not caution and any(
            e.situation is Situation.ACCESS_CANCELLED and not e.timed_out for e in rule_ev
        )
        if not supported and sit_probs[Situation.OTHER] >= OTHER_GUARD:
            return _ambiguous(
                (Situation.ACCESS_CANCELLED, Situation.OTHER),
                sit_probs,
                top_kind_of(top),
                deciders,
                evidence,
                model_version,
            )
        if sit_probs[top] >= MODEL_THRESHOLD:
            confidence = sit_probs[top] if supported else min(sit_probs[top], CAPPED_CONFIDENCE)
            return _decided(
                top,
                confidence,
                _blend(top, confidence, sit_probs),
                top_kind_of(top),
                deciders,
                evidence,
                model_version,
            )
    elif sit_probs[top] >= MODEL_THRESHOLD or top is Situation.OTHER:
        confidence = sit_probs[top]
        if top is not Situation.OTHER and caution:
            confidence = min(confidence, CAPPED_CONFIDENCE)
        return _decided(
            top,
            confidence,
            sit_probs,
            top_kind_of(top),
            deciders,
            evidence,
            model_version,
        )

    close = [s for s in ranked if sit_probs[s] >= 0.15][:3]
    if len(close) < 2:
        close = ranked[:2]
    return _ambiguous(close, sit_probs, top_kind_of(top), deciders, evidence, model_version)


def _combinable(kinds: Mapping[Kind, float], best: Evidence | None) -> bool:
    """Whether the combiner decides this answer: not the generic notice, not a context
    decision, not a hard veto (:data:`icp_notify.combiner.HARD_KINDS`).

    Read off :func:`_decide`'s inputs (``kinds`` not empty), so ``_decide`` is not run for an
    answer the combiner replaces: its answer is the generic notice exactly in rows 2–3 (a sure
    generic rule, or no sure rule and the model's top kind generic), and only those rows name
    the context; every other row's kind is the sure rule's or a situation's kind, never generic.
    """
    if best is None:
        return max(kinds, key=kinds.__getitem__) is not Kind.CHANGE_NOTICE_GENERIC
    return best.kind is not Kind.CHANGE_NOTICE_GENERIC and best.kind not in HARD_KINDS


def _combined(  # noqa: PLR0917
    combiner: Combiner,
    notice: Notice,
    rule_ev: tuple[Evidence, ...],
    kinds: dict[Kind, float],
    best: Evidence | None,
    model_version: str | None,
) -> dict[str, Any]:
    """The answer from the combiner's probabilities (rows 4–7 over them, the same caps)."""
    channel = notice.channel.value if notice.channel is not None else None
    feats = combiner_features(
        rule_ev, kinds, text=notice.text, subject=notice.subject, channel=channel
    )
    probs = combiner.probabilities(feats)
    model_sit = _situation_probs(kinds, DEFAULT_ORDER)
    model_top = max(model_sit, key=model_sit.__getitem__)

    def deciders_of(top: Situation) -> tuple[Decider, ...]:
        by_rule = best is not None and best.situation is top
        by_model = model_top is top
        if by_rule and by_model:
            return (Decider.RULES, Decider.MODEL)
        return (Decider.RULES,) if by_rule else (Decider.MODEL,)

    return _by_probabilities(
        probs, kinds, rule_ev, cautions(rule_ev), rule_ev, model_version, deciders_of, best
    )


# --------------------------------------------------------------------------- the classifier


@functools.cache
def _tokenize_function() -> Callable[[str], list[str]]:
    """:func:`icp_notify.tokenize.tokenize`, imported on first use (it loads the dictionary)."""
    from icp_notify.tokenize import tokenize

    return tokenize


def default_tokenizer(text: str) -> list[str]:
    """A :class:`Classifier`'s tokenizer unless it is given another.

    :func:`icp_notify.tokenize.tokenize`, imported on first call (so building a classifier does
    not load the tokenizer's dictionary).

    Parameters
    ----------
    text : str
        The text the model reads.

    Returns
    -------
    list of str
        ``tokenize(text)``.

    Examples
    --------
    >>> from icp_notify.tokenize import tokenize
    >>> default_tokenizer("备案已通过") == tokenize("备案已通过")
    True
    """
    return _tokenize_function()(text)


class Classifier:
    """Rules + text model + context for one notice at a time; stateless between calls.

    Parameters
    ----------
    rules : RuleSet, optional
        The rules (default: :func:`icp_notify.rules.default_rules`).
    model : object with ``predict_proba(tokens)``, optional
        The text model; ``None`` classifies with rules and context only.
    tokenizer : callable, optional
        Text → tokens for the model (default: :func:`icp_notify.tokenize.tokenize`).
    calibration : CalibrationTable, optional
        Maps raw confidences to measured ones and makes unsure answers ambiguous
        (:func:`icp_notify.calibration.apply`); ``None`` keeps the policy's raw confidence.
        :meth:`default` uses the shipped table, fitted for the shipped model.
    combiner : Combiner, optional
        The learned combination of rule evidence and model probabilities
        (:mod:`icp_notify.combiner`); it decides every answer but the generic notice, context
        decisions and the hard vetoes. ``None`` keeps the hand-written policy
        (:func:`decide`). :meth:`default` uses the shipped one, fitted for the shipped model.

    Examples
    --------
    >>> from icp_notify.models import Notice
    >>> class Fake:
    ...     def predict_proba(self, tokens):
    ...         return {"marketing": 0.8, "unrelated": 0.2}
    >>> c = Classifier(model=Fake(), tokenizer=list).classify_notice(Notice(raw_text="x", text="x"))
    >>> c.situation.value, c.kind.value
    ('other', 'marketing')
    """

    _default: Classifier | None = None
    _lock = threading.Lock()

    def __init__(
        self,
        rules: RuleSet | None = None,
        model: ProbaModel | None = None,
        *,
        tokenizer: Callable[[str], Sequence[str]] | None = None,
        calibration: CalibrationTable | None = None,
        combiner: Combiner | None = None,
    ) -> None:
        if rules is None:
            rules = default_rules()
        self.rules = rules
        self._signature_rules: RuleSet | None = None
        self._signature_cache: dict[tuple[str, Channel], tuple[Evidence, ...]] = {}
        self.model = model
        self.tokenizer = tokenizer or default_tokenizer
        self.calibration = calibration
        self.combiner = combiner

    @classmethod
    def default(cls) -> Classifier:
        """The shipped rules and text model, built once and shared (thread-safe).

        Returns
        -------
        Classifier
            The same object on every call.
        """
        if cls._default is None:
            with cls._lock:
                if cls._default is None:
                    from icp_notify.calibration import default_table
                    from icp_notify.combiner import default_combiner
                    from icp_notify.textmodel import default_model

                    model = default_model()
                    cls._default = cls(
                        default_rules(),
                        model,
                        calibration=default_table(model.version),
                        combiner=default_combiner(model.version),
                    )
        return cls._default

    def _model_inputs(
        self, notice: Notice
    ) -> tuple[dict[Kind, float] | None, list[str], str | None]:
        """The model's kind probabilities, the tokens they came from and the model version."""
        if self.model is None:
            return None, [], None
        tokens = list(self.tokenizer(model_text(notice)))
        probs = _clean_probs(self.model.predict_proba(tokens))
        version = getattr(self.model, "version", None)
        return probs, tokens, str(version) if version is not None else None

    def _explain(
        self, tokens: Sequence[str], probs: Mapping[Kind, float], result: Mapping[str, Any]
    ) -> tuple[Evidence, ...]:
        """The model's top features for the decided kind (and, when ambiguous, for the top kind
        of each other candidate situation): evidence that explains the result (the field values
        of the Classification), not the model's own first choice."""
        top_features = getattr(self.model, "top_features", None)
        if not callable(top_features):
            return ()
        wanted = [result["kind"]]
        if result["ambiguous"] and result["kind"] is not Kind.CHANGE_NOTICE_GENERIC:
            for situation in result["candidates"]:
                of = [k for k in probs if KIND_SITUATION[k] is situation]
                if of:
                    wanted.append(max(of, key=probs.__getitem__))
        evidence: list[Evidence] = []
        for rank, kind in enumerate(dict.fromkeys(wanted)):
            detail = f"feature pointing to {kind.value}"
            situation = KIND_SITUATION[kind]
            for feature, weight in top_features(tokens, kind, 5 if rank == 0 else 3):
                evidence.append(  # as Evidence.model_construct(...) of every field builds it
                    construct_trusted(
                        Evidence,
                        {
                            "source": "model",
                            "id": str(feature),
                            "detail": detail,
                            "situation": situation,
                            "kind": kind,
                            "span": None,
                            "matched": None,
                            "weight": float(weight),
                            "timed_out": False,
                        },
                    )
                )
        return tuple(evidence)

    def _signature_evidence(self, notice: Notice) -> tuple[Evidence, ...]:
        """Rules of :data:`SIGNATURE_KINDS` run over the 【signature】 alone (e.g. the 公安 platform).

        A pure function of the stripped signature and the channel, so the evidence of short
        signatures is kept (at most ``_SIGNATURE_CACHE_SIZE`` pairs; frozen Evidence, shared
        safely); a result with a timed-out search is never kept.
        """
        signature = (notice.signature or "").strip()
        if not signature:
            return ()
        key = (signature, notice.channel)
        cached = self._signature_cache.get(key)
        if cached is not None:
            return cached
        if self._signature_rules is None:  # only the rules whose kind is read off a signature
            chosen = [r for r in self.rules.rules if r.spec.kind in SIGNATURE_KINDS]
            self._signature_rules = RuleSet(chosen, path=self.rules.path)
        if not self._signature_rules.rules:
            return ()
        view = Notice(raw_text=signature, text=signature, channel=notice.channel)
        found = self._signature_rules.match(view)
        evidence = tuple(
            e.model_copy(update={"detail": f"{e.detail} (in the signature)"})
            for e in found
            if not e.timed_out
        )
        if (
            len(signature) <= _SIGNATURE_CACHE_LENGTH
            and len(self._signature_cache) < _SIGNATURE_CACHE_SIZE
            and not any(e.timed_out for e in found)
        ):
            self._signature_cache[key] = evidence
        return evidence

    def _subject_evidence(
        self, notice: Notice, rule_evidence: Sequence[Evidence]
    ) -> tuple[Evidence, ...]:
        """Rules' matches inside an e-mail subject, when no rule on the text is sure.

        The rules run over ``subject + "\\n" + text``, so the text's vetoes (将…, 未通过, a
        verification code …) still apply; only matches lying wholly in the subject are kept, with
        ``span=None`` (spans point into ``Notice.text``) and the subject noted in ``detail``. A
        subject such as "取消接入处理完成" then decides a notice whose body says only "已处理".
        """
        subject = notice.subject
        if not subject or sure_rule(rule_evidence) is not None:
            return ()
        view = notice.model_copy(update={"text": f"{subject}\n{notice.text}"})
        end = len(subject)
        return tuple(
            e.model_copy(update={"detail": f"{e.detail} (in the subject)", "span": None})
            for e in self.rules.match(view)
            if e.span is not None and e.span[1] <= end and not e.timed_out
        )

    def classify_notice(
        self, notice: Notice, context: Context | Mapping[str, Any] | None = None
    ) -> Classification:
        """Classify a parsed notice, with the user's context when given.

        Parameters
        ----------
        notice : Notice
            From :func:`icp_notify.parse.parse`.
        context : Context or dict, optional
            Recent operations and earlier notices (see :mod:`icp_notify.context`).

        Returns
        -------
        Classification
        """
        ctx = coerce_context(context)
        rule_evidence = self.rules.match(notice) + self._signature_evidence(notice)
        rule_evidence += self._subject_evidence(notice, rule_evidence)
        probs, tokens, version = self._model_inputs(notice)
        best = sure_rule(rule_evidence)
        generic = (best is not None and best.kind is Kind.CHANGE_NOTICE_GENERIC) or (
            best is None
            and probs is not None
            and max(probs, key=probs.__getitem__) is Kind.CHANGE_NOTICE_GENERIC
        )
        verdict = None
        if generic and ctx is not None:
            # imported here: only a generic notice with a context needs the context engine
            # (≈ 48 M instructions of cold start when imported with the module)
            from icp_notify.context import weigh

            verdict = weigh(notice, ctx, rules=self.rules, generic=True)
        # decide(notice, rule_evidence, probs, verdict, model_version=version), whose
        # _clean_probs(probs) is _clean_again(probs) here, built once with the explanation
        kinds = _clean_again(probs) if probs is not None else None
        if self.combiner is not None and kinds and _combinable(kinds, best):
            values = _combined(self.combiner, notice, rule_evidence, kinds, best, version)
        else:
            values = _decide(rule_evidence, kinds, best, verdict, (), version)
        if probs:
            explained = self._explain(tokens, probs, values)
            if explained:
                # _decide puts the model's evidence right after the rules' (before the context's)
                n = len(rule_evidence)
                evidence = values["evidence"]
                values["evidence"] = (*evidence[:n], *explained, *evidence[n:])
        result = _classification(values)
        return result if self.calibration is None else calibrate(result, self.calibration)


def classify(
    data: str | bytes | RawMessage | Notice,
    *,
    channel: Channel | str | None = None,
    sender: str | None = None,
    received_at: datetime | str | None = None,
    context: Context | Mapping[str, Any] | None = None,
) -> Classification:
    """Classify one notice with the shipped rules and model (``icp_notify.classify``).

    Parameters
    ----------
    data : str, bytes, RawMessage or Notice
        The notice (parsed with :func:`icp_notify.parse.parse` unless already a Notice).
    channel, sender, received_at : optional
        Passed to :func:`icp_notify.parse.parse`.
    context : Context or dict, optional
        The user's recent operations and earlier notices; a bad dict raises ``InputError``.

    Returns
    -------
    Classification

    Raises
    ------
    InputError
        Empty or malformed input, or an invalid context.

    Examples
    --------
    >>> c = classify("【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。")
    >>> c.ambiguous, c.kind.value, len(c.candidates)
    (True, 'change_notice_generic', 4)
    """
    ctx = coerce_context(context)
    if isinstance(data, Notice):
        notice = data
    else:  # parse() without the entities a classification does not read
        notice = parse_for_classification(
            data, channel=channel, sender=sender, received_at=received_at
        )
    return Classifier.default().classify_notice(notice, ctx)
