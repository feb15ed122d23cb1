"""The literal gates of the rules skip searches without changing any result."""

from __future__ import annotations

import pytest
import regex
from _helpers import corpus_texts

from icp_notify.gates import literal_gate, pattern_gates
from icp_notify.models import Notice
from icp_notify.rules import RuleSet, default_rules

FLAGS = regex.IGNORECASE | regex.VERSION0


def _ungated(rules: RuleSet) -> RuleSet:
    clone = RuleSet.load(rules.path)
    for rule in clone.rules:
        rule._gated = tuple((p, None) for p, _ in rule._gated)
        rule._gated_unless = tuple((p, None) for p, _ in rule._gated_unless)
    return clone


def test_gates_change_no_result_on_the_corpus() -> None:
    from icp_notify.parse import parse

    gated = default_rules()
    plain = _ungated(gated)
    texts = corpus_texts()
    assert len(texts) > 1000
    for text in texts:
        notice = parse(text)
        assert gated.match(notice) == plain.match(notice), text


def test_every_pattern_matches_its_own_text_through_the_gate() -> None:
    """A pattern's match always contains one of its gate strings (lower-cased)."""
    for rule in default_rules().rules:
        for pattern, gate in (*rule._gated, *rule._gated_unless):
            for example in (*rule.spec.examples.match, *rule.spec.examples.no_match):
                found = pattern.search(example.text)
                if found is not None:
                    low = example.text.lower()
                    for option in gate or ():
                        assert any(s in low for s in option), (rule.id, pattern.pattern)


@pytest.mark.parametrize(
    ("source", "gate"),
    [
        ("已(?:完成)?取消(?:您的)?(?:网站|域名)?接入", ("取消",)),
        ("(?:验证码|校验码)", ("校验码", "验证码")),
        (r"ICP\s*备", ("icp",)),
        ("备案(?:号)?", ("备案",)),
        ("[取曲]消", ("消",)),
        ("[取曲]", ("取", "曲")),
        ("(?=.*退回).*审核", ("退回",)),
    ],
)
def test_gate_of(source: str, gate: tuple[str, ...]) -> None:
    assert literal_gate(source) == gate


@pytest.mark.parametrize(
    "source",
    [
        r"\p{Han}备",  # regex-only syntax
        "(?:取消接入){e<=1}",  # fuzzy matching
        "(?:取消)?",  # optional
        "取消|",  # an empty alternative
        "(?!取消)接",  # only a negative lookahead and a one-character run
        r"[[:alpha:]]+",
    ],
)
def test_no_unsafe_gate(source: str) -> None:
    gate = literal_gate(source)
    if gate is not None:
        # whatever the gate is, every text the pattern matches must pass it
        for text in ("接", "取消", "取消接入", "取消接人", "abc", "备"):
            if regex.search(source, text, FLAGS):
                assert any(s in text.lower() for s in gate), (source, text)


def test_ignorecase_letters_outside_ascii_disable_the_gates() -> None:
    # U+0130 and U+017F match "i" and "s" under IGNORECASE but str.lower() keeps them apart
    rules = RuleSet.from_dict(
        {
            "rule": [
                {
                    "id": "t.icp",
                    "kind": "progress",
                    "situation": "other",
                    "patterns": ["icp审核中", "tes审核中"],
                    "weight": 0.95,
                    "examples": {"match": ["ICP审核中"]},
                }
            ]
        }
    )
    for text in ("\u0130CP审核中", "te\u017f审核中", "ICP审核中"):
        found = rules.match(Notice(raw_text=text, text=text))
        assert [e.id for e in found] == ["t.icp"], text


def test_all_gates_of_a_pattern() -> None:
    gates = pattern_gates("备案.{0,6}年审")
    assert set(gates) == {frozenset({"备案"}), frozenset({"年审"})}
    assert pattern_gates(r"\\p{Han}备") == ()


def test_every_pattern_but_short_ones_has_a_literal_gate() -> None:
    """A pattern without a literal gate is searched in every notice. Four long ungated patterns
    once took ``rules.match`` from 50 to 350 µs a message (docs/performance.md), so a long
    pattern must carry a literal any match needs (write one outside ``\\p{…}`` and look-behinds
    where :func:`icp_notify.rules.literal_gate` can read it)."""
    ungated = [
        (rule.spec.id, len(pattern.pattern))
        for rule in default_rules().rules
        for pattern, gate in (*rule._gated, *rule._gated_unless)
        if not gate and len(pattern.pattern) > 200
    ]
    assert ungated == []
