"""The cheap gates in :mod:`icp_notify.normalize` change no result.

Each gated step is compared with the same step written without its gate (the code as it was
before the gates), on the corpus and on tricky strings: line breaks, invisible characters,
traditional script, spaced-out CJK, signatures and opt-out tails near the window's edge.
"""

from __future__ import annotations

import unicodedata

import regex
from _helpers import corpus_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify import normalize as nz


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
