"""End-to-end checks for the failure types of the fifth blind evaluation (our own texts).

One test per failure *type* (not per blind notice); every text here is written by us, with made-up
names, domains and numbers, and each type carries hard negatives so a fix cannot pass by
over-firing. See docs/model.md ("blind5 failure types (round 4)") for the list of types.
"""

from __future__ import annotations

import pytest
from _helpers import Case, check_classified

import icp_notify
from icp_notify.models import Situation

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
    ("[桃桃主机] 接入备案ok了吗？客户在问", "other", None),
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
