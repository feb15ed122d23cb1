"""Pathological inputs: every pattern on untrusted text finishes (no catastrophic backtracking).

Each case has a generous per-test budget (pytest-timeout), not a timing assertion: before the
fix, the rules' link check (``_URL``, no timeout, nested quantifiers) took over 30 s on
``"a." * 30000`` and ``"1-" * 30000`` and ~67 s on the generic notice followed by ``"a." * 8000``.
"""

from __future__ import annotations

import pytest

from icp_notify.bounded import PROVEN_CHARS
from icp_notify.models import Notice, Report, Situation
from icp_notify.rules import RuleSet, default_rules, has_link

GENERIC = "尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
N = 30000  # 60 KB of two-character units, under parse.MAX_TEXT_CHARS

PATHOLOGICAL = {
    "a.": "a." * N,
    "generic+a.": GENERIC + "a." * 8000,
    "1-": "1-" * N,
    "a-": "a-" * N,
    "a.-": "a.-" * 20000,
    "a1.": "a1." * 20000,
    "1.": "1." * N,
    "a:": "a:" * N,
    "brackets": "【" * (2 * N),
    "signatures": "【a】" * 20000,
    "http+a.": "http://" + "a." * N,
    "www+a.": "www." + "a." * N,
    "host/path": "a.cn/" + "a/" * N,
    "digits": "1" * (2 * N),
    "dear": "尊敬的用户" * 12000,
    "dear+a": "尊敬的" + "a" * 60000,
    "lt": "<a" * N,
    "at": "@a." * 20000,
    "comma-a.": "，a." * 20000,
    "spaces": GENERIC + " " * 60000 + "x",
    "newlines": GENERIC + "\n" * 60000 + "x",
    "icp": "京ICP备" * 12000,
    "dates": "2024年1月" * 8000,
    "codes": "验证码 " * 15000,
    "cancel": "取消接入" * 15000,
    "cancel-sentences": "您的网站已取消接入，" * 6000,
    "login-beian+a.": "请登录 beian" + "a." * N,
    "beian.": "beian." * 10000,
    "visit-miit": "请访问 " + "miit.a-" * 8000,
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_rules_finish_on_pathological_text(name: str) -> None:
    # a Notice built directly has no URL entities: the rules' own link check runs on the text
    text = PATHOLOGICAL[name]
    evidence = default_rules().match(Notice(raw_text=text, text=text))
    assert all(e.source == "rule" for e in evidence)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_analyze_finishes_on_pathological_text(name: str) -> None:
    import icp_notify

    result = icp_notify.analyze(PATHOLOGICAL[name])
    probabilities = result.classification.probabilities
    assert set(probabilities) == set(Situation)
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert Report.model_validate_json(result.model_dump_json()) == result


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", ["a.", "generic+a.", "1-", "http+a.", "host/path"])
def test_classify_and_parse_finish_on_pathological_text(name: str) -> None:
    import icp_notify

    notice = icp_notify.parse(PATHOLOGICAL[name])
    classification = icp_notify.classify(notice)
    assert classification == icp_notify.classify(PATHOLOGICAL[name])
    assert sum(classification.probabilities.values()) == pytest.approx(1.0)


@pytest.mark.timeout(20)
def test_has_link_is_linear() -> None:
    for text in ("a." * N, "1-" * N, "a-" * N, "a1." * 20000):
        assert not has_link(Notice(raw_text=text, text=text))
    for text in ("a." * N + " t.cn/Ab12", "1-" * N + " http://x.example"):
        assert has_link(Notice(raw_text=text, text=text))


def test_link_condition_timeout_is_evidence_not_an_exception() -> None:
    # The link pattern is ours and proven bounded (tests/test_bounded.py): it runs with
    # the timeout only on a text longer than the proof's length, as this one is.
    rules = RuleSet.from_dict(
        {
            "timeout": 1e-6,
            "rule": [
                {
                    "id": "x.link",
                    "kind": "phishing",
                    "situation": "other",
                    "patterns": ["备案"],
                    "url": "any",
                    "weight": 0.6,
                    "examples": {"match": ["备案 http://x.example"]},
                }
            ],
        }
    )
    text = "备案" + "a." * (PROVEN_CHARS // 2 + 1)
    (evidence,) = rules.match(Notice(raw_text=text, text=text))
    assert evidence.timed_out
    assert evidence.weight == 0.0
    single = rules["x.link"].match(Notice(raw_text=text, text=text))
    assert single is not None
    assert single.timed_out
