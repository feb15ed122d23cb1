"""The decision policy (decide), the Classifier with a fake model, classify() and the CLI, the
failure types found by blind writers (end to end), and the fast paths of building a result."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from _helpers import Case, check_classified
from pydantic import ValidationError

import icp_notify
from icp_notify import classifier as clf
from icp_notify.classifier import (
    CAPPED_CONFIDENCE,
    CONTEXT_CONFIDENCE,
    Classifier,
    _classification,
    _clean_probs,
    classify,
    decide,
    rank_probabilities,
)
from icp_notify.cli import main
from icp_notify.context import DEFAULT_ORDER, weigh
from icp_notify.errors import InputError
from icp_notify.models import (
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
from icp_notify.parse import parse
from icp_notify.rules import default_rules
from icp_notify.tokenize import tokenize

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


# ----------------------------------------------------------------- cautions and hints


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

    text = "请问取消接入以后备案号还保留吗？领导让我问一下。"
    probs = default_model().predict_proba(tokenize(text))
    assert max(probs, key=probs.__getitem__) is Kind.PROVIDER_ACCESS_CANCELLED  # the trap
    c = classify(text)
    # never a decided cancellation: `other`, or (the combiner weighing the question rule against
    # the model) ambiguous between the two
    assert c.situation is S.OTHER or (
        c.ambiguous and set(c.candidates) == {S.ACCESS_CANCELLED, S.OTHER}
    )
    model_ev = _model_evidence(c)
    assert model_ev
    assert all(e.weight is not None and e.weight > 0 for e in model_ev)
    if c.ambiguous:  # the evidence explains one of the candidates
        assert {KIND_SITUATION[e.kind] for e in model_ev if e.kind} <= set(c.candidates)
    else:  # decided: it explains the decided kind, not the model's first choice
        assert c.kind is not Kind.PROVIDER_ACCESS_CANCELLED
        assert {e.kind for e in model_ev} == {c.kind}


def test_rule_decided_result_explains_the_rules_kind() -> None:
    fake = FakeModel({"phishing": 0.9, "unrelated": 0.1})
    text = "【栖云数据】您好，网站 mulan-demo.cn 在我司的接入已取消，备案号仍有效。"
    c = _classifier(fake).classify_notice(parse(text))
    assert c.kind is Kind.PROVIDER_ACCESS_CANCELLED
    assert {e.kind for e in _model_evidence(c)} == {Kind.PROVIDER_ACCESS_CANCELLED}


# --------------------------------------------------------------------------- failure types
# End to end through icp_notify.classify, one test per kind of notice that blind writers' sets
# showed we misread (docs/model.md lists them). Every text is our own, with made-up names,
# domains and numbers, and each type carries hard negatives, so a fix cannot pass by over-firing.

# OCR spacing, agency speech, forwarded generic notices, English/key-value status lines, user
# comments around pasted notices, 公安, 注销 after a cancellation


CASES: list[tuple[str, str | None, str]] = [
    # 1. OCR / spaced text
    (
        "【云栈】接 入 备 案 审 核 通 过 , 网站 : lanqiao-demo.cn 已 接 入 云 栈 。",
        "access_domain",
        "provider_access_domain",
    ),
    (
        "【速维云】取 消 接 入 成 功 ， 网 站 hemu-demo.cn 已 不 再 接 入 本 平 台 。",
        "access_cancelled",
        "provider_access_cancelled",
    ),
    (
        "【速维云】经 核 查 ， 您 的 网 站 与 备 案 不 符 ， 逾 期 将 取 消 接 入 。",
        "other",
        "check_request",
    ),
    # 2. agency speech
    (
        "王总，负责人和手机号已经变更成功了，管局今天批的，备案号没变。工信部会发一条“备案信息已被变更”的短信，不用理会。",
        "modify_domain",
        "provider_modify_domain",
    ),
    (
        "张姐，您新加的那个网站备案已经批下来了，备案号是-3结尾。",
        "new_domain",
        "provider_new_domain",
    ),
    (
        "李总，迁到青桥云的接入备案已经下来了，备案号没变。老机房那边我会去申请取消接入。",
        "access_domain",
        "provider_access_domain",
    ),
    (
        "刘总，原来恒远IDC那边已经把咱们网站的接入取消了，工信部也发了备案信息已被变更的短信。",
        "access_cancelled",
        "provider_access_cancelled",
    ),
    ("孙总，接入备案还在管局审核，下周能下来，到时候旧机房那边再取消接入。", "other", None),
    # 3. forwarded generic: the forwarder's contact line is not phishing
    (
        "【备案代办·安信】转发工信部通知：\n尊敬的用户陈**，您的备案信息已被变更，详情请咨询您的接入服务提供商。\n如有疑问请联系您的专属顾问 138****6621",
        None,
        "change_notice_generic",
    ),
    ("尊敬的用户陈**，您的备案信息已被变更，详情请咨询 138****6621。", "other", "phishing"),
    (
        "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商或拨打 400-820-5521。",
        "other",
        "phishing",
    ),
    # 4. English / key-value
    (
        "Filing update · Type: Access cancellation · Status: COMPLETED · Domain: mowen-demo.net",
        "access_cancelled",
        "provider_access_cancelled",
    ),
    (
        "ICP access removed ❌ domain: qinghe-demo.com reason: customer moved to another provider",
        "access_cancelled",
        "provider_access_cancelled",
    ),
    (
        "Modify Domain: approved. jiuli-old.cn -> jiuli-demo.cn",
        "modify_domain",
        "provider_modify_domain",
    ),
    (
        "接入备案审核结果：通过\n网站名称：青木博客\n域名：qingmu-demo.cn",
        "access_domain",
        "provider_access_domain",
    ),
    ("接入备案审核结果：不通过\n网站名称：青木博客\n退回原因：名称不符", "other", "rejected"),
    ("您的网站已获管局批准，接入青桥云成功。", "access_domain", "provider_access_domain"),
    ("Filing update · Type: Access cancellation · Status: PROCESSING", "other", None),
    # 5. a user's comment around a pasted cancellation
    (
        "客户收到：【天某云】您的网站已被取消接入，域名：shanhe-demo.cn。他问是不是我们弄的？我们这边没有提交过取消啊",
        "access_cancelled",
        "provider_access_cancelled",
    ),
    # 6. 公安
    (
        "【网安备案】您提交的备案信息变更（网站负责人）已由属地公安机关审核通过。",
        "other",
        "public_security",
    ),
    # 7. 注销 after cancellation
    (
        "因您的网站取消接入后超过期限未重新接入，通信管理局已注销该网站备案。",
        "other",
        "filing_cancelled",
    ),
]


@pytest.mark.parametrize(("text", "situation", "kind"), CASES)
def test_failure_type(text: str, situation: str | None, kind: str | None) -> None:
    c = icp_notify.classify(text)
    got = c.situation.value if c.situation is not None else None
    assert got == situation, (text, got, c.kind.value)
    if kind is not None:
        assert c.kind.value == kind
    if situation is None:
        assert c.ambiguous
        assert len(c.candidates) == 4


def test_no_confident_cancellation_for_the_threat_or_pending() -> None:
    for text in (
        "【速维云】经 核 查 ， 您 的 网 站 与 备 案 不 符 ， 逾 期 将 取 消 接 入 。",
        "Filing update · Type: Access cancellation · Status: PROCESSING",
    ):
        c = icp_notify.classify(text)
        assert not (
            c.situation is not None
            and c.situation.value == "access_cancelled"
            and c.confidence >= 0.9
        )


# approvals after the operation's name, agencies' new sites, status lines, other verbs


APPROVAL_AFTER_OPERATION: list[Case] = [
    (
        "【溪山云】您申请的「新增网站」已获福建省通信管理局批准，网站号闽ICP备2020045566号-2。",
        "new_domain",
        None,
    ),
    ("您提交的“变更主体”已获管局审批通过，主体负责人已更新为新的联系人。", "modify_domain", None),
    (
        "经浙江省通信管理局审核，贵公司网站接入青苔云的申请已获批准，备案号不变。",
        "access_domain",
        None,
    ),
    ("您的网站接入本公司的申请未获管局通过，原因：网站名称不规范。", "other", None),
    ("您提交的“修改域名”已报送管局，请耐心等待。", "other", None),
]

AGENCY_NEW_SITE: list[Case] = [
    ("吴总，您家新增的第四个网站管局今天批了，号尾是-4，我帮您挂到页脚。", "new_domain", None),
    (
        "【备案驿站】亲，您代办的新增网站已经下号啦，备案号 晋ICP备2021003344号-2。",
        "new_domain",
        None,
    ),
    (
        "您的网站 fenglin-demo.cn 已在原主体下完成新增，网站备案号为晋ICP备2021003344号-3。",
        "new_domain",
        None,
    ),
    ("您的新增网站（第二个）审核未通过，被管局退回，原因：负责人照片模糊。", "other", "rejected"),
]

MODIFY_STATUS_AND_SAME_PROVIDER_IP: list[Case] = [
    (
        "【岚山数据】ICP变更完成：网站 qiaoyu-demo.cn 的网站名称已更新，备案号不变。",
        "modify_domain",
        None,
    ),
    (
        "您修改域名的备案已办结：域名由 yunsha-old.cn 改为 yunsha-demo.cn，审核结果：通过。",
        "modify_domain",
        None,
    ),
    (
        "您网站的服务器IP由 10.6.1.3 调整到本机房的 10.6.7.8，接入商未变，管局已审核通过。",
        "modify_domain",
        None,
    ),
    (
        "【岚山数据】您的域名 yunsha-demo.cn 已成功转入本平台，有效期不变。",
        "other",
        "registrar_transfer",
    ),
]

ACCESS_WITHOUT_THE_WORD_ACCESS_FILING: list[Case] = [
    (
        "【青苔云】贵单位网站已完成从原接入商到我司的迁移，备案系统中接入信息已更新为我司，备案号未变。",
        "access_domain",
        None,
    ),
    (
        "Your site tianlu-demo.cn has been added to our ICP access records; the filing number is unchanged.",
        "access_domain",
        None,
    ),
    ("Console: ICP 接入 approved | domain yunzhou-demo.net | filing kept", "access_domain", None),
    ("CDN access approved for yunzhou-demo.net; please update the CNAME record.", "other", None),
]

CANCELLATION_BY_OTHER_VERBS: list[Case] = [
    (
        "【远帆IDC】鉴于您已迁往其他服务商，我司已解除对网站 lanting-demo.cn 的接入关系。",
        "access_cancelled",
        None,
    ),
    (
        "【远帆IDC】网站 lanting-demo.cn 已从本机房接入名单中移除，备案号仍有效。",
        "access_cancelled",
        None,
    ),
    ("接入状态：已终止\n网站：lanting-demo.cn\n原因：逾期未整改", "access_cancelled", None),
    (
        "【远帆IDC】我们已经将网站 lanting-demo.cn 取消接入，备案号本身仍然有效。",
        "access_cancelled",
        None,
    ),
    (
        "经核查，网站 lanting-demo.cn 信息不实，请于7日内整改，逾期我司将解除与该网站的接入关系。",
        "other",
        None,
    ),
    ("【远帆IDC】已为您解除域名 lanting-demo.cn 与高防IP的接入关系。", "other", None),
]

ACCESS_REVOKED_IS_NOT_FILING_CANCELLED: list[Case] = [
    (
        "您在本平台的网站接入（域名 sanqiao-demo.cn）已被撤销，原因：主办者迁出。",
        "access_cancelled",
        None,
    ),
    ("因长期无接入，网站 sanqiao-demo.cn 的备案已被管局注销。", "other", "filing_cancelled"),
]

CANCELLATION_REQUEST_PROCESSED: list[Case] = [
    (
        "收到您的取消接入申请后，我们已完成处理，网站 zhenyu-demo.cn 不再接入本公司。",
        "access_cancelled",
        None,
    ),
]

ENGLISH_CONSOLE_WITH_FOOTER_ADVICE: list[Case] = [
    (
        "Lanshan Data: Add-site request approved, domain=yeqing-demo.cn, number -3. 请在首页底部添加备案号。",
        "new_domain",
        None,
    ),
    (
        "温馨提示：请在网站首页底部添加备案号并链接至 beian.miit.gov.cn。",
        "other",
        "footer_reminder",
    ),
]

FIRST_FILING_WITH_NEW_WORDS: list[Case] = [
    (
        "您的首次备案（新增主体）已获管局审批通过，主体备案号为湘ICP备2024055124号。",
        "other",
        "first_filing_approved",
    ),
    ("您在原主体下新增的网站已获管局批准，网站号湘ICP备2020011111号-2。", "new_domain", None),
]


@pytest.mark.parametrize(("text", "situation", "kind"), APPROVAL_AFTER_OPERATION)
def test_approval_stated_after_the_operation_name(
    text: str, situation: str, kind: str | None
) -> None:
    """已获(…通信管理局)批准 / 审批通过 after the (often quoted) operation name."""
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), AGENCY_NEW_SITE)
def test_agency_new_site_ordinal_number_issued_or_under_the_entity(
    text: str, situation: str, kind: str | None
) -> None:
    """新增的第N个网站 / 已经下号 / 已在原主体下完成新增."""
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), MODIFY_STATUS_AND_SAME_PROVIDER_IP)
def test_modify_status_line_late_result_and_same_provider_ip(
    text: str, situation: str, kind: str | None
) -> None:
    """ICP变更完成, 修改域名 已办结 … 审核结果：通过, an IP change at the same provider."""
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), ACCESS_WITHOUT_THE_WORD_ACCESS_FILING)
def test_access_approved_without_the_word_access_filing(
    text: str, situation: str, kind: str | None
) -> None:
    """接入信息已更新为我司, English "added to our ICP access records", mixed "ICP 接入 approved"."""
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), CANCELLATION_BY_OTHER_VERBS)
def test_cancellation_stated_with_other_verbs(text: str, situation: str, kind: str | None) -> None:
    """解除…接入关系, 从接入名单中移除, 接入状态：已终止, 已经将…取消接入 (not vetoed as future)."""
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), ACCESS_REVOKED_IS_NOT_FILING_CANCELLED)
def test_access_revoked_with_a_parenthesis_is_not_filing_cancelled(
    text: str, situation: str, kind: str | None
) -> None:
    """网站接入（域名 …）已被撤销 is the access, not the filing (注销)."""
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), CANCELLATION_REQUEST_PROCESSED)
def test_cancellation_request_processed_or_no_longer_accessed_here(
    text: str, situation: str, kind: str | None
) -> None:
    """取消接入申请后…已完成处理 / 不再接入本公司."""
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), ENGLISH_CONSOLE_WITH_FOOTER_ADVICE)
def test_english_console_approval_with_footer_advice(
    text: str, situation: str, kind: str | None
) -> None:
    """An approval with a footer instruction appended is the approval, not a footer reminder."""
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), FIRST_FILING_WITH_NEW_WORDS)
def test_first_filing_named_new_entity_is_not_a_new_site(
    text: str, situation: str, kind: str | None
) -> None:
    """新开备案 / 新增主体 / 首次备案 已获批准 is a first filing (other), not new_domain."""
    check_classified(text, situation, kind)


def test_first_filing_the_combiner_reads_otherwise_is_never_a_confident_new_site() -> None:
    """新开备案 … 已获批准: the learned combiner weighs the sure first-filing rule against a model that
    reads an approval, and decides against the rule (making the first filing a hard veto cost
    leave-one-writer-out 0.0003 and one more confident error, docs/model.md). What must hold: it
    is not read as a new site, and never confidently as any change."""
    c = icp_notify.classify(
        "【溪山云】您的新开备案已获省通信管理局批准，备案号湘ICP备2024055123号-1。"
    )
    assert c.situation is None or c.situation.value != "new_domain"
    assert c.situation is None or c.situation.value == "other" or c.confidence < 0.9
    assert any(e.id == "filing.first_filing_approved" for e in c.evidence)


def test_no_confident_cancellation_for_threats_and_withdrawals() -> None:
    for text in (
        "逾期未整改的网站，我司将从接入列表中移除。",
        "您的取消接入申请已撤回。",
        "我司将于月底解除与网站 lanting-demo.cn 的接入关系。",
        "如您的网站不再接入本公司，请在新服务商处办理接入备案。",
        # a withdrawn request: the rule is vetoed; the model may still lean to access_cancelled (capped)
        "您的取消接入申请已撤销，网站继续在本公司接入。",
    ):
        c = icp_notify.classify(text)
        assert not (
            c.situation is not None
            and c.situation.value == "access_cancelled"
            and c.confidence >= 0.9
        ), text


# multi-topic e-mails, result wordings, progress tables, passive and terse approvals


APPROVAL_IN_MULTI_TOPIC_EMAIL: list[Case] = [
    (
        "尊敬的竹溪云用户：\n\n您的云数据库 zx-db-07 将于下月5日到期，请及时续费。\n\n"
        "另告知：您7月提交的新增网站申请已获湖北省通信管理局通过，网站 zhuxi-demo.cn 的备案号为"
        "鄂ICP备2020017788号-3。\n\n您有2张代金券将于月底过期，请尽快使用。\n\n竹溪云",
        "new_domain",
        "provider_new_domain",
    ),
    (
        "您好！本周日凌晨机房例行维护。\n\n备案方面：您提交的备案变更——网站名称由“听雨”改为“听雨书斋”"
        "——已经管局审核并予以通过，备案号不变。\n\n感谢支持。",
        "modify_domain",
        "provider_modify_domain",
    ),
    (
        "年度汇总：云主机 4 台；对象存储 90 GB；CDN 流量 300 GB。\n\n备案事项：您10月提交的接入备案"
        "（网站 wuyue-demo.net，从原服务商迁来）已经湖南省通信管理局审核通过，现由我司接入，备案号不变。",
        "access_domain",
        "provider_access_domain",
    ),
    # hard negatives: the same kinds of e-mail with no approval in them
    (
        "尊敬的竹溪云用户：\n\n新用户云服务器低至88元/年，备案服务免费。您有2张代金券将于月底过期。",
        "other",
        "marketing",
    ),
    (
        "您好！本周日凌晨机房例行维护。备案方面：您的变更材料已提交管局，目前审核中。",
        "other",
        "progress",
    ),
]

APPROVAL_RESULT_WORDING: list[Case] = [
    (
        "您好，本次申请系在已有主体（闽ICP备2018004433号）项下增加网站，管局审核结论为“通过”，"
        "网站备案号为闽ICP备2018004433号-6。",
        "new_domain",
        "provider_new_domain",
    ),
    (
        "【云栈】您的新增网站备案经管局审核予以通过，网站 yunzhan-demo.cn 可以开通访问。",
        "new_domain",
        None,
    ),
    ("【云栈】网站联系人由林青变更为林舟的变更申请已获管局批准。", "modify_domain", None),
    # hard negatives
    (
        "您好，本次为首次备案（新增主体），管局审核结论为“通过”，主体备案号为闽ICP备2025002211号。",
        "other",
        "first_filing_approved",
    ),
    ("您的新增网站申请经管局审核不予通过，退回原因：网站名称不规范。", "other", "rejected"),
]

COMPLETED_ROW_IN_STATUS_TABLE: list[Case] = [
    (
        "备案进度\n工单 | 业务 | 域名 | 状态\nQK-3310 | 取消接入 | qiankun-demo.cn | 已完成",
        "access_cancelled",
        "provider_access_cancelled",
    ),
    (
        "备案进度\n工单 | 业务 | 域名 | 状态\nQK-3311 | 接入备案 | qiankun-demo.net | 审核通过",
        "access_domain",
        "provider_access_domain",
    ),
    (
        "备案进度\n工单 | 业务 | 域名 | 状态\nQK-3312 | 新增网站 | qiankun-demo.top | 已通过",
        "new_domain",
        "provider_new_domain",
    ),
    # hard negatives: rows still in progress
    (
        "备案进度\n工单 | 业务 | 域名 | 状态\nQK-3313 | 接入备案 | qiankun-demo.org | 管局审核中",
        "other",
        "progress",
    ),
    (
        "备案进度\n工单 | 业务 | 域名 | 状态\nQK-3314 | 取消接入 | qiankun-demo.com | 处理中",
        "other",
        None,
    ),
]

COMPLETION_REPORTED_TO_THE_ADMINISTRATION: list[Case] = [
    (
        "【石榴云】您的网站 shiliu-demo.cn 接入信息已报送并通过管局审核，备案号不用改。",
        "access_domain",
        "provider_access_domain",
    ),
    (
        "【石榴云】因服务到期，本公司已依约将网站 shiliu-demo.net 的接入予以取消，取消信息已报送管局。",
        "access_cancelled",
        "provider_access_cancelled",
    ),
    # hard negatives: only reported, or only threatened
    ("【石榴云】您的网站 shiliu-demo.top 接入信息已报送至管局，请等待审核。", "other", "progress"),
    ("【石榴云】合同到期未续签的，本公司将对网站的接入予以取消，请提前迁移。", "other", None),
]

PASSIVE_AND_TERSE_APPROVALS: list[Case] = [
    (
        "【榛子云】您的网站 zhenzi-demo.cn 已被榛子云成功接入，备案号无需变更。",
        "access_domain",
        None,
    ),
    ("[桃桃主机] 接入备案ok了，taotao-demo.top 已经挂咱家了", "access_domain", None),
    ("[桃桃主机] 新增网站搞定了，taotao-demo.cn 号尾-2", "new_domain", None),
    ("[桃桃主机] 老站的取消接入搞定了，taotao-demo.net 已不在本机房", "access_cancelled", None),
    # hard negatives: questions and "not yet"
    ("【榛子云】接入备案还没搞定，管局还在审核中，请耐心等待。", "other", "progress"),
]

PRODUCT_ACCESS_SUCCESS: list[Case] = [
    ("【柿子云】游戏盾接入成功，您的游戏 shizi-run 防护状态：正常。", "other", "unrelated_access"),
    ("【柿子云】您的应用已完成SDK接入，可在控制台查看数据。", "other", "unrelated_access"),
    ("【柿子支付】您的商户已成功接入支付网关，今日起可以收款。", "other", "unrelated_access"),
    # positives next to a product named elsewhere (a newline typo inside a product sentence still vetoes)
    (
        "【柿子云】您的网站 shizi-demo.cn 已成功接入本平台，接入备案已通过管局审核。游戏盾可在控制台开通。",
        "access_domain",
        "provider_access_domain",
    ),
    (
        "尊敬的用户,全站加速：域\n名shizi-demo.com接入成功,当前状态：运行中。",
        "other",
        "unrelated_access",
    ),
]


@pytest.mark.parametrize(("text", "situation", "kind"), APPROVAL_IN_MULTI_TOPIC_EMAIL)
def test_approval_buried_in_a_multi_topic_email(
    text: str, situation: str, kind: str | None
) -> None:
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), APPROVAL_RESULT_WORDING)
def test_approval_worded_as_a_conclusion_or_granted(
    text: str, situation: str, kind: str | None
) -> None:
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), COMPLETED_ROW_IN_STATUS_TABLE)
def test_completed_row_in_a_progress_table(text: str, situation: str, kind: str | None) -> None:
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), COMPLETION_REPORTED_TO_THE_ADMINISTRATION)
def test_completion_reported_to_the_administration_is_not_progress(
    text: str, situation: str, kind: str | None
) -> None:
    check_classified(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), PASSIVE_AND_TERSE_APPROVALS)
def test_passive_and_terse_approvals(text: str, situation: str, kind: str | None) -> None:
    check_classified(text, situation, kind)


def test_a_terse_question_is_never_a_confident_change() -> None:
    """ "接入备案ok了吗？" asks; nothing happened. The hand-written policy read it as `other`; the
    learned combiner (fifteen writers) reads the model's 接入备案 at 0.55 — a known miss
    (docs/model.md). What must hold: never a change at 0.9 or more."""
    c = icp_notify.classify("[桃桃主机] 接入备案ok了吗？客户在问")
    assert c.situation is None or c.situation.value == "other" or c.confidence < 0.9


@pytest.mark.parametrize(("text", "situation", "kind"), PRODUCT_ACCESS_SUCCESS)
def test_product_access_success_is_unrelated_access(
    text: str, situation: str, kind: str | None
) -> None:
    check_classified(text, situation, kind)


def test_no_confident_cancellation_for_threats_and_pending_rows() -> None:
    for text in (
        "【石榴云】合同到期未续签的，本公司将对网站的接入予以取消，请提前迁移。",
        "备案进度\n工单 | 业务 | 域名 | 状态\nQK-3314 | 取消接入 | qiankun-demo.com | 处理中",
    ):
        c = icp_notify.classify(text)
        assert not (c.situation is Situation.ACCESS_CANCELLED and c.confidence >= 0.9), text


# --------------------------------------------------------------------------- fast paths
# The classifier builds its results without re-validating (construct_trusted), cleans the
# model's probabilities and caches signature evidence: each gives exactly what the plain path gives.


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


# --------------------------------------------------------------------------- the e-mail subject
# The model reads the subject first; a notice whose body says only 已处理 is decided by it.


class _RecordingModel:
    """A fake model that records the tokens it is given and answers one kind."""

    version = "fake"

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def predict_proba(self, tokens: list[str]) -> dict[str, float]:
        self.seen.append(list(tokens))
        return {"provider_access_cancelled": 0.9, "unrelated": 0.1}


def test_classifier_feeds_the_subject_to_the_model() -> None:
    model = _RecordingModel()
    classifier = Classifier(model=model)
    raw = RawMessage(text="您好，处理结果见标题。", subject="取消接入处理完成", channel="email")
    classifier.classify_notice(parse(raw))
    assert model.seen
    assert model.seen[-1][:1] == ["取消接入"]


@pytest.mark.parametrize(
    ("subject", "body", "situation"),
    [
        (
            "取消接入处理完成",
            "尊敬的客户，您提交的工单（编号 20250311-7781）我们已处理完毕，如有疑问请回复本邮件。",
            Situation.ACCESS_CANCELLED,
        ),
        (
            "ICP access transfer completed",
            "Dear customer, the request for qinghe-notes.dev has been processed. Thank you.",
            Situation.ACCESS_DOMAIN,
        ),
    ],
)
def test_subject_only_notice_is_classified_by_the_shipped_pipeline(
    subject: str, body: str, situation: Situation
) -> None:
    raw = RawMessage(text=body, subject=subject, channel="email", sender="noreply@yunshan-demo.cn")
    result = Classifier.default().classify_notice(parse(raw))
    assert result.situation is situation, result
    assert not result.ambiguous
    # the body alone says nothing
    alone = Classifier.default().classify_notice(parse(RawMessage(text=body, channel="email")))
    assert alone.situation is not situation or alone.ambiguous
