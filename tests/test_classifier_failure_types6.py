"""End-to-end checks for the failure types of the sixth blind evaluation (our own texts).

One test per failure *type* (not per blind notice); every text here is written by us, with made-up
names, domains and numbers, and each type carries hard negatives so a fix cannot pass by
over-firing. See docs/model.md ("blind6 failure types (round 5)") for the list of types and the
mechanism: an operation and its final outcome in one clause free of progress words decides the
notice, and only then are the progress vetoes (初审, 已提交管局, 审核中 …) and the `other` rules
that win over approvals (progress, marketing, footer) set aside.
"""

from __future__ import annotations

import pytest

import icp_notify

Case = tuple[str, str, str | None]


def _check(text: str, situation: str, kind: str | None) -> None:
    c = icp_notify.classify(text)
    got = c.situation.value if c.situation is not None else None
    assert got == situation, (text, got, c.kind.value, c.ambiguous)
    if kind is not None:
        assert c.kind.value == kind, (text, c.kind.value)


COMPLETED_IN_PROGRESS_WORDS: list[Case] = [
    (
        "【松岚云】办理进度：新增网站 songlan-demo.cn 当前环节 管局审核，环节结果：已通过。",
        "new_domain",
        None,
    ),
    ("变更备案（网站名称）处理进度 ▸ 审核状态：审核通过，备案号未变。", "modify_domain", None),
    (
        "接入备案进度：资料初审 ✔ → 已报送通信管理局 → 通信管理局已核准。网站 yuelu-demo.cn 已迁入。",
        "access_domain",
        None,
    ),
    ("您的修改域名申请审批结论为同意，新域名 tingfeng-demo.com 已生效。", "modify_domain", None),
    (
        "取消接入进度：您申请的取消接入（站点 qingsha-demo.cn）已处理完毕。",
        "access_cancelled",
        None,
    ),
]

TWO_OPERATIONS_ONE_DONE: list[Case] = [
    (
        "两笔申请进展：1、变更负责人 已审核通过；2、新增网站 mingyue-demo.net 仍在管局审核中。",
        "modify_domain",
        None,
    ),
    (
        "您好，新增网站 caiyun-demo.cn 已审核通过（-4）；另一笔接入申请资料待补充。",
        "new_domain",
        None,
    ),
]

COMPLETED_IN_A_TABLE_ROW: list[Case] = [
    (
        "编号 | 事项 | 结果\nQ-17 | 新增接入（taoshan-demo.cn） | 通过\nQ-18 | 新增接入 | 待管局审核",
        "access_domain",
        None,
    ),
    (
        "站点 | 操作 | 状态\nhuimin-demo.cn | 取消接入 | 已生效\nhuimin-demo.com | 取消接入 | 处理中",
        "access_cancelled",
        None,
    ),
    ("单号 | 类型 | 结果\nMD-5 | 修改域名 | 已办结", "modify_domain", None),
]

APPROVAL_WRAPPED_IN_MARKETING: list[Case] = [
    (
        "【星澜云】恭喜！您的新站 xinglan-demo.cn 已在原主体下备案成功，续费云主机享7折，回T退订",
        "new_domain",
        None,
    ),
    (
        "【星澜云】您的变更备案已顺利通过🎉 双十二大促：对象存储低至1折，回TD退订",
        "modify_domain",
        None,
    ),
    (
        "【星澜云】您网站的接入备案已成功通过，欢迎入驻！新用户首年云主机仅需79元，回T退订",
        "access_domain",
        None,
    ),
]

REAL_PROGRESS: list[Case] = [
    ("您的新增网站备案初审通过，已提交管局，待管局审核。", "other", "progress"),
    ("变更备案进度：服务商审核结果：通过；下一步：报送通信管理局。", "other", "progress"),
    ("接入备案进度：资料初审 ✔ 短信核验 ✔ 管局审核中。", "other", "progress"),
    ("您的变更申请已通过我司审核，已报送管局，管局审核通过后将短信通知。", "other", "progress"),
    (
        "Your access filing passed our preliminary review and has been forwarded to the Communications Administration.",
        "other",
        "progress",
    ),
    (
        "编号 | 事项 | 结果\nQ-19 | 新增接入 | 初审通过\nQ-20 | 新增网站 | 待管局审核",
        "other",
        "progress",
    ),
]

REAL_MARKETING: list[Case] = [
    ("迁云季：接入备案我们帮您办，首年云主机只要99元，回T退订", "other", "marketing"),
    ("备案加急！新增网站、变更备案专人代办，下单立减100元，回T退订", "other", "marketing"),
]

OTHER_LOOKING_LIKE_CHANGES: list[Case] = [
    (
        "您的新增备案已获管局批准，主体备案号 蒙ICP备2025004433号，网站备案号 蒙ICP备2025004433号-1。",
        "other",
        "first_filing_approved",
    ),
    (
        "王总，公安备案那边的新站也批了：粤公网安备44030502001234号，记得挂到页脚。",
        "other",
        "public_security",
    ),
]

ENGLISH_STATUS: list[Case] = [
    (
        "[Qiyun] ICP modification for beiyuan-demo.cn approved. The new site name is live.",
        "modify_domain",
        None,
    ),
    (
        "Our access for xiyuan-demo.cn has been cancelled as you requested. If your new provider's access "
        "filing is not yet approved, the filing number may be withdrawn.",
        "access_cancelled",
        None,
    ),
]

OCR_AND_ASIDES: list[Case] = [
    ("截图文字：您的网站 ( chunshan-demo.cn ) 己取消接入。", "access_cancelled", None),
    ("您的取消接入申请（网站 gaoyuan-demo.cn，迁往他处）已办理完成。", "access_cancelled", None),
]


@pytest.mark.parametrize(("text", "situation", "kind"), COMPLETED_IN_PROGRESS_WORDS)
def test_completed_operation_in_progress_words(text: str, situation: str, kind: str | None) -> None:
    _check(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), TWO_OPERATIONS_ONE_DONE)
def test_two_operations_one_done(text: str, situation: str, kind: str | None) -> None:
    _check(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), COMPLETED_IN_A_TABLE_ROW)
def test_completed_in_a_table_row(text: str, situation: str, kind: str | None) -> None:
    _check(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), APPROVAL_WRAPPED_IN_MARKETING)
def test_approval_wrapped_in_marketing(text: str, situation: str, kind: str | None) -> None:
    _check(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), REAL_PROGRESS)
def test_real_progress_stays_progress(text: str, situation: str, kind: str | None) -> None:
    _check(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), REAL_MARKETING)
def test_real_marketing_stays_marketing(text: str, situation: str, kind: str | None) -> None:
    _check(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), OTHER_LOOKING_LIKE_CHANGES)
def test_first_filing_and_public_security_stay_other(
    text: str, situation: str, kind: str | None
) -> None:
    _check(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), ENGLISH_STATUS)
def test_english_status_lines(text: str, situation: str, kind: str | None) -> None:
    _check(text, situation, kind)


@pytest.mark.parametrize(("text", "situation", "kind"), OCR_AND_ASIDES)
def test_ocr_variant_and_aside_in_cancellation(text: str, situation: str, kind: str | None) -> None:
    _check(text, situation, kind)
