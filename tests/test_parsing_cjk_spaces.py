"""The CJK-spacing step of ``normalize_text``: spaced-out Chinese is joined, Latin text is kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify.normalize import TRADITIONAL_TO_SIMPLIFIED, normalize_text

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
