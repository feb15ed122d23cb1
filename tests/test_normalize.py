"""Direct tests of :mod:`icp_notify.normalize` (text folding, HTML, forwarding wrappers, tails).

Parsing tests cover normalisation through :func:`icp_notify.parse.parse`; these pin each
function's own contract on realistic (made-up) notices.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify.normalize import (
    TRADITIONAL_TO_SIMPLIFIED,
    html_to_text,
    looks_like_html,
    normalize,
    normalize_text,
    strip_subject_prefixes,
)

# --------------------------------------------------------------------------- normalize_text


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        # full width, traditional script and zero-width characters
        ("京ＩＣＰ備２０２４０１２３４５號－３\u200b\u200d", "京ICP备2024012345号-3"),
        # spaced-out CJK (OCR) is joined, full-width comma folded
        ("接 入 备 案 已 通 过 ， 请 登 录 控 制 台", "接入备案已通过,请登录控制台"),
        # spaces between Latin words and around domains stay (runs become one)
        (
            "Dear user, your site example.cn   has   been approved",
            "Dear user, your site example.cn has been approved",
        ),
        # line breaks of every kind become \n; at most one blank line is kept
        ("第一行\r\n\r\n\r\n\r\n第二行\u2028第三行", "第一行\n\n第二行\n第三行"),
        # the SMS signature brackets have no compatibility form and stay
        ("【阿里云】您的网站已接入", "【阿里云】您的网站已接入"),
    ],
)
def test_normalize_text_folds(raw: str, folded: str) -> None:
    assert normalize_text(raw) == folded


def test_every_traditional_variant_is_folded() -> None:
    text = "".join(TRADITIONAL_TO_SIMPLIFIED)
    assert normalize_text(text) == "".join(TRADITIONAL_TO_SIMPLIFIED.values())


_NOTICE_PIECES = st.sampled_from(
    [
        "【工信部】",
        "尊敬的用户",
        "您的備案信息",
        "已被變更",
        "，",
        "。",
        " ",
        "\n",
        "\r\n",
        "\u200b",
        "ＩＣＰ",
        "２０２４",
        "example.cn",
        "Dear user",
        "回T退订",
        "\t",
        "接 入 备 案",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_NOTICE_PIECES, st.text(max_size=4)), max_size=10).map("".join))
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "\r" not in once
    assert "\u200b" not in once


# --------------------------------------------------------------------------- subjects and HTML


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("转发: Fwd: Re: 备案变更通知", ("备案变更通知", True)),
        ("回复：FW：备案", ("备案", True)),
        ("备案变更通知", ("备案变更通知", False)),
    ],
)
def test_strip_subject_prefixes(subject: str, expected: tuple[str, bool]) -> None:
    assert strip_subject_prefixes(subject) == expected


def test_looks_like_html() -> None:
    assert looks_like_html("<html><body><p>您好</p></body></html>")
    assert not looks_like_html("a < b and c > d")
    assert not looks_like_html("您的网站已接入。")


def test_html_to_text_drops_scripts_and_keeps_the_paragraphs() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>尊敬的用户：</p><p>您的网站&nbsp;example.cn 已接入。<br>请登录控制台。</p></body></html>"
    )
    text = html_to_text(html)
    assert "alert" not in text
    assert "color" not in text
    assert text.splitlines() == ["尊敬的用户:", "您的网站 example.cn 已接入。", "请登录控制台。"]


# --------------------------------------------------------------------------- normalize


def test_signature_and_opt_out_are_taken_apart() -> None:
    n = normalize("【工信部】尊敬的用户张**，您的備案信息已被變更。回T退订")
    assert (n.signature, n.body, n.opt_out, n.forward) == (
        "工信部",
        "尊敬的用户张**,您的备案信息已被变更。",
        "回T退订",
        None,
    )
    assert n.defects == ()


def test_trailing_signature_and_other_opt_out_wording() -> None:
    assert normalize("尊敬的用户，您的网站已接入。【腾讯云】").signature == "腾讯云"
    n = normalize("您的网站已接入。退订回N")
    assert (n.body, n.opt_out) == ("您的网站已接入。", "退订回N")


def test_smsforwarder_template_is_unwrapped() -> None:
    n = normalize(
        "10690000123\n【腾讯云】您的网站备案已通过。拒收请回复R\n"
        "SIM1_中国移动_18800000000\nSubId：1\n2025-06-24 09:41:07\nXiaomi 13"
    )
    assert n.signature == "腾讯云"
    assert n.body == "您的网站备案已通过。"
    assert n.forward is not None
    assert n.forward.wrapper == "smsforwarder"
    assert n.forward.original_sender == "10690000123"
    assert (n.forward.sub_id, n.forward.received_text, n.forward.device) == (
        "1",
        "2025-06-24 09:41:07",
        "Xiaomi 13",
    )
    assert [d.code for d in n.defects] == ["forward_wrapper"]


def test_pasted_json_is_unwrapped() -> None:
    n = normalize(
        '{"from": "10690000123", "text": "【阿里云】您的备案已通过。回T退订",'
        ' "receive_time": "2025-03-01 10:00"}'
    )
    assert (n.body, n.signature, n.opt_out) == ("您的备案已通过。", "阿里云", "回T退订")
    assert n.forward is not None
    assert (n.forward.wrapper, n.forward.original_sender, n.forward.received_text) == (
        "json",
        "10690000123",
        "2025-03-01 10:00",
    )


def test_forwarded_mail_block_is_unwrapped() -> None:
    n = normalize(
        "---------- Forwarded message ---------\nFrom: 阿里云 <noreply@aliyun.com>\n"
        "Date: 2025-03-01\nSubject: 备案通知\n\n尊敬的用户，您的备案已通过。"
    )
    assert n.body == "尊敬的用户,您的备案已通过。"
    assert n.forward is not None
    assert (n.forward.wrapper, n.forward.original_sender) == ("email_forward", "noreply@aliyun.com")


def test_a_note_around_a_quoted_notice_is_dropped_and_said() -> None:
    n = normalize("好的收到\n\n> 【阿里云】您的备案已通过。")
    assert (n.body, n.signature) == ("您的备案已通过。", "阿里云")
    assert n.forward is not None
    assert n.forward.wrapper == "quoted_reply"
    assert [d.code for d in n.defects] == ["forward_wrapper", "forward_note_dropped"]


def test_html_body() -> None:
    n = normalize("<p>尊敬的用户：</p><p>您的网站已接入。</p>", html=True)
    assert n.body == "尊敬的用户:\n您的网站已接入。"


def test_the_body_is_already_normalised() -> None:
    for text in (
        "【工信部】尊敬的用户张**，您的備案信息已被變更。回T退订",
        "好的收到\n\n> 【阿里云】您的备案已通过。",
        "接 入 备 案 已 通 过 ， 请 登 录 控 制 台",
    ):
        body = normalize(text).body
        assert normalize_text(body) == body
