"""End-to-end checks for the failure types of the second blind evaluation (our own texts).

Each case is written by us from the failure *type* (OCR spacing, agency speech, forwarded generic
notices, English/key-value status lines, user comments around pasted notices, 公安, 注销 after a
cancellation); both sides are covered so a fix cannot pass by over-firing.
"""

from __future__ import annotations

import pytest

import icp_notify

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
