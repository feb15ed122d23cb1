"""Channel inference for text given without a channel: a 【signature】 marks an SMS."""

from __future__ import annotations

import pytest

from icp_notify.models import Channel, RawMessage
from icp_notify.parse import SMS_SIGNED_MAX_CHARS, parse

SIGNED_HEAD = "【云栈科技】您的网站 shop-demo.cn 接入备案已审核通过，备案号保持不变。"
SIGNED_TAIL = "您的网站 shop-demo.cn 接入备案已审核通过，备案号保持不变。【云栈科技】"


@pytest.mark.parametrize("text", [SIGNED_HEAD, SIGNED_TAIL])
def test_a_short_signed_text_without_channel_is_an_sms(text: str) -> None:
    n = parse(text)
    assert n.channel is Channel.SMS
    assert n.signature == "云栈科技"


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [
        ("您的网站 shop-demo.cn 接入备案已审核通过。", {}),  # no signature: nothing to go on
        (SIGNED_HEAD, {"channel": "email"}),  # what the caller says wins
        (SIGNED_HEAD, {"sender": "beian@cloud.example"}),  # an e-mail sender says e-mail
        ("<p>【云栈科技】接入备案已审核通过</p>", {}),  # HTML is an e-mail body, not an SMS
    ],
)
def test_no_sms_guess_against_other_evidence(text: str, kwargs: dict[str, str]) -> None:
    assert parse(text, **kwargs).channel is not Channel.SMS


def test_a_subject_means_email_even_when_the_body_is_signed() -> None:
    n = parse(RawMessage(text=SIGNED_HEAD, subject="接入备案结果"))
    assert n.channel is Channel.EMAIL


def test_a_long_signed_text_stays_unknown() -> None:
    body = "您的网站 shop-demo.cn 接入备案已审核通过。" * (SMS_SIGNED_MAX_CHARS // 10)
    assert len(body) > SMS_SIGNED_MAX_CHARS
    assert parse("【云栈科技】" + body).channel is Channel.UNKNOWN
