"""The advisor: every situation and kind in both languages, times, deadlines, the ambiguous card,
the spacing of filled Chinese texts."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from _advice_fakes import ambiguous, decided, notice

from icp_notify import advisor as advisor_module
from icp_notify.advisor import Advisor, advise, deadline_from_notice, format_time
from icp_notify.errors import InputError
from icp_notify.models import (
    CHANGE_SITUATIONS,
    KIND_SITUATION,
    SHANGHAI,
    Action,
    DateMention,
    Decider,
    DurationMention,
    Kind,
    Situation,
    Urgency,
)

UTC = dt.UTC
LANGS = ("zh", "en")
CJK = re.compile(r"[\u4e00-\u9fff]")

# What each notice must lead to (issue 4, part 2).
EXPECTED: dict[Kind, tuple[Action, Urgency]] = {
    Kind.PROVIDER_NEW_DOMAIN: (Action.WAIT_FOR_SYNC, Urgency.NORMAL),
    Kind.PROVIDER_MODIFY_DOMAIN: (Action.VERIFY_CHANGE, Urgency.NORMAL),
    Kind.PROVIDER_ACCESS_DOMAIN: (Action.WAIT_FOR_SYNC, Urgency.NORMAL),
    Kind.PROVIDER_ACCESS_CANCELLED: (Action.REFILE_NOW, Urgency.CRITICAL),
    Kind.FIRST_FILING_APPROVED: (Action.WAIT_FOR_SYNC, Urgency.NORMAL),
    Kind.VERIFICATION_CODE: (Action.COMPLETE_VERIFICATION, Urgency.HIGH),
    Kind.PROGRESS: (Action.WAIT_FOR_REVIEW, Urgency.INFO),
    Kind.REJECTED: (Action.FIX_AND_RESUBMIT, Urgency.HIGH),
    Kind.FILING_CANCELLED: (Action.CONFIRM_CANCELLATION, Urgency.HIGH),
    Kind.SHELL_SITE_WARNING: (Action.RESTORE_ACCESS_OR_CANCEL, Urgency.HIGH),
    Kind.CHECK_REQUEST: (Action.RESPOND_TO_CHECK, Urgency.HIGH),
    Kind.FOOTER_REMINDER: (Action.DISPLAY_NUMBER, Urgency.NORMAL),
    Kind.UNRELATED_ACCESS: (Action.NONE, Urgency.INFO),
    Kind.REGISTRAR_TRANSFER: (Action.NONE, Urgency.INFO),
    Kind.PUBLIC_SECURITY: (Action.NONE, Urgency.INFO),
    Kind.PHISHING: (Action.IGNORE_PHISHING, Urgency.NORMAL),
    Kind.ANTI_FRAUD: (Action.NONE, Urgency.INFO),
    Kind.MARKETING: (Action.NONE, Urgency.INFO),
    Kind.UNRELATED: (Action.NONE, Urgency.INFO),
}


def full_notice():  # type: ignore[no-untyped-def]
    return notice(
        "x",
        provider="阿里云",
        domain="shop.example.cn",
        number="浙ICP备2020012345号-1",
        received_at="2025-03-04T19:30:00+08:00",
    )


def test_every_kind_is_covered() -> None:
    assert set(EXPECTED) == set(Kind) - {Kind.CHANGE_NOTICE_GENERIC}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", list(EXPECTED), ids=lambda k: k.value)
def test_every_kind_in_both_languages(kind: Kind, lang: str) -> None:
    a = advise(decided(kind), full_notice(), lang=lang)
    assert (a.action, a.urgency) == EXPECTED[kind]
    assert a.lang == lang
    assert a.summary
    assert a.steps
    assert a.why
    texts = [a.summary, a.why, *a.steps]
    assert not any("{" in t or "}" in t for t in texts), texts
    if lang == "en":  # English texts may quote Chinese terms, but are written in English
        assert all(len(CJK.findall(t)) < len(t) / 4 for t in texts), texts
    else:
        assert all(CJK.search(t) for t in texts), texts


@pytest.mark.parametrize("situation", list(CHANGE_SITUATIONS), ids=lambda s: s.value)
def test_generic_notice_decided_by_context_uses_the_situation(situation: Situation) -> None:
    c = decided(Kind.CHANGE_NOTICE_GENERIC, situation, by=(Decider.RULES, Decider.CONTEXT))
    for lang in LANGS:
        a = advise(c, notice(), lang=lang)
        if situation is Situation.ACCESS_CANCELLED:
            # context only decides a cancellation after a move: confirm the new access
            assert a.action is Action.CONFIRM_NEW_ACCESS
            assert a.urgency is Urgency.CRITICAL
        else:
            assert a.action is advise(decided(_provider_kind(situation)), notice()).action


def _provider_kind(situation: Situation) -> Kind:
    return next(
        k for k, s in KIND_SITUATION.items() if s is situation and k.value.startswith("provider_")
    )


@pytest.mark.parametrize("kind", list(EXPECTED), ids=lambda k: k.value)
def test_zh_and_en_have_the_same_structure(kind: Kind) -> None:
    now = dt.datetime(2025, 3, 4, 20, 0, tzinfo=SHANGHAI)
    zh = advise(decided(kind), full_notice(), lang="zh", now=now)
    en = advise(decided(kind), full_notice(), lang="en", now=now)
    assert len(zh.steps) == len(en.steps)
    assert [r.url for r in zh.references] == [r.url for r in en.references]
    strip = {"summary", "steps", "why", "references", "lang"}
    assert zh.model_dump(exclude=strip) == en.model_dump(exclude=strip)


def test_access_cancelled_names_provider_and_says_shell_and_refile() -> None:
    zh = advise(decided(Kind.PROVIDER_ACCESS_CANCELLED), full_notice(), lang="zh")
    assert zh.summary.startswith("阿里云已取消")
    assert "空壳" in zh.summary + zh.why
    assert any("浙ICP备2020012345号-1" in s for s in zh.steps)
    en = advise(decided(Kind.PROVIDER_ACCESS_CANCELLED), full_notice(), lang="en")
    assert en.summary.startswith("Alibaba Cloud has cancelled")
    assert "shell" in en.summary
    assert any("refile" in s for s in en.steps)
    urls = [r.url for r in en.references]
    assert urls[0] == "https://beian.miit.gov.cn/"
    assert "https://beian.aliyun.com/" in urls


def test_unknown_provider_gets_only_the_miit_references() -> None:
    n = notice("x", provider="某某云")
    a = advise(decided(Kind.PROVIDER_ACCESS_CANCELLED), n, lang="zh")
    assert all("miit.gov.cn" in r.url for r in a.references)
    assert a.summary.startswith("某某云已取消")
    anonymous = advise(decided(Kind.PROVIDER_ACCESS_CANCELLED), notice("x"), lang="en")
    assert anonymous.summary.startswith("Your access provider has cancelled its access")


def test_modify_says_domains_stay_online() -> None:
    a = advise(decided(Kind.PROVIDER_MODIFY_DOMAIN), full_notice(), lang="en")
    assert "stay reachable during and after" in a.summary
    assert "控制台" in advise(decided(Kind.PROVIDER_MODIFY_DOMAIN), full_notice()).steps[0]


def test_seed_facts_present() -> None:
    first = advise(decided(Kind.FIRST_FILING_APPROVED), full_notice(), lang="en")
    assert any("bare IP" in s for s in first.steps)
    progress = advise(decided(Kind.PROGRESS), full_notice(), lang="zh")
    assert any("必须保持关闭" in s and "照常访问" in s for s in progress.steps)
    phishing = advise(decided(Kind.PHISHING), full_notice(), lang="en")
    assert "no link" in phishing.why
    code = advise(decided(Kind.VERIFICATION_CODE), full_notice(), lang="en")
    assert any("never share" in s for s in code.steps)


# --------------------------------------------------------------------------- the ambiguous card


def test_ambiguous_walks_candidates_most_urgent_first() -> None:
    c = ambiguous(
        (
            Situation.NEW_DOMAIN,
            Situation.MODIFY_DOMAIN,
            Situation.ACCESS_DOMAIN,
            Situation.ACCESS_CANCELLED,
        )
    )
    for lang in LANGS:
        a = advise(c, notice(), lang=lang)
        assert a.action is Action.CHECK_CANDIDATES
        assert a.urgency is Urgency.CRITICAL
        adv = Advisor.default()
        lines = [getattr(adv.entry(s.value), lang).if_candidate for s in c.candidates]
        # the cancellation first, then the rest in the classifier's order; then how to tell apart
        assert a.steps[0] == lines[3]
        assert list(a.steps[1:4]) == lines[:3]
        assert len(a.steps) == 4 + len(getattr(adv.entry("ambiguous"), lang).steps)
    en = advise(c, notice(), lang="en")
    assert en.steps[0].startswith("If you filed nothing recently and your site moved providers")
    assert any("MIIT public query" in s for s in en.steps[4:])
    assert en.references[0].url.startswith("https://beian.miit.gov.cn/#/")


def test_ambiguous_urgency_is_that_of_the_most_urgent_remaining_candidate() -> None:
    c = ambiguous((Situation.MODIFY_DOMAIN, Situation.NEW_DOMAIN))
    a = advise(c, notice(), lang="zh")
    assert a.urgency is Urgency.NORMAL
    assert not any("取消接入" in s for s in a.steps[:2])
    assert a.steps[0] == Advisor.default().entry("modify_domain").zh.if_candidate


def test_ambiguous_over_approvals_that_all_need_sync_has_reachable_after() -> None:
    c = ambiguous((Situation.NEW_DOMAIN, Situation.ACCESS_DOMAIN))
    a = advise(c, notice(received_at="2025-03-04T09:00:00+08:00"))
    assert a.reachable_after == dt.datetime(2025, 3, 4, 16, 0, tzinfo=SHANGHAI)
    assert advise(ambiguous(), notice()).reachable_after is None


# --------------------------------------------------------------------------- time


def test_reachable_after_and_wait_across_midnight() -> None:
    n = notice("x", received_at="2025-03-04T19:30:00+08:00", domain="shop.example.cn")
    before = advise(
        decided(Kind.PROVIDER_NEW_DOMAIN), n, now="2025-03-04T23:50:00+08:00", lang="zh"
    )
    assert before.reachable_after == dt.datetime(2025, 3, 5, 2, 30, tzinfo=SHANGHAI)
    assert before.wait == dt.timedelta(hours=2, minutes=40)
    assert "2025-03-05 02:30（北京时间）之后" in before.summary
    after = advise(decided(Kind.PROVIDER_NEW_DOMAIN), n, now="2025-03-05T03:00:00+08:00", lang="zh")
    assert after.wait == dt.timedelta(0)
    assert after.steps != before.steps
    assert any("DNS" in s and "shop.example.cn" in s for s in after.steps)
    assert any("同步" in s for s in after.steps)


def test_reachable_after_across_time_zones_shown_in_shanghai() -> None:
    # received 18:40 UTC on the 4th = 02:40 on the 5th in Shanghai; +7 h = 09:40 on the 5th
    n = notice("x", received_at=dt.datetime(2025, 3, 4, 18, 40, tzinfo=UTC))
    now = dt.datetime(2025, 3, 4, 23, 0, tzinfo=UTC)  # 07:00 Shanghai
    a = advise(decided(Kind.PROVIDER_ACCESS_DOMAIN), n, now=now, lang="en")
    assert a.reachable_after is not None
    assert a.reachable_after.utcoffset() == dt.timedelta(hours=8)
    assert a.reachable_after.isoformat() == "2025-03-05T09:40:00+08:00"
    assert a.wait == dt.timedelta(hours=2, minutes=40)
    assert "after 2025-03-05 09:40 (Beijing time, UTC+8)" in a.summary
    # a naive "now" is Asia/Shanghai
    naive = advise(decided(Kind.PROVIDER_ACCESS_DOMAIN), n, now="2025-03-05T09:00:00")
    assert naive.wait == dt.timedelta(minutes=40)


def test_no_received_at_means_no_reachable_after_but_still_sound_text() -> None:
    a = advise(
        decided(Kind.PROVIDER_NEW_DOMAIN),
        notice("x", received_at=None),
        now="2025-03-05T03:00:00+08:00",
        lang="en",
    )
    assert a.reachable_after is None
    assert a.wait is None
    assert "about 7 hours after the notice arrived" in a.summary


def test_without_now_no_wait() -> None:
    a = advise(decided(Kind.FIRST_FILING_APPROVED), full_notice())
    assert a.reachable_after is not None
    assert a.wait is None


# --------------------------------------------------------------------------- deadlines


def test_deadline_from_a_due_date_is_end_of_day_in_shanghai() -> None:
    n = notice(
        "请于2025年3月5日前登录备案控制台更新信息,逾期将取消接入。",
        received_at="2025-03-02T11:00:00+08:00",
        dates=(DateMention(text="2025年3月5日", value=dt.date(2025, 3, 5)),),
    )
    a = advise(decided(Kind.CHECK_REQUEST), n, lang="zh", now="2025-03-04T22:30:00+08:00")
    assert a.deadline == dt.datetime(2025, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)
    assert "2025-03-05 23:59（北京时间）之前" in a.summary
    assert not a.steps[0].startswith("注意")
    late = advise(decided(Kind.CHECK_REQUEST), n, lang="en", now="2025-03-06T08:00:00+08:00")
    assert late.steps[0].startswith("Note: the deadline in the notice has already passed")


def test_deadline_with_a_time() -> None:
    n = notice(
        "x",
        dates=(DateMention(text="3月5日18:00", value=dt.date(2025, 3, 5), time=dt.time(18, 0)),),
    )
    assert deadline_from_notice(n) == dt.datetime(2025, 3, 5, 18, 0, tzinfo=SHANGHAI)


def test_deadline_of_a_verification_link_valid_24_hours() -> None:
    n = notice(
        "您的短信核验码为482915,请于24小时内完成短信核验。",
        received_at=dt.datetime(2025, 3, 4, 10, 2, tzinfo=UTC),
        durations=(DurationMention(text="24小时内", seconds=86400, within=True),),
    )
    a = advise(decided(Kind.VERIFICATION_CODE), n, lang="en")
    assert a.deadline == dt.datetime(2025, 3, 5, 18, 2, tzinfo=SHANGHAI)
    assert "before 2025-03-05 18:02 (Beijing time, UTC+8)" in a.summary


def test_a_delay_is_not_a_deadline() -> None:
    n = notice(
        "建议在收到本通知7小时后访问网站。",
        durations=(DurationMention(text="7小时", seconds=25200, within=False),),
    )
    assert deadline_from_notice(n) is None


def test_no_deadline_stated_reads_naturally() -> None:
    a = advise(decided(Kind.VERIFICATION_CODE), notice("x"), lang="zh")
    assert a.deadline is None
    assert "通知规定的期限内" in a.summary


def test_deadline_only_for_kinds_that_state_one() -> None:
    n = notice("x", dates=(DateMention(text="2025年3月1日", value=dt.date(2025, 3, 1)),))
    assert advise(decided(Kind.PROVIDER_MODIFY_DOMAIN), n).deadline is None


# --------------------------------------------------------------------------- input checks


def test_unknown_language_is_an_input_error() -> None:
    with pytest.raises(InputError) as exc:
        advise(decided(Kind.UNRELATED), notice(), lang="fr")
    assert exc.value.code == "invalid_field"


def test_malformed_now_is_an_input_error() -> None:
    with pytest.raises(InputError, match="ISO 8601"):
        advise(decided(Kind.UNRELATED), notice(), now="tomorrow")


def test_format_time_converts_to_shanghai() -> None:
    t = dt.datetime(2025, 12, 31, 16, 30, tzinfo=UTC)
    assert format_time(t, "zh") == "2026-01-01 00:30（北京时间）"


def test_default_advisor_is_loaded_once() -> None:
    assert Advisor.default() is Advisor.default()


def test_provider_table_matches_the_parser_providers() -> None:
    entities = pytest.importorskip("icp_notify.entities")
    known = set(entities.provider_aliases().values())
    table = set(Advisor.default().providers)
    assert table <= known, table - known


# --------------------------------------------------------------------------- Chinese spacing
# The spacing rule of the filled texts, as two regex passes, equals the rule written out as
# replacements (runs of spaces become one; a space before a closing or after an opening mark
# goes), on every short string over spaces, marks and text.


CLOSING = "，。：；、）！？”》"

OPENING = "（“《"


def _by_replacement(text: str) -> str:
    while "  " in text:
        text = text.replace("  ", " ")
    for mark in CLOSING:
        text = text.replace(" " + mark, mark)
    for mark in OPENING:
        text = text.replace(mark + " ", mark)
    return text.strip()


def test_fill_spacing_equals_the_replacement_rule() -> None:
    from icp_notify import advisor

    alphabet = [" ", "，", "）", "（", "《", "备", "a"]
    checked = 0
    for n in range(7):
        for chars in itertools.product(alphabet, repeat=n):
            text = "".join(chars)
            assert advisor._fill(text, {}, "zh") == _by_replacement(text), repr(text)
            checked += 1
    assert checked == sum(7**n for n in range(7))
    filled = advisor._fill("确认{number}：", {"number": "备案号 京ICP备12345678号 "}, "zh")
    assert filled == "确认备案号 京ICP备12345678号："


def test_every_shipped_text_fills_the_same_way() -> None:
    from icp_notify import advisor

    data = Advisor.default()._data
    values = {
        "provider": "示例云 ",
        "domain": " 域名 site1-example.cn ",
        "number": "备案号 京ICP备12345678号 ",
        "reachable_after": "2025-03-05 02:30（北京时间） ",
        "deadline": " 2025-03-05 23:59（北京时间）",
    }
    for entry in data.entry.values():
        texts = entry.zh
        for template in (texts.summary, texts.why, *texts.steps):
            expected = _by_replacement(template.format_map(values))
            assert advisor._fill(template, values, "zh") == expected


def test_references_kept_per_provider_are_the_ones_computed() -> None:
    from icp_notify.parse import parse

    advisor = Advisor.load(advisor_module.DEFAULT_PATH)  # fresh: nothing kept yet
    texts = [
        "【阿里云】您的网站 a-example.cn 已完成取消接入。",
        "【腾讯云】您的网站 b-example.cn 已完成取消接入。",
        "【某某云】您的网站 c-example.cn 已完成取消接入。",
        "您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    ]
    wanted_lists = [("miit", "provider"), ("provider",), ("miit_query", "miit"), ()]
    for _ in range(2):  # computed, then kept
        for text in texts:
            n = parse(text)
            for wanted, lang in itertools.product(wanted_lists, ("zh", "en")):
                got = advisor._references(wanted, n, lang)  # type: ignore[arg-type]
                assert got == advisor._new_references(wanted, n, lang)  # type: ignore[arg-type]
    assert 0 < len(advisor._refs) <= len(texts) * len(wanted_lists) * 2
