"""Who searches with a timeout (icp_notify.bounded): a user's rules file always does; our own proven
patterns do only on texts longer than ``PROVEN_CHARS``; neither can be switched by a rules file.

The proof itself is ``tests/test_bounded.py``. Here: the switch. A timeout of 1e-9 s
makes every timed search fail at once, so whether a call ran with a timeout shows in its result.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from _helpers import corpus_texts

import icp_notify.normalize as normalize_module
import icp_notify.tokenize as tk
from icp_notify import entities
from icp_notify.bounded import PROVEN_CHARS
from icp_notify.classifier import Classifier
from icp_notify.errors import RuleFileError
from icp_notify.models import Notice
from icp_notify.rules import CompiledRule, RuleSet, default_rules

GENERIC = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"

USER_RULES = """\
version = 1
timeout = 0.05

[[rule]]
id = "user.slow"
kind = "progress"
situation = "other"
patterns = ['(?:a|aa)+审核']
weight = 0.6
examples.match = ["a审核"]
"""
"""A user's rules file with a catastrophic pattern: ``(?:a|aa)+`` splits a run of n ``a`` in
Fibonacci(n) ways before it gives up."""


def _notice(text: str) -> Notice:
    return Notice(raw_text=text, text=text)


def _tiny(rules: RuleSet, *, bounded: bool) -> RuleSet:
    """The same rules with a timeout no search can meet."""
    return RuleSet(
        [
            CompiledRule(r.spec, r.patterns, r.unless, r.senders, 1e-9, bounded=bounded)
            for r in rules.rules
        ]
    )


@pytest.mark.timeout(60)
def test_a_user_rules_file_keeps_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "my-rules.toml"
    path.write_text(USER_RULES, encoding="utf-8")
    rules = RuleSet.load(path)
    assert [r.bounded for r in rules.rules] == [False]
    text = "a" * 60 + "!审核"  # 60 a's: ~1.5e12 splits without the timeout
    (evidence,) = rules.match(_notice(text))
    assert (evidence.id, evidence.timed_out, evidence.weight) == ("user.slow", True, 0.0)
    # through the classifier: the documented defect (evidence timed_out, ignored), not a hang
    classification = Classifier(rules).classify_notice(_notice(text))
    assert any(e.id == "user.slow" and e.timed_out for e in classification.evidence)


def test_a_rules_file_cannot_switch_its_timeout_off(tmp_path: Path) -> None:
    path = tmp_path / "sneaky.toml"
    path.write_text("bounded = true\n" + USER_RULES, encoding="utf-8")
    with pytest.raises(RuleFileError, match="unknown top-level key"):
        RuleSet.load(path)
    path.write_text(USER_RULES + "bounded = true\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match="bounded"):
        RuleSet.load(path)


def test_even_the_shipped_file_loaded_by_path_keeps_the_timeout() -> None:
    shipped = default_rules()
    assert all(r.bounded for r in shipped.rules)
    data = tomllib.loads(Path(shipped.path).read_text(encoding="utf-8"))
    loaded = RuleSet.from_dict({**data, "timeout": 1e-9}, path=shipped.path)
    assert not any(r.bounded for r in loaded.rules)
    evidence = loaded.match(_notice(GENERIC))
    assert evidence
    assert all(e.timed_out for e in evidence)


def test_the_shipped_rules_search_short_texts_without_a_timeout() -> None:
    shipped = default_rules()
    untimed = _tiny(shipped, bounded=True)
    for text in (GENERIC, *corpus_texts()[::25]):
        assert untimed.match(_notice(text)) == shipped.match(_notice(text))
    assert any(not e.timed_out for e in untimed.match(_notice(GENERIC)))
    # the same rules unproven: every search that runs times out
    assert all(e.timed_out for e in _tiny(shipped, bounded=False).match(_notice(GENERIC)))


def test_the_shipped_rules_keep_the_timeout_beyond_the_proof() -> None:
    long = GENERIC + "。" * (PROVEN_CHARS - len(GENERIC) + 1)
    assert len(long) > PROVEN_CHARS
    evidence = _tiny(default_rules(), bounded=True).match(_notice(long))
    assert evidence
    assert all(e.timed_out for e in evidence)
    short = long[:PROVEN_CHARS]
    assert not any(e.timed_out for e in _tiny(default_rules(), bounded=True).match(_notice(short)))


def test_entities_and_normalisation_skip_the_timeout_within_the_proof(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "【阿里云】您的网站example.cn已接入,备案号京ICP备12345678号-1,2025年3月1日。回T退订"
    expected = icp_notify_parse(text)
    monkeypatch.setattr(entities, "REGEX_TIMEOUT", 1e-9)
    monkeypatch.setattr(normalize_module, "REGEX_TIMEOUT", 1e-9)
    assert icp_notify_parse(text) == expected
    assert not any(d.code == "regex_timeout" for d in expected.defects)
    # beyond the proof the timeout is back: a long body times out at once
    long = "【阿里云】" + "京ICP备12345678号 " * (PROVEN_CHARS // 10)
    notice = icp_notify_parse(long, max_chars=len(long))
    assert any(d.code == "regex_timeout" for d in notice.defects)


def icp_notify_parse(text: str, max_chars: int | None = None) -> Notice:
    from icp_notify.parse import parse

    return parse(text, max_chars=max_chars)


def test_the_tokenizer_scan_without_a_timeout_finds_the_same_entities() -> None:
    import unicodedata

    for text in corpus_texts():
        folded = unicodedata.normalize("NFKC", text[: tk.MAX_CHARS]).casefold()
        untimed = [(m.span(), m.lastgroup) for m in tk._ENTITY_RE.finditer(folded, timeout=None)]
        timed = [(m.span(), m.lastgroup) for m in tk._ENTITY_RE.finditer(folded, timeout=5.0)]
        assert untimed == timed


def test_the_tokenizer_skips_the_timeout_within_the_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "您的网站 shop.example.cn 已取消接入,京ICP备12345678号"
    expected = tk.tokenize(text)
    assert "⟨DOMAIN⟩" in expected
    assert "⟨ICP⟩" in expected
    monkeypatch.setattr(tk, "_REGEX_TIMEOUT", 1e-9)
    assert tk.tokenize(text) == expected
