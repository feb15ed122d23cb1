"""The classifier's shortcuts give the plain path's answers: whether the learned combination
decides is read off the policy's inputs, without running the hand-written policy first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from _helpers import corpus_texts

from icp_notify.classifier import (
    SIDE_TOPIC_KINDS,
    Classifier,
    _clean_again,
    _combinable,
    _decide,
    sure_rule,
)
from icp_notify.combiner import HARD_KINDS
from icp_notify.context import weigh
from icp_notify.models import KIND_SITUATION, Context, Decider, Evidence, Kind
from icp_notify.parse import parse


def _combinable_by_answer(values: Mapping[str, Any], best: Evidence | None) -> bool:
    """The rule before the shortcut: run the policy, then ask its answer."""
    return (
        values["kind"] is not Kind.CHANGE_NOTICE_GENERIC
        and Decider.CONTEXT not in values["decided_by"]
        and not (best is not None and best.kind in HARD_KINDS)
    )


def _sure(kind: Kind, weight: float = 0.95) -> Evidence:
    return Evidence(
        source="rule",
        id=f"r.{kind.value}",
        kind=kind,
        situation=KIND_SITUATION[kind],
        weight=weight,
    )


@pytest.mark.parametrize("top", list(Kind))
@pytest.mark.parametrize("rule", [None, *Kind])
def test_combinable_is_read_off_the_inputs(top: Kind, rule: Kind | None) -> None:
    """Every model top kind against no sure rule and a sure rule of every kind (side topics,
    hard vetoes and the generic notice among them), with and without a context verdict."""
    kinds = dict.fromkeys(Kind, 0.01)
    kinds[top] = 0.8
    kinds = _clean_again(kinds) or {}
    evidence = (_sure(rule),) if rule is not None else ()
    best = sure_rule(evidence)
    context = Context.model_validate(
        {"operations": [{"kind": "modify_domain", "submitted_at": "2025-03-04T10:00:00+08:00"}]}
    )
    notice = parse("您的备案信息已被变更", received_at="2025-03-10T09:00:00+08:00")
    for verdict in (None, weigh(notice, context, generic=True)):
        values = _decide(evidence, kinds, best, verdict, (), "m")
        assert _combinable(kinds, best) == _combinable_by_answer(values, best), (top, rule)
    if rule in SIDE_TOPIC_KINDS or rule in HARD_KINDS:
        assert best is not None


def test_combinable_is_read_off_the_inputs_on_the_corpus() -> None:
    clf = Classifier.default()
    seen = set()
    for text in corpus_texts():
        notice = parse(text)
        evidence = clf.rules.match(notice) + clf._signature_evidence(notice)
        evidence += clf._subject_evidence(notice, evidence)
        probs, _, version = clf._model_inputs(notice)
        assert probs is not None
        kinds = _clean_again(probs) or {}
        best = sure_rule(evidence)
        values = _decide(evidence, kinds, best, None, (), version)
        combinable = _combinable(kinds, best)
        assert combinable == _combinable_by_answer(values, best), text
        seen.add(combinable)
    assert seen == {True, False}
