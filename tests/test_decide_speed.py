"""The fast paths of rules, classifier and models give exactly what the plain paths give."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from icp_notify import classifier as clf
from icp_notify.classifier import Classifier, _classification, _clean_probs
from icp_notify.corpus import load_corpus
from icp_notify.gates import lowered, present_strings
from icp_notify.models import (
    Channel,
    Classification,
    Decider,
    Evidence,
    Kind,
    Notice,
    Situation,
    construct_trusted,
)
from icp_notify.rules import RuleSet, default_rules


def _same_instance(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    assert a.__dict__ == b.__dict__
    assert list(a.__dict__) == list(b.__dict__)
    assert a.model_fields_set == b.model_fields_set
    assert a.__pydantic_extra__ == b.__pydantic_extra__
    assert a.__pydantic_private__ == b.__pydantic_private__
    assert a == b
    assert a.model_dump_json() == b.model_dump_json()


EVIDENCE = {
    "source": "rule",
    "id": "r",
    "detail": "d",
    "situation": Situation.OTHER,
    "kind": Kind.PROGRESS,
    "span": (1, 3),
    "matched": "ab",
    "weight": 0.95,
    "timed_out": False,
}


def test_trusted_is_model_construct() -> None:
    _same_instance(
        construct_trusted(Evidence, dict(EVIDENCE)), Evidence.model_construct(**EVIDENCE)
    )
    _same_instance(construct_trusted(Evidence, dict(EVIDENCE)), Evidence(**EVIDENCE))
    some = {k: v for k, v in EVIDENCE.items() if k != "timed_out"}
    _same_instance(construct_trusted(Evidence, dict(EVIDENCE), set(some)), Evidence(**some))
    values = {
        "situation": Situation.OTHER,
        "ambiguous": False,
        "candidates": (Situation.OTHER,),
        "confidence": 0.5,
        "probabilities": dict.fromkeys(Situation, 0.2),
        "kind": Kind.UNRELATED,
        "decided_by": (Decider.MODEL,),
        "evidence": (Evidence(**EVIDENCE),),
        "model_version": "v",
    }
    _same_instance(construct_trusted(Classification, dict(values)), Classification(**values))
    _same_instance(_classification(dict(values)), Classification(**values))


def _texts() -> list[str]:
    texts = [r.text for r in load_corpus()][:400]
    return [
        *texts,
        "İ您的备案信息已被变更，详情请咨询您的接入服务提供商。",  # gates not usable: general path
        "ſ 已取消接入 http://x.cn/a",
        "",
        "a." * 200,
    ]


def _general(rules: RuleSet, notice: Notice) -> tuple[Evidence, ...]:
    from icp_notify.rules import has_link

    link: bool | TimeoutError | None = None
    if rules._needs_link:
        try:
            link = has_link(notice, rules._link_timeout)
        except TimeoutError as exc:
            link = exc
    present = present_strings(lowered(notice.text), rules._gate_index)
    found = (rule._match(notice, present, link) for rule in rules.rules)
    return tuple(e for e in found if e is not None)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL, Channel.UNKNOWN])
def test_rule_bit_masks_match_like_the_general_path(channel: Channel) -> None:
    rules = default_rules()
    for text in _texts():
        notice = Notice(raw_text=text or "x", text=text, channel=channel)
        fast = rules.match(notice)
        slow = _general(rules, notice)
        assert fast == slow, text
        for a, b in zip(fast, slow, strict=True):
            assert a.model_fields_set == b.model_fields_set
            assert a.model_dump_json() == b.model_dump_json()


def test_ungated_patterns_and_sender_rules_are_always_visited() -> None:
    rules = RuleSet.from_dict(
        {
            "rule": [
                {
                    "id": "ungated",
                    "kind": "progress",
                    "situation": "other",
                    "patterns": [r"\p{Han}{2}审核"],
                    "weight": 0.6,
                    "examples": {"match": ["正在审核"]},
                },
                {
                    "id": "sender",
                    "kind": "marketing",
                    "situation": "other",
                    "patterns": ["特惠"],
                    "senders": [r"1069\d+"],
                    "weight": 0.6,
                    "examples": {"match": [{"text": "特惠", "sender": "10690"}]},
                },
            ]
        }
    )
    assert rules.check_examples() == []
    notice = Notice(raw_text="x", text="正在审核 特惠", sender="10690")
    assert [e.id for e in rules.match(notice)] == ["ungated", "sender"]
    assert rules.match(notice) == _general(rules, notice)


def test_a_search_timeout_is_reported_on_the_fast_path() -> None:
    rules = RuleSet.from_dict(
        {
            "timeout": 1e-9,
            "rule": [
                {
                    "id": "slow",
                    "kind": "progress",
                    "situation": "other",
                    "patterns": ["(?:a|aa)+审核"],
                    "weight": 0.6,
                    "examples": {"match": ["a审核"]},
                }
            ],
        }
    )
    (evidence,) = rules.match(Notice(raw_text="x", text="a" * 30 + "审核"))
    assert evidence.timed_out
    assert evidence.weight == 0.0


def _clean_reference(model_probs: Any) -> dict[Kind, float] | None:
    """``_clean_probs`` before the fast path."""
    if model_probs is None:
        return None
    kinds: dict[Kind, float] = {}
    for key, value in model_probs.items():
        try:
            kind = Kind(key)
        except ValueError:
            continue
        kinds[kind] = kinds.get(kind, 0.0) + max(float(value), 0.0)
    total = sum(kinds.values())
    if total <= 0:
        return None
    return {k: v / total for k, v in kinds.items()}


@pytest.mark.parametrize(
    "probs",
    [
        {Kind.PROGRESS: 0.7, Kind.UNRELATED: 0.3},
        {Kind.PROGRESS: -0.0, Kind.UNRELATED: 1.0},
        {Kind.PROGRESS: -0.5, Kind.UNRELATED: 0.25},
        {Kind.PROGRESS: math.nan, Kind.UNRELATED: 0.5},
        {Kind.PROGRESS: math.inf, Kind.UNRELATED: 0.5},
        {Kind.PROGRESS: 0.0, Kind.UNRELATED: 0.0},
        {Kind.PROGRESS: 1, Kind.UNRELATED: 3},
        {"progress": 0.5, Kind.PROGRESS: 0.25, "nonsense": 0.25},
        {},
    ],
)
def test_clean_probs_fast_path_is_exact(probs: dict[Any, Any]) -> None:
    got, want = _clean_probs(probs), _clean_reference(probs)
    assert repr(got) == repr(want)  # NaN and -0.0 included
    if got is not None:
        assert repr(clf._clean_again(got)) == repr(_clean_reference(got))


def test_classification_falls_back_to_validation() -> None:
    values: dict[str, Any] = {
        "situation": Situation.OTHER,
        "ambiguous": False,
        "candidates": (Situation.OTHER,),
        "confidence": math.nan,
        "probabilities": dict.fromkeys(Situation, 0.2),
        "kind": Kind.UNRELATED,
        "decided_by": (),
        "evidence": (),
        "model_version": None,
    }
    with pytest.raises(ValidationError):
        _classification(dict(values))
    single = {**values, "situation": None, "ambiguous": True, "confidence": 0.5}
    with pytest.raises(ValidationError):
        _classification(single)
    as_dicts = {**values, "confidence": 0.5, "evidence": (dict(EVIDENCE),)}
    assert _classification(as_dicts).evidence == (Evidence(**EVIDENCE),)


def test_signature_evidence_cache_is_exact_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clf, "_SIGNATURE_CACHE_SIZE", 3)
    cached = Classifier(model=None)
    for i in range(10):
        for signature in (f"公安{i}", "全国互联网安全管理服务平台", "国家反诈中心" * 20):
            notice = Notice(raw_text="x", text="x", signature=signature, channel=Channel.SMS)
            fresh = Classifier(model=None)._signature_evidence(notice)
            assert cached._signature_evidence(notice) == fresh
            assert cached._signature_evidence(notice) == fresh
    assert len(cached._signature_cache) == 3
    assert all(len(sig) <= clf._SIGNATURE_CACHE_LENGTH for sig, _ in cached._signature_cache)
