"""The decision policy (decide), the Classifier with a fake model, classify() and the CLI."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from icp_notify.classifier import (
    CAPPED_CONFIDENCE,
    CONTEXT_CONFIDENCE,
    Classifier,
    classify,
    decide,
    rank_probabilities,
)
from icp_notify.cli import main
from icp_notify.context import DEFAULT_ORDER, weigh
from icp_notify.errors import InputError
from icp_notify.models import (
    Classification,
    Context,
    Decider,
    Evidence,
    Kind,
    Notice,
    Situation,
)
from icp_notify.parse import parse
from icp_notify.rules import default_rules

S = Situation
GENERIC = "【工信部】尊敬的用户张**,您的备案信息已被变更,详情请咨询您的接入服务提供商。"
MODEL_DIR = Path(__file__).parents[1] / "icp_notify" / "data" / "model"


class FakeModel:
    """Stands in for the text model: fixed probabilities, or by keyword."""

    version = "fake-1"

    def __init__(
        self,
        probs: Mapping[str, float] | None = None,
        by_keyword: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.probs = dict(probs or {"unrelated": 1.0})
        self.by_keyword = dict(by_keyword or {})
        self.calls: list[list[str]] = []

    def predict_proba(self, tokens: Sequence[str]) -> dict[str, float]:
        self.calls.append(list(tokens))
        text = "".join(tokens)
        for word, probs in self.by_keyword.items():
            if word in text:
                return dict(probs)
        return dict(self.probs)

    def top_features(
        self, tokens: Sequence[str], kind: Kind, n: int = 5
    ) -> list[tuple[str, float]]:
        return [(f"w:{t}", 0.1) for t in list(tokens)[:n]]


def _chars(text: str) -> list[str]:
    return list(text)


def _classifier(model: FakeModel | None = None) -> Classifier:
    return Classifier(default_rules(), model or FakeModel(), tokenizer=_chars)


def _check_invariants(c: Classification) -> None:
    assert set(c.probabilities) == set(Situation)
    assert math.isclose(sum(c.probabilities.values()), 1.0, abs_tol=1e-9)
    assert all(0.0 <= p <= 1.0 for p in c.probabilities.values())
    assert (c.situation is None) == c.ambiguous
    if c.ambiguous:
        assert len(c.candidates) >= 2
    else:
        assert c.candidates == (c.situation,)


def _notice(text: str = "x") -> Notice:
    return Notice(raw_text=text, text=text)


def _rule(kind: Kind, situation: Situation | None, weight: float = 0.96) -> Evidence:
    return Evidence(
        source="rule", id=f"t.{kind.value}", kind=kind, situation=situation, weight=weight
    )


# ----------------------------------------------------------------- decide(): the policy rows


def test_row1_a_sure_explicit_rule_decides() -> None:
    c = decide(
        _notice(),
        [_rule(Kind.PROVIDER_ACCESS_CANCELLED, S.ACCESS_CANCELLED)],
        {"provider_access_cancelled": 0.7, "check_request": 0.3},
        None,
    )
    _check_invariants(c)
    assert c.situation is S.ACCESS_CANCELLED
    assert c.kind is Kind.PROVIDER_ACCESS_CANCELLED
    assert c.confidence == pytest.approx(0.96)
    assert c.decided_by == (Decider.RULES, Decider.MODEL)


def test_row1_the_model_is_not_credited_when_it_disagrees() -> None:
    c = decide(_notice(), [_rule(Kind.PROGRESS, S.OTHER)], {"provider_new_domain": 1.0}, None)
    assert c.situation is S.OTHER
    assert c.decided_by == (Decider.RULES,)


def test_row1_highest_weight_wins_and_weak_rules_do_not_decide() -> None:
    evidence = [
        _rule(Kind.CHANGE_NOTICE_GENERIC, None, 0.95),
        _rule(Kind.PHISHING, S.OTHER, 0.98),
        _rule(Kind.PROVIDER_NEW_DOMAIN, S.NEW_DOMAIN, 0.5),
    ]
    c = decide(_notice(), evidence, None, None)
    assert c.kind is Kind.PHISHING
    assert c.situation is S.OTHER


def test_row1_timed_out_rules_are_ignored_but_kept_as_evidence() -> None:
    timed_out = Evidence(
        source="rule", id="t.slow", kind=Kind.PROVIDER_NEW_DOMAIN, weight=0.0, timed_out=True
    )
    c = decide(_notice(), [timed_out], {"progress": 0.9, "unrelated": 0.1}, None)
    assert c.kind is Kind.PROGRESS
    assert timed_out in c.evidence


def test_row2_context_settles_the_generic_notice() -> None:
    notice = parse(GENERIC, received_at="2025-03-20T09:00:00")
    ctx = Context.model_validate(
        {"operations": [{"kind": "new_domain", "submitted_at": "2025-03-12T10:00:00"}]}
    )
    verdict = weigh(notice, ctx, generic=True)
    c = decide(notice, default_rules().match(notice), {"change_notice_generic": 1.0}, verdict)
    _check_invariants(c)
    assert c.situation is S.NEW_DOMAIN
    assert c.kind is Kind.CHANGE_NOTICE_GENERIC
    assert c.confidence == CONTEXT_CONFIDENCE
    assert c.decided_by == (Decider.RULES, Decider.CONTEXT)
    assert any(e.source == "context" and e.id == "operations[0]" for e in c.evidence)


def test_row3_generic_without_context_is_ambiguous_over_all_four() -> None:
    notice = parse(GENERIC)
    # even a model that is sure of one situation does not make it a confident guess
    c = decide(notice, default_rules().match(notice), {"provider_new_domain": 0.99}, None)
    _check_invariants(c)
    assert c.ambiguous
    assert c.situation is None
    assert c.candidates == DEFAULT_ORDER
    assert c.kind is Kind.CHANGE_NOTICE_GENERIC
    assert c.probabilities[S.OTHER] == 0.0
    assert c.confidence == pytest.approx(max(c.probabilities.values()))
    # candidates are ordered by their probability
    probs = [c.probabilities[s] for s in c.candidates]
    assert probs == sorted(probs, reverse=True)


def test_row3_generic_by_the_model_when_no_rule_is_sure() -> None:
    c = decide(_notice(), [], {"change_notice_generic": 0.8, "unrelated": 0.2}, None)
    assert c.ambiguous
    assert c.decided_by == (Decider.MODEL,)
    assert c.candidates == DEFAULT_ORDER


def test_row3_narrowed_candidates_from_context() -> None:
    notice = parse(GENERIC, received_at="2025-03-20T09:00:00")
    ctx = Context.model_validate(
        {
            "operations": [
                {"kind": "new_domain", "submitted_at": "2025-03-08T10:00:00"},
                {"kind": "modify_domain", "submitted_at": "2025-03-12T10:00:00"},
            ]
        }
    )
    c = decide(notice, default_rules().match(notice), None, weigh(notice, ctx, generic=True))
    _check_invariants(c)
    assert c.candidates == (S.NEW_DOMAIN, S.MODIFY_DOMAIN)
    assert c.decided_by == (Decider.RULES, Decider.CONTEXT)
    assert c.probabilities[S.ACCESS_CANCELLED] == 0.0


def test_row4_an_other_looking_text_is_never_a_confident_cancellation() -> None:
    c = decide(_notice(), [], {"provider_access_cancelled": 0.7, "check_request": 0.3}, None)
    _check_invariants(c)
    assert c.ambiguous
    assert c.candidates == (S.ACCESS_CANCELLED, S.OTHER)


def test_row5_unsupported_cancellation_is_capped_below_confident() -> None:
    c = decide(_notice(), [], {"provider_access_cancelled": 0.99, "unrelated": 0.01}, None)
    assert c.situation is S.ACCESS_CANCELLED
    assert c.confidence == CAPPED_CONFIDENCE
    assert c.confidence < 0.9
    _check_invariants(c)


def test_row5_the_model_decides_above_the_threshold() -> None:
    c = decide(
        _notice(),
        [],
        {"provider_modify_domain": 0.7, "progress": 0.2, "unrelated": 0.1},
        None,
        model_version="m1",
    )
    _check_invariants(c)
    assert c.situation is S.MODIFY_DOMAIN
    assert c.kind is Kind.PROVIDER_MODIFY_DOMAIN
    assert c.confidence == pytest.approx(0.7)
    assert c.decided_by == (Decider.MODEL,)
    assert c.model_version == "m1"


def test_row6_low_confidence_other_is_other() -> None:
    c = decide(
        _notice(),
        [],
        {"marketing": 0.3, "unrelated": 0.2, "provider_new_domain": 0.25, "progress": 0.25},
        None,
    )
    assert c.situation is S.OTHER
    assert c.kind is Kind.MARKETING


def test_row7_low_confidence_change_is_ambiguous_among_top_candidates() -> None:
    c = decide(
        _notice(),
        [],
        {"provider_new_domain": 0.4, "provider_modify_domain": 0.35, "unrelated": 0.25},
        None,
    )
    _check_invariants(c)
    assert c.ambiguous
    assert c.candidates == (S.NEW_DOMAIN, S.MODIFY_DOMAIN, S.OTHER)


def test_row8_no_rule_no_model() -> None:
    c = decide(_notice(), [], None, None)
    _check_invariants(c)
    assert c.situation is S.OTHER
    assert c.kind is Kind.UNRELATED
    assert c.confidence == 0.5


def test_generic_model_mass_is_spread_over_the_four() -> None:
    c = decide(_notice(), [], {"change_notice_generic": 0.3, "provider_new_domain": 0.7}, None)
    _check_invariants(c)
    assert c.situation is S.NEW_DOMAIN
    for s in (S.MODIFY_DOMAIN, S.ACCESS_DOMAIN, S.ACCESS_CANCELLED):
        assert c.probabilities[s] > 0


def test_rank_probabilities_decrease_and_sum_to_one() -> None:
    probs = rank_probabilities(DEFAULT_ORDER)
    values = [probs[s] for s in DEFAULT_ORDER]
    assert values == sorted(values, reverse=True)
    assert sum(probs.values()) == pytest.approx(1.0)
    assert probs[S.OTHER] == 0.0


# ----------------------------------------------------------------- Classifier end to end

REAL_LOOKING = [
    (GENERIC, "12381", None, Kind.CHANGE_NOTICE_GENERIC),
    (
        "【阿云】尊敬的用户,您的新增网站备案(青禾茶园 qinghe-tea.cn)已审核通过,网站备案号:浙ICP备2023011111号-2。",
        "106900001111",
        S.NEW_DOMAIN,
        Kind.PROVIDER_NEW_DOMAIN,
    ),
    (
        "【某讯云】您好,您的变更备案(修改网站负责人)已通过管局审核,备案号京ICP备2021000002号不变。",
        "106900002222",
        S.MODIFY_DOMAIN,
        Kind.PROVIDER_MODIFY_DOMAIN,
    ),
    (
        "【华某云】您的接入备案已审核通过,网站pine-dev.cn已成功接入,原备案号沪ICP备2019000004号-1保持不变。",
        "106900003333",
        S.ACCESS_DOMAIN,
        Kind.PROVIDER_ACCESS_DOMAIN,
    ),
    (
        "【景某】尊敬的用户,您的网站old-yoga.cn已完成取消接入,如需继续访问请尽快在新服务商处办理接入。",
        "106900004444",
        S.ACCESS_CANCELLED,
        Kind.PROVIDER_ACCESS_CANCELLED,
    ),
    (
        "【某云】经核查,您的网站demo-shop.cn首页未悬挂备案号且负责人电话无法接通,请于7日内完成整改,逾期将取消接入。",
        "106900005555",
        S.OTHER,
        Kind.CHECK_REQUEST,
    ),
    (
        "【工信部】验证码:A3K9Q2,由某某云发起的王**的接入备案已提交,请于24小时内登录 https://beian.miit.gov.cn 完成短信核验。",
        "12381",
        S.OTHER,
        Kind.VERIFICATION_CODE,
    ),
    (
        "【某云】您的新增网站备案已通过初审,已提交管局审核,预计1-20个工作日完成,请留意工信部短信。",
        "106900006666",
        S.OTHER,
        Kind.PROGRESS,
    ),
    (
        "【某云】您的域名demo.cn已成功接入CDN加速服务,CNAME记录已生效。",
        "106900007777",
        S.OTHER,
        Kind.UNRELATED_ACCESS,
    ),
    (
        "【12381】尊敬的用户,您的备案信息已被变更,详情请查看 t.cn/A6xYzZ9 核实。",
        "106911112222",
        S.OTHER,
        Kind.PHISHING,
    ),
    (
        "【某云】恭喜,您的首次备案已审核通过,主体备案号为粤ICP备2025000006号,请在网站底部悬挂备案号。",
        "106900008888",
        S.OTHER,
        Kind.FIRST_FILING_APPROVED,
    ),
    (
        "【某云】备案专享云服务器低至99元/年,限时抢购!",
        "106900009999",
        S.OTHER,
        Kind.MARKETING,
    ),
    (
        "您的网站备案已注销,备案号京ICP备2017000008号-2不再有效。",
        None,
        S.OTHER,
        Kind.FILING_CANCELLED,
    ),
]


@pytest.mark.parametrize(("text", "sender", "situation", "kind"), REAL_LOOKING)
def test_classify_notice_end_to_end_with_a_fake_model(
    text: str, sender: str | None, situation: Situation | None, kind: Kind
) -> None:
    model = FakeModel({"unrelated": 1.0})
    c = _classifier(model).classify_notice(parse(text, sender=sender))
    _check_invariants(c)
    assert c.situation is situation
    assert c.kind is kind
    assert model.calls  # the model was asked
    rule_ev = [e for e in c.evidence if e.source == "rule"]
    assert rule_ev
    assert all(e.span is not None for e in rule_ev if not e.timed_out)
    assert any(e.source == "model" for e in c.evidence)  # top features passed through
    assert c.model_version == "fake-1"
    if situation is None:
        assert c.candidates == DEFAULT_ORDER


def test_classify_notice_with_context_dict_and_model_only_text() -> None:
    clf = _classifier(FakeModel(by_keyword={"信息改好了": {"provider_modify_domain": 0.9}}))
    c = clf.classify_notice(parse("您好,网站信息改好了,备案号不变。"))
    assert c.situation is S.MODIFY_DOMAIN
    assert c.decided_by == (Decider.MODEL,)
    notice = parse(GENERIC, received_at="2025-02-27T08:31:00")
    ctx = {
        "operations": [
            {
                "kind": "access_domain",
                "submitted_at": "2025-02-13T11:00:00",
                "domain": "xinghe-blog.cn",
                "provider": "某讯云",
                "from_provider": "阿云",
            }
        ],
        "previous_notices": [
            {
                "text": "【某讯云】您的备案订单(xinghe-blog.cn)接入备案已通过管局审核,备案号保持不变。",
                "received_at": "2025-02-25T17:20:00",
                "sender": "106900001234",
            }
        ],
    }
    c = clf.classify_notice(notice, ctx)
    _check_invariants(c)
    assert c.situation is S.ACCESS_CANCELLED
    assert c.decided_by == (Decider.RULES, Decider.CONTEXT)
    assert {e.id for e in c.evidence if e.source == "context"} == {
        "chain",
        "operations[0]",
        "previous_notices[0]",
    }


def test_the_generic_notice_without_context_never_gets_a_confident_guess() -> None:
    for probs in ({"provider_access_cancelled": 1.0}, {"change_notice_generic": 1.0}, None):
        model = FakeModel(probs) if probs else None
        clf = Classifier(default_rules(), model, tokenizer=_chars)
        c = clf.classify_notice(parse(GENERIC))
        assert c.ambiguous
        assert c.candidates == DEFAULT_ORDER
        assert c.decided_by[0] is Decider.RULES


def test_a_bad_context_dict_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        _classifier().classify_notice(
            parse(GENERIC), {"operations": [{"kind": "cancel", "submitted_at": "x"}]}
        )
    assert info.value.code == "invalid_field"
    assert info.value.where is not None
    assert info.value.where.startswith("context.operations.0")


def test_results_do_not_depend_on_earlier_calls() -> None:
    clf = _classifier()
    first = clf.classify_notice(parse(GENERIC))
    clf.classify_notice(parse(REAL_LOOKING[4][0]))
    assert clf.classify_notice(parse(GENERIC)) == first


# ----------------------------------------------------------------- classify() and the real model

needs_model = pytest.mark.skipif(
    not (MODEL_DIR / "model.json").exists(), reason="the text model is not shipped yet"
)


@needs_model
def test_classify_with_the_shipped_model() -> None:
    assert Classifier.default() is Classifier.default()
    c = classify(GENERIC, sender="12381", received_at="2025-03-20T09:00:00")
    assert c.ambiguous
    assert c.candidates == DEFAULT_ORDER
    assert c.model_version
    c = classify(
        GENERIC,
        received_at="2025-03-20T09:00:00",
        context=Context.model_validate(
            {"operations": [{"kind": "modify_domain", "submitted_at": "2025-03-14T10:00:00"}]}
        ),
    )
    assert c.situation is S.MODIFY_DOMAIN
    for text, sender, situation, kind in REAL_LOOKING[1:]:
        c = classify(text, sender=sender)
        assert (c.situation, c.kind) == (situation, kind), text
        _check_invariants(c)
    with pytest.raises(InputError):
        classify(GENERIC, context={"operations": "not a list"})


@needs_model
def test_cli_classify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = tmp_path / "ctx.json"
    ctx.write_text(
        json.dumps({"operations": [{"kind": "new_domain", "submitted_at": "2025-03-12T10:00:00"}]}),
        encoding="utf-8",
    )
    assert (
        main(
            [
                "classify",
                GENERIC,
                "--received-at",
                "2025-03-20T09:00",
                "--context",
                str(ctx),
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["situation"] == "new_domain"
    assert out["decided_by"] == ["rules", "context"]
    assert main(["classify", GENERIC]) == 0
    text = capsys.readouterr().out
    assert "ambiguous" in text
    assert "miit.generic_change" in text
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["classify", GENERIC, "--context", str(bad)]) == 1
    assert "not JSON" in capsys.readouterr().err


# ----------------------------------------------------------------- cautions and hints (H7)


def test_a_phishing_hint_caps_a_sure_cancellation_below_confident() -> None:
    evidence = [
        _rule(Kind.PROVIDER_ACCESS_CANCELLED, S.ACCESS_CANCELLED, 0.96),
        _rule(Kind.PHISHING, S.OTHER, 0.6),
    ]
    c = decide(_notice(), evidence, {"provider_access_cancelled": 0.9, "phishing": 0.1}, None)
    _check_invariants(c)
    assert c.situation is S.ACCESS_CANCELLED
    assert c.confidence <= CAPPED_CONFIDENCE < 0.9


def test_a_caution_makes_a_model_cancellation_ambiguous_with_other() -> None:
    c = decide(
        _notice(),
        [_rule(Kind.PHISHING, S.OTHER, 0.6)],
        {"provider_access_cancelled": 0.8, "phishing": 0.2},
        None,
    )
    _check_invariants(c)
    assert c.ambiguous
    assert set(c.candidates) == {S.ACCESS_CANCELLED, S.OTHER}


def test_hints_add_weight_to_their_situation() -> None:
    probs = {"provider_new_domain": 0.5, "progress": 0.5}
    without = decide(_notice(), [], probs, None)
    hint = _rule(Kind.PROGRESS, S.OTHER, 0.6)
    with_hint = decide(_notice(), [hint], probs, None)
    assert with_hint.probabilities[S.OTHER] > without.probabilities[S.OTHER]
    assert with_hint.situation is S.OTHER


def test_the_signature_alone_can_name_the_public_security_platform() -> None:
    text = "【全国互联网安全管理服务平台】尊敬的用户，您的备案信息已变更，详情请登录平台查看。"
    c = _classifier(FakeModel({"change_notice_generic": 1.0})).classify_notice(parse(text))
    assert c.situation is S.OTHER
    assert c.kind is Kind.PUBLIC_SECURITY
    assert any("signature" in (e.detail or "") for e in c.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "【备案中心】您的网站已被取消接入，请访问 http://t.cn/A6demo 重新认证。",
        "您的网站因长期无接入已被注销，备案号作废。",
        "老服务商过几天会取消接入。",
        "如需取消接入请在控制台提交工单。",
        "尊敬的用户，您的备案信息已被变更，详情请咨询 021-55668899。",
    ],
)
def test_no_confident_cancellation_for_other_texts_with_the_shipped_model(text: str) -> None:
    c = classify(text)
    _check_invariants(c)
    assert not (c.situation is S.ACCESS_CANCELLED and c.confidence >= 0.9), c


# --------------------------------------------------------------------------- model evidence


def _model_evidence(c: Classification) -> list[Evidence]:
    return [e for e in c.evidence if e.source == "model"]


def test_model_evidence_explains_the_decided_kind_not_the_models_first_choice() -> None:
    # the model's single most likely kind is a cancellation, but 'other' wins over the kinds
    fake = FakeModel({"provider_access_cancelled": 0.36, "marketing": 0.33, "unrelated": 0.31})
    c = _classifier(fake).classify_notice(parse("春季促销，云服务器低至五折。"))
    assert c.situation is S.OTHER
    assert c.kind is Kind.MARKETING
    model_ev = _model_evidence(c)
    assert model_ev
    assert {e.kind for e in model_ev} == {Kind.MARKETING}
    assert all(e.detail == "feature pointing to marketing" for e in model_ev)


def test_model_evidence_for_an_ambiguous_result_covers_the_top_candidates() -> None:
    fake = FakeModel(
        {"provider_new_domain": 0.4, "provider_modify_domain": 0.35, "unrelated": 0.25}
    )
    c = _classifier(fake).classify_notice(parse("您好，关于网站的事项请留意。"))
    assert c.ambiguous
    assert c.candidates == (S.NEW_DOMAIN, S.MODIFY_DOMAIN, S.OTHER)
    model_ev = _model_evidence(c)
    assert model_ev[0].kind is c.kind is Kind.PROVIDER_NEW_DOMAIN
    assert {e.kind for e in model_ev} == {
        Kind.PROVIDER_NEW_DOMAIN,
        Kind.PROVIDER_MODIFY_DOMAIN,
        Kind.UNRELATED,
    }
    # rules first, then the model's features, then (none here) context
    sources = [e.source for e in c.evidence]
    assert sources == sorted(sources, key=["rule", "model", "context"].index)


def test_model_evidence_with_the_shipped_model_points_to_the_decided_kind() -> None:
    from icp_notify.textmodel import default_model
    from icp_notify.tokenize import tokenize

    text = "请问取消接入以后备案号还保留吗？领导让我问一下。"
    probs = default_model().predict_proba(tokenize(text))
    assert max(probs, key=probs.__getitem__) is Kind.PROVIDER_ACCESS_CANCELLED  # the trap
    c = classify(text)
    assert c.situation is S.OTHER
    assert c.kind is not Kind.PROVIDER_ACCESS_CANCELLED
    model_ev = _model_evidence(c)
    assert model_ev
    assert {e.kind for e in model_ev} == {c.kind}
    assert all(e.weight is not None and e.weight > 0 for e in model_ev)


def test_rule_decided_result_explains_the_rules_kind() -> None:
    fake = FakeModel({"phishing": 0.9, "unrelated": 0.1})
    text = "【栖云数据】您好，网站 mulan-demo.cn 在我司的接入已取消，备案号仍有效。"
    c = _classifier(fake).classify_notice(parse(text))
    assert c.kind is Kind.PROVIDER_ACCESS_CANCELLED
    assert {e.kind for e in _model_evidence(c)} == {Kind.PROVIDER_ACCESS_CANCELLED}
