"""The rules file: every rule's own examples, validation errors, timeouts, evidence; the fast
path of RuleSet.match gives what the general path gives."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from icp_notify.corpus import load_corpus
from icp_notify.errors import RuleFileError
from icp_notify.gates import lowered, present_strings
from icp_notify.models import (
    KIND_SITUATION,
    Channel,
    Evidence,
    Kind,
    Notice,
    RawMessage,
    SenderType,
)
from icp_notify.normalize import normalize_text
from icp_notify.parse import parse
from icp_notify.rules import (
    STRONG_WEIGHT,
    Example,
    RuleSet,
    _engine_source,
    default_rules,
    example_notice,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
RULES = default_rules()
EXAMPLES = [
    (rule.id, expected, example)
    for rule in RULES.rules
    for expected, examples in (
        (True, rule.spec.examples.match),
        (False, rule.spec.examples.no_match),
    )
    for example in examples
]


def _matches(rule_id: str, notice: Notice) -> bool:
    evidence = RULES[rule_id].match(notice)
    return evidence is not None and not evidence.timed_out


@pytest.mark.parametrize(
    ("rule_id", "expected", "example"),
    EXAMPLES,
    ids=[f"{r}-{'match' if e else 'no_match'}-{i}" for i, (r, e, _) in enumerate(EXAMPLES)],
)
def test_rule_example(rule_id: str, expected: bool, example: Example) -> None:
    # as written, and as the parser's normalisation leaves it (half-width punctuation …)
    assert _matches(rule_id, example_notice(example)) is expected
    normalised = normalize_text(example.text)
    assert _matches(rule_id, example_notice(example, normalised)) is expected


@pytest.mark.parametrize("rule_id", [r.id for r in RULES.rules])
def test_match_examples_hold_after_parse(rule_id: str) -> None:
    """Through the real parser (signature stripped, wrappers removed) each match example still matches."""
    rule = RULES[rule_id]
    for example in rule.spec.examples.match:
        notice = parse(example.text, sender=example.sender)
        if example.sender_type is not SenderType.UNKNOWN:
            notice = notice.model_copy(update={"sender_type": example.sender_type})
        assert _matches(rule_id, notice), example.text


def test_check_examples_reports_nothing_for_shipped_rules() -> None:
    assert RULES.check_examples() == []


def test_every_kind_but_unrelated_catch_all_has_a_rule_and_situations_agree() -> None:
    kinds = Counter(r.spec.kind for r in RULES.rules)
    assert set(Kind) <= set(kinds)
    for rule in RULES.rules:
        assert rule.situation == KIND_SITUATION[rule.spec.kind]
        assert 0 < rule.spec.weight <= 1


def test_ids_are_unique_and_stable() -> None:
    ids = [r.id for r in RULES.rules]
    assert len(ids) == len(set(ids))
    assert "miit.generic_change" in ids
    assert "provider.access_cancelled" in ids


def test_match_gives_span_matched_text_and_weight() -> None:
    text = "尊敬的客户,根据您的申请,我司已完成取消接入,网站old-demo.cn在我司的接入已解除。"
    evidence = RULES.match(Notice(raw_text=text, text=text))
    (ev,) = [e for e in evidence if e.id == "provider.access_cancelled"]
    assert ev.source == "rule"
    assert ev.kind is Kind.PROVIDER_ACCESS_CANCELLED
    assert ev.span is not None
    assert text[ev.span[0] : ev.span[1]] == ev.matched
    assert "取消接入" in (ev.matched or "")
    assert ev.weight is not None
    assert ev.weight >= STRONG_WEIGHT


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("经核查,您的网站内容与备案不符,请于7日内完成整改,逾期将取消接入。", Kind.CHECK_REQUEST),
        (
            "您的验证码为482913,由某某云发起的青禾科技的新增网站已提交,请于24小时内登录 https://beian.miit.gov.cn 完成核验。",
            Kind.VERIFICATION_CODE,
        ),
        ("您的域名demo.cn已成功接入CDN加速服务。", Kind.UNRELATED_ACCESS),
        ("您的首次备案已审核通过,备案号为粤ICP备2025000006号。", Kind.FIRST_FILING_APPROVED),
        ("您的新增网站备案已通过初审,已提交管局审核。", Kind.PROGRESS),
        (
            "尊敬的用户XX,您的备案信息已被变更,详情请访问 http://beian-fix.example.top 核实。",
            Kind.PHISHING,
        ),
    ],
)
def test_hard_negatives_are_not_change_situations(text: str, kind: Kind) -> None:
    """Vocabulary shared with change notices must not be taken for a change situation."""
    evidence = [e for e in RULES.match(parse(text)) if e.weight and e.weight >= STRONG_WEIGHT]
    best = max(evidence, key=lambda e: e.weight or 0)
    assert best.kind is kind
    change_kinds = {
        Kind.PROVIDER_NEW_DOMAIN,
        Kind.PROVIDER_MODIFY_DOMAIN,
        Kind.PROVIDER_ACCESS_DOMAIN,
        Kind.PROVIDER_ACCESS_CANCELLED,
        Kind.CHANGE_NOTICE_GENERIC,
    }
    assert not {e.kind for e in evidence} & change_kinds


def test_default_rules_is_cached() -> None:
    assert default_rules() is default_rules()


def test_load_a_valid_file() -> None:
    rules = RuleSet.load(FIXTURES / "valid_minimal.toml")
    assert len(rules) == 1
    assert rules.check_examples() == []


@pytest.mark.parametrize(
    ("name", "item", "field", "words"),
    [
        ("not_toml.toml", None, None, "not valid TOML"),
        ("no_rules.toml", None, "rule", "no [[rule]]"),
        ("duplicate_id.toml", "test.same", "id", "duplicate"),
        ("bad_kind.toml", "test.bad_kind", "kind", "Input should be"),
        ("situation_mismatch.toml", "test.mismatch", "situation", "implies situation"),
        ("bad_regex.toml", "test.bad_regex", "patterns[0]", "invalid regular expression"),
        ("bad_veto_regex.toml", "test.bad_veto", "unless[0]", "invalid regular expression"),
        ("bad_weight.toml", "test.bad_weight", "weight", "less than or equal"),
        ("no_examples.toml", "test.no_examples", "examples", "required"),
        ("unknown_field.toml", "test.unknown_field", "wieght", "Extra inputs"),
        ("empty_patterns.toml", "test.empty_patterns", "patterns", "at least 1"),
        ("bad_id.toml", "Bad Id!", "id", "pattern"),
        ("bad_timeout.toml", None, "timeout", "positive"),
        ("does_not_exist.toml", None, None, "cannot read"),
    ],
)
def test_rule_file_errors_name_file_rule_and_field(
    name: str, item: str | None, field: str | None, words: str
) -> None:
    path = FIXTURES / name
    with pytest.raises(RuleFileError) as info:
        RuleSet.load(path)
    err = info.value
    assert err.path == str(path)
    assert err.item == item
    assert err.field == field
    assert words in str(err)
    assert name in str(err)


def test_a_timed_out_rule_is_evidence_not_an_exception() -> None:
    rules = RuleSet.load(FIXTURES / "pathological.toml")
    text = "a" * 5000 + "b 初审通过"
    evidence = rules.match(Notice(raw_text=text, text=text))
    by_id = {e.id: e for e in evidence}
    slow = by_id["test.pathological"]
    assert slow.timed_out
    assert slow.weight == 0.0
    assert "timed out" in slow.detail
    # the other rules still ran
    assert not by_id["test.fine"].timed_out
    assert by_id["test.fine"].matched == "初审通过"


def test_conditions_sender_type_and_url() -> None:
    text = "尊敬的用户张**,您的备案已被修改,详情请咨询您的接入服务提供商。"
    miit = Notice(raw_text=text, text=text, sender_type=SenderType.MIIT)
    provider = Notice(raw_text=text, text=text, sender_type=SenderType.PROVIDER)
    assert RULES["miit.generic_change_tail"].match(miit) is not None
    assert RULES["miit.generic_change_tail"].match(provider) is None
    with_link = "您的备案信息已被变更,详情请查看 t.cn/A6xYzZ9"
    ids = {e.id for e in RULES.match(Notice(raw_text=with_link, text=with_link))}
    assert "other.phishing_generic_with_link" in ids
    assert "miit.generic_change" not in ids


# ----------------------------------------------------------------- failure types

CANCELLATION_NOT_DONE = [
    # future / plan
    "新服务商那边已经通过了，原服务商下周会取消接入。",
    "我司计划于5月1日对网站 demo-plan.cn 取消接入。",
    # imperative / request / how-to
    "检测到您的网站无服务器资源，请尽快购买服务器或办理取消接入。",
    "如需取消接入，请在控制台提交工单。",
    # question
    "我的网站是不是已经被取消接入了？",
    # 注销 of the filing itself
    "您的网站 demo-gone.cn 因长期无接入已被注销。",
    # phishing: links, fees, re-authentication, look-alike domains
    "您的网站已取消接入，请访问 http://s.demo-link.cc/a1 查看。",
    "您的网站已取消接入，请于今日缴纳恢复费。",
    "您的网站接入已被取消，请登录 www.miit-beian-demo.top 重新认证。",
    "Scam alert: fraudsters are sending texts claiming your ICP access has been cancelled.",
    "Your ICP access will be cancelled unless you update the filing.",
]


@pytest.mark.parametrize("text", CANCELLATION_NOT_DONE)
def test_cancellation_rule_needs_a_completed_clean_cancellation(text: str) -> None:
    assert not _matches("provider.access_cancelled", parse(text))


@pytest.mark.parametrize(
    "text",
    [
        "取消接入已处理完毕，demo-done.cn 不再由本机房接入。",
        "业务类型：取消接入 办理结果：已办结",
        "We have cancelled the ICP access for demo-done.com as requested.",
        "您的网站 www.demo-www.cn 已从某云取消接入。",  # a www. domain is not a link
    ],
)
def test_cancellation_rule_matches_completed_wording(text: str) -> None:
    assert _matches("provider.access_cancelled", parse(text))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("尊敬的用户，您的备案信息已被变更，详情请咨询 0571-86001234。", Kind.PHISHING),
        ("尊敬的用户，您的备案信息已被变更，详情请联系 177 1234 5678。", Kind.PHISHING),
        ("尊敬的用户，您的备案信息已被变更，详情请加微信 demo_kefu 咨询。", Kind.PHISHING),
        (
            "Dear user, your filing information has been changed. Please consult your access service provider.",
            Kind.CHANGE_NOTICE_GENERIC,
        ),
        (
            "您的公安联网备案信息已变更，请登录全国互联网安全管理服务平台查看。",
            Kind.PUBLIC_SECURITY,
        ),
        ("您的域名 demo-rn.cn 实名认证已审核通过。", Kind.UNRELATED),
    ],
)
def test_generic_look_alikes_get_their_own_kind(text: str, kind: Kind) -> None:
    sure = [e for e in RULES.match(parse(text)) if (e.weight or 0) >= STRONG_WEIGHT]
    assert sure, text
    assert max(sure, key=lambda e: e.weight or 0).kind is kind


# --------------------------------------------------------------------------- look-alike domains

LOOKALIKE = "other.phishing_lookalike_domain"


@pytest.mark.parametrize(
    "text",
    [
        "【栖云数据】您的网站 site12381.cn 的备案已通过管局审核，备案号浙ICP备2031123456号-1。",
        "【蓝鲸IDC】您好，域名 beian-tools.com.cn 的接入备案已审核通过，备案号京ICP备2031987654号。",
        "【蓝鲸IDC】您好，网站 beian-tools.com.cn 在我司的接入已取消，备案号京ICP备2031987654号仍有效。",
        "您提交的新增网站 www.gongxin-demo.cn 已通过初审，已提交至管局审核。",
    ],
)
def test_users_own_lookalike_named_domain_is_not_phishing(text: str) -> None:
    from icp_notify.classifier import classify

    notice = parse(text)
    assert RULES[LOOKALIKE].match(notice) is None
    c = classify(notice)
    assert c.kind is not Kind.PHISHING, c


@pytest.mark.parametrize(
    "text",
    [
        "您的网站已取消接入，请登录 beian-miit-check.top 重新认证。",
        "尊敬的用户，您的备案信息已被变更，详情请访问 beian-check.vip 查询。",
        "您的网站备案即将被注销，请点击 https://miit-icp.example-verify.top/a1 重新核验。",
        "尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。http://beian-gov.example/x9",
        "您的网站已取消接入！恢复请前往 icp-beian-hf.top/r 输入账号密码。",
        "Your filing was cancelled. Please log in to beian-verify.example-top.cc to restore it.",
    ],
)
def test_lookalike_link_the_reader_is_asked_to_visit_is_phishing(text: str) -> None:
    from icp_notify.classifier import classify

    evidence = RULES[LOOKALIKE].match(parse(text))
    assert evidence is not None
    assert not evidence.timed_out
    assert classify(text).kind is Kind.PHISHING


def test_gov_cn_link_is_not_a_lookalike() -> None:
    text = "请登录 https://beian.miit.gov.cn/ 查询您的备案信息。"
    assert RULES[LOOKALIKE].match(parse(text)) is None


# --------------------------------------------------------------------------- fast path
# RuleSet.match's bit masks and gates give exactly what the general path gives.


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


def test_shipped_patterns_compiled_on_first_use_match_as_compiled_up_front() -> None:
    """default_rules() compiles each pattern on its first search (cold start); the same file
    loaded with RuleSet.load compiles every pattern at once, as the file writes it (the shipped
    ones are compiled through the exact rewrite rules._engine_source). Both give the same
    evidence on every corpus record, and every shipped pattern compiles."""
    shipped = default_rules()
    eager = RuleSet.load(shipped.path)
    for rule in shipped.rules:
        for p in (*rule.patterns, *rule.unless, *rule.senders):
            assert _engine_source(p.pattern) == getattr(p, "compiled", p).pattern
    for record in load_corpus():
        notice = parse(
            RawMessage(
                text=record.text,
                channel=record.channel,
                sender=record.sender,
                subject=record.subject,
            )
        )
        assert shipped.match(notice) == eager.match(notice), record.id
