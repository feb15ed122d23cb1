"""End-to-end checks for the failure types of the fourth blind evaluation (our own texts).

One test per failure *type* (not per blind notice); every text here is written by us, with made-up
names, domains and numbers, and each type carries hard negatives so a fix cannot pass by
over-firing. See docs/model.md ("blind4") for the list of types.
"""

from __future__ import annotations

import pytest
from _helpers import Case, check_classified

import icp_notify

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
