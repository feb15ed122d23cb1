"""Direct tests of :mod:`icp_notify.normalize` (text folding, HTML, forwarding wrappers, tails).

Parsing tests cover normalisation through :func:`icp_notify.parse.parse`; these pin each
function's own contract on realistic (made-up) notices, and that the cheap gates in front of its
steps change no result.
"""

from __future__ import annotations

import mailbox
import unicodedata
from pathlib import Path

import pytest
import regex
from _helpers import corpus_texts
from hypothesis import given, settings
from hypothesis import strategies as st

import icp_notify
from icp_notify import normalize as nz
from icp_notify.models import RawMessage
from icp_notify.normalize import (
    TRADITIONAL_TO_SIMPLIFIED,
    html_to_text,
    looks_like_html,
    normalize,
    normalize_text,
    strip_subject_prefixes,
)
from icp_notify.parse import parse

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


# --------------------------------------------------------------------------- the cheap gates
# Each gated step is compared with the same step written without its gate (the code as it was
# before the gates), on the corpus and on tricky strings: line breaks, invisible characters,
# traditional script, spaced-out CJK, signatures and opt-out tails near the window's edge.


def _ref_normalize_text(text: str) -> str:
    """normalize_text with every step run through the original regex-module gates."""
    line_breaks = regex.compile("[" + "".join(regex.escape(chr(c)) for c in nz._LINE_BREAKS) + "]")
    trad = regex.compile("[" + "".join(regex.escape(c) for c in nz.TRADITIONAL_TO_SIMPLIFIED) + "]")
    for _ in range(4):
        folded = text
        if line_breaks.search(folded):
            folded = folded.translate(nz._LINE_BREAKS)
        if nz._MAYBE_INVISIBLE.search(folded):
            folded = nz._drop_invisible(folded)
        if not unicodedata.is_normalized("NFKC", folded):
            folded = unicodedata.normalize("NFKC", folded)
        if trad.search(folded):
            folded = folded.translate(nz._TRAD_TABLE)
        if folded == text:
            break
        text = folded
    lines: list[str] = []
    for line in text.split("\n"):
        folded = " ".join(line.split())
        if nz._SPACED_RUN.search(folded):
            for _ in range(3):
                joined = nz._CJK_SPACES.sub("", folded)
                if joined == folded:
                    break
                folded = joined
        if folded or (lines and lines[-1]):
            lines.append(folded)
    return "\n".join(lines).strip()


def _ref_peel(body: str) -> tuple[str, str | None, str | None]:
    """_peel_signature_and_opt_out without its gates."""
    signature: str | None = None
    opt_out: str | None = None
    for _ in range(4):
        changed = False
        m = nz._SIGNATURE_HEAD.match(body)
        if m:
            signature = signature or m.group(1).strip()
            body = body[m.end() :]
            changed = True
        cut = max(0, len(body) - nz._TAIL_WINDOW)
        m = nz._OPT_OUT_TAIL.search(body, cut)
        if m and m.start() > 0:
            opt_out = opt_out or m["tail"]
            body = body[: m.start()]
            changed = True
        cut = max(0, len(body) - nz._TAIL_WINDOW)
        m = nz._SIGNATURE_TAIL.search(body, cut)
        if m and m.start() > 0:
            signature = signature or m.group(1).strip()
            body = body[: m.start()]
            changed = True
        if not changed:
            break
    return body.strip(), signature, opt_out


def _ref_looks_like_html(text: str) -> bool:
    return bool(nz._HTML_START.match(text)) and bool(nz._HTML_CLOSE.search(text))


_TRICKY = [
    "【阿里云】您的网站备案已通过。回T退订",
    "【阿里云】您的网站备案已通过。退订回T\n",
    "您的网站备案已通过【腾讯云】\n",
    "您的网站备案已通过【腾讯云】 \n ",
    "x" * 70 + "回复TD退订",
    "取消订阅回复Q" + "。" * 70,
    "不再接收请回复N!!",
    "请登录控制台查看详情。回T退订",
    "详情见官网,回复 TD 退订 。",
    "查看详情拒收请回复R",
    "您好 退订回复 T1\n",
    "欢迎使用TD退订",
    "取消接入成功,退订请回复 Q",
    "已取消接入回复退订",
    "内容 ab 退订 ",
    "取消订阅回复\u212a",
    "服务变更\u3000回复T退\u3000",
    "x" * 80 + "消息请回复TD取消",
    "拒收请回复R 【华为云】",
    "【京ICP备12345678号】已通过",
    "a\r\nb\x0bc\x0cd\x1ce\x1df\x1eg\x85h\u2028i\u2029j",
    "\u200b备\u200d案\ufeff\u00ad\x00\x07\tx\u2066y\u2069",
    "備案號\u3000變更 網站",
    "取 消 接 入 成 功 ， 网 站 : demo-site.cn , Dear user, see a.cn",
    "取\t消\t接\t入",
    "\ud800lone",
    "e\u0301 \u1100\u1161 ＡＢＣ１２３ ﬁ",
    "<p>备案</p>",
    "  <!-- x --> <div>备案</div>",
    "a < b and c > d",
]


def test_invisible_gate_premise() -> None:
    """Every code point _drop_invisible can remove makes str.isprintable() false."""
    for c in range(0x110000):
        ch = chr(c)
        if unicodedata.category(ch) in {"Cf", "Cc", "Cs"}:
            assert not ch.isprintable(), hex(c)


def test_gates_change_nothing_on_the_corpus() -> None:
    for text in corpus_texts() + _TRICKY:
        folded = nz.normalize_text(text)
        assert folded == _ref_normalize_text(text)
        assert nz.looks_like_html(text) == _ref_looks_like_html(text)
        assert nz._peel_signature_and_opt_out(folded) == _ref_peel(folded)
        assert nz._peel_signature_and_opt_out(text) == _ref_peel(text)


_PIECES = st.sampled_from(
    [
        *_TRICKY,
        "【",
        "】",
        "\n",
        " ",
        "\t",
        "退订",
        "回T",
        "拒收",
        "取消",
        "不再接收",
        "<",
        ">",
        "備",
    ]
)

_TEXTS = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=14).map("".join)


@settings(max_examples=500, deadline=None)
@given(_TEXTS)
def test_gates_change_nothing_on_random_text(text: str) -> None:
    folded = nz.normalize_text(text)
    assert folded == _ref_normalize_text(text)
    assert nz.looks_like_html(text) == _ref_looks_like_html(text)
    assert nz._peel_signature_and_opt_out(folded) == _ref_peel(folded)
    assert nz._peel_signature_and_opt_out(text) == _ref_peel(text)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["，", "Ａ", "\u0301", "\u3000", "ｶ", "ﾞ", "…", "①", "ﬁ", "e", "가"]),
            st.text(max_size=4),
        ),
        max_size=20,
    ).map("".join)
)
def test_nfkc_shortcut_is_nfkc(text: str) -> None:
    assert nz._nfkc(text) == unicodedata.normalize("NFKC", text)


def test_nfkc_shortcut_on_every_wide_character() -> None:
    for ch in nz._WIDE_NFKD:
        for text in (ch, "a" + ch + "\u0301", ch + "\u0308b", "备" + ch):
            assert nz._nfkc(text) == unicodedata.normalize("NFKC", text)


# --------------------------------------------------------------------------- CJK spacing
# The CJK-spacing step of normalize_text: spaced-out Chinese is joined, Latin text is kept.


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF).filter(
    lambda c: c not in TRADITIONAL_TO_SIMPLIFIED
)

LATIN_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(HAN, min_size=3, max_size=30), st.lists(st.sampled_from([" ", "  ", "\u3000", "\t"]))
)
def test_spaced_han_is_joined(chars: list[str], spaces: list[str]) -> None:
    """Spaced-out Han characters (three or more) are joined: the result is the characters."""
    sep = spaces[0] if spaces else " "
    assert normalize_text(sep.join(chars)) == "".join(chars)


@settings(max_examples=200, deadline=None)
@given(st.lists(LATIN_WORD, min_size=1, max_size=8))
def test_latin_spacing_is_kept(words: list[str]) -> None:
    """Spaces between Latin words, numbers and domains are never removed."""
    text = " ".join(words)
    assert normalize_text(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("接入备案取消，。,: 【】ab.cn1 \n")), max_size=60))
def test_idempotent_on_mixed_text(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("取 消 接 入 成 功", "取消接入成功"),
        ("接 入 备 案 审 核 通 过 , 网站 : a-demo.cn", "接入备案审核通过,网站: a-demo.cn"),
        ("【天 翼 云】 您 的 网 站 已 被 取 消 接 入 。", "【天翼云】您的网站已被取消接入。"),
        (
            "Dear user, your filing a-demo.cn is approved",
            "Dear user, your filing a-demo.cn is approved",
        ),
        ("备 案 号 浙ICP备2022004411号-1 保 持", "备案号浙ICP备2022004411号-1 保持"),
        ("网站 qingmu-demo.cn 已接入", "网站 qingmu-demo.cn 已接入"),
        ("域名 demo.cn\n状态 已接入", "域名 demo.cn\n状态 已接入"),
        ("2025年3月6日 上午9:00 网站 已接入", "2025年3月6日 上午9:00 网站 已接入"),
    ],
)
def test_examples(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


# --------------------------------------------------------------------------- quoted replies
# Quoted-reply unwrapping keeps a notice that merely contains ``>`` lines.


CANCELLED = "【阿里云】您的网站 lvshan-tea.cn 已完成取消接入。"

MAIL = (
    "From: notice@example-cloud.cn\n"
    "To: owner@lvshan-tea.cn\n"
    "Subject: =?utf-8?b?5Y+W5raI5o6l5YWl6YCa55+l?=\n"
    "Date: Wed, 05 Mar 2025 10:00:00 +0800\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "尊敬的用户，您的网站 lvshan-tea.cn 已完成取消接入，备案号 浙ICP备2031000456号-1。\n"
    ">From the console you can file the access again at a new provider.\n"
)


def test_quote_line_inside_a_notice_is_kept() -> None:
    notice = parse(CANCELLED + "\n> quoted line")
    assert notice.forward is None
    assert notice.text == "您的网站 lvshan-tea.cn 已完成取消接入。\n> quoted line"
    assert icp_notify.analyze(CANCELLED + "\n> quoted line").classification.situation == (
        "access_cancelled"
    )


def test_quoted_notice_under_a_plain_note_is_unwrapped() -> None:
    norm = normalize("帮我看看这条是什么意思\n> " + CANCELLED)
    assert norm.forward is not None
    assert norm.forward.wrapper == "quoted_reply"
    assert norm.body == "您的网站 lvshan-tea.cn 已完成取消接入。"


def test_attribution_line_still_unwraps_even_with_filing_words_around() -> None:
    text = (
        "这条备案短信我收到了\n在 2025年3月8日 09:00,阿里云 <notice@example-cloud.cn> 写道:\n> "
        + CANCELLED
    )
    norm = normalize(text)
    assert norm.forward is not None
    assert norm.forward.original_sender == "notice@example-cloud.cn"
    assert "这条备案短信" not in norm.body


def test_maildir_message_with_escaped_from_line_stays_access_cancelled(tmp_path: Path) -> None:
    from icp_notify.readers.mail import read_maildir

    folder = tmp_path / "Mail"
    mailbox.Maildir(folder, create=True).add(MAIL.encode())
    (raw,) = list(read_maildir(folder))
    assert isinstance(raw, RawMessage)
    report = icp_notify.analyze(raw)
    assert report.classification.situation == "access_cancelled"
    assert "取消接入" in report.notice.text


def test_mbox_message_with_quoted_from_line_stays_access_cancelled(tmp_path: Path) -> None:
    from icp_notify.readers.mail import read_mbox

    path = tmp_path / "inbox.mbox"
    # mboxrd: the body line ">From the console" is stored as ">>From the console"
    body = MAIL.replace("\n>From ", "\n>>From ")
    path.write_bytes(b"From notice@example-cloud.cn Wed Mar  5 10:00:00 2025\n" + body.encode())
    (raw,) = list(read_mbox(path))
    assert isinstance(raw, RawMessage)
    assert ">From the console" in raw.text
    report = icp_notify.analyze(raw)
    assert report.classification.situation == "access_cancelled"
