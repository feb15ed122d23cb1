"""A provider's two short codes share one classification when no rule reads the sender itself
(the shipped rules have no sender patterns: only the sender's type counts); with a rule that
has sender patterns, each sender is classified on its own. Rows equal rows from scratch."""

from __future__ import annotations

import tomllib
from pathlib import Path

from icp_notify.batch import Labeller
from icp_notify.classifier import Classifier
from icp_notify.models import RawMessage
from icp_notify.pipeline import Pipeline
from icp_notify.rules import RuleSet

NOW = "2025-03-06T12:00:00+08:00"
TEXT = "【示例云】您提交的变更备案（site5-example.cn）已通过管局审核，请核对备案信息。"
RULES = Path(__file__).resolve().parents[2] / "icp_notify" / "data" / "rules.toml"
SENDERS = ["10690000123", "10690000456", "10690000123", "12381"]


def _rows(pipeline: Pipeline, *, cache: bool) -> tuple[list[str], int]:
    labeller = Labeller(pipeline, now=NOW, cache=cache)
    lines = []
    for seq, sender in enumerate(SENDERS):
        line = labeller.label_line(seq, RawMessage(text=TEXT, sender=sender))
        lines.append(line.json)  # type: ignore[union-attr]
    return lines, labeller.cache_hits


def test_two_short_codes_share_a_classification() -> None:
    pipeline = Pipeline.default()
    assert not any(rule.senders for rule in pipeline.classifier.rules.rules)  # type: ignore[attr-defined]
    fast, hits = _rows(pipeline, cache=True)
    assert fast == _rows(pipeline, cache=False)[0]
    # parsed three times (three senders); classified twice: 12381 is MIIT's, another type
    assert hits == 1 + 1  # the repeated sender's parse, the second short code's classification


def test_a_rule_with_sender_patterns_keeps_the_sender_in_the_key() -> None:
    data = tomllib.loads(RULES.read_text(encoding="utf-8"))
    data["rule"].insert(
        0,
        {
            "id": "test.one_short_code",
            "kind": "marketing",
            "situation": "other",
            "patterns": ["变更备案"],
            "senders": ["10690000456"],
            "weight": 0.99,
            "examples": {"match": [{"text": "变更备案", "sender": "10690000456"}]},
        },
    )
    shipped = Classifier.default()
    classifier = Classifier(RuleSet.from_dict(data), shipped.model, calibration=shipped.calibration)
    pipeline = Pipeline(classifier)
    fast, hits = _rows(pipeline, cache=True)
    assert fast == _rows(pipeline, cache=False)[0]
    assert hits == 1  # the repeated sender only
    assert '"kind": "marketing"' in fast[1]
    assert '"kind": "marketing"' not in fast[0]
