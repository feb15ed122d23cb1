"""The tokenizer's shortcuts are exact: gated entity alternatives and the memo of cut blocks."""

from __future__ import annotations

import unicodedata

import regex
from _helpers import corpus_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify import tokenize as tk

_COMBINED = regex.compile(
    "|".join(f"(?P<{name}>{pattern})" for name, pattern in tk._ENTITY_PATTERNS),
    flags=regex.IGNORECASE | regex.VERSION0,
)

# Pieces that reach every alternative of every entity, and near misses of each.
_PIECES = [
    "京icp备2024012345号-3",
    "https://a.example.com/x",
    "www.example.cn",
    "a@example.com",
    "203.0.113.7",
    "1.2.3",
    "2001:db8::1",
    "fe80::",
    "1:2:3:4:5:6:7:8",
    "a:b:c:d:e:f:0:1",
    "1:2:3:4:5:6:7",
    "13812345678",
    "+86 138 1234 5678",
    "155****6357",
    "400-123-4567",
    "8001234567",
    "010-12345678",
    "0755-1234567",
    "2025年3月4日",
    "3 月 4 号",
    "2025-03-04",
    "2025/3/4",
    "2025.3.4",
    "12:30",
    "9:05:59",
    "验证码:483920",
    "code 12ab",
    "京公网安备11010502000001号",
    "京b2-20201234",
    "沪a1-123456",
    "示例.中国",
    "测试.公司",
    "abc.网络",
    "shop.example-demo.cn",
    "xn--fiqs8s.xn--55qx5d",
    "١٢٣",  # Arabic-Indic digits are ``\d`` too
    "٣:٤٥",
    "123",
    "1.5",
    "备案",
    "，",
    " ",
    ".",
    ":",
    "::",
    "-",
    "/",
    "月",
]


def _prepared(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _spans(matches: object) -> list[tuple[int, int, str | None]]:
    return [(m.start(), m.end(), m.lastgroup) for m in matches]  # type: ignore[attr-defined]


def _check_gates(text: str) -> None:
    """Every alternative whose gate fails has no match anywhere in ``text``."""
    has_digit = tk._DIGIT.search(text) is not None
    for name, alternatives in tk._ENTITY_ALTERNATIVES:
        for alternative, gate in zip(alternatives, tk._ENTITY_GATES[name], strict=True):
            if not gate(text, has_digit):
                pattern = regex.compile(alternative, flags=tk._FLAGS)
                assert pattern.search(text) is None, (name, alternative, text)


def test_patterns_are_the_joined_alternatives() -> None:
    for (name, pattern), (alt_name, alternatives) in zip(
        tk._ENTITY_PATTERNS, tk._ENTITY_ALTERNATIVES, strict=True
    ):
        assert name == alt_name
        assert pattern == "|".join(alternatives)
        assert len(tk._ENTITY_GATES[name]) == len(alternatives)


def test_gates_hold_on_the_corpus_and_the_pieces() -> None:
    for raw in [*corpus_texts(), *_PIECES]:
        _check_gates(_prepared(raw))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=10))
def test_gated_scan_is_the_combined_regex(pieces: list[str]) -> None:
    text = _prepared("".join(pieces))
    _check_gates(text)
    assert _spans(tk._ENTITY_RE.finditer(text, timeout=1.0)) == _spans(_COMBINED.finditer(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789١٢.:-/@a-fx年月日号备案icp中国公司网络 ", max_size=40))
def test_gated_scan_on_random_text(text: str) -> None:
    text = _prepared(text)
    _check_gates(text)
    assert _spans(tk._ENTITY_RE.finditer(text, timeout=1.0)) == _spans(_COMBINED.finditer(text))


def test_block_memo_is_bounded_and_exact() -> None:
    cutter = tk._cutter()
    memo = cutter._block_words
    assert memo.cache_info().maxsize == tk._BLOCK_MEMO_SIZE
    text = _prepared("您的备案信息已被变更,详情请咨询您的接入服务提供商。abc12 取消接入")
    memo.cache_clear()
    cold: list[str] = []
    cutter.cut(text, cold)
    warm: list[str] = []
    cutter.cut(text, warm)
    assert cold == warm
    assert memo.cache_info().hits >= 1
    assert cold == [w for w in tk._tokenizer().cut(text, HMM=False) if not w.isspace()]
    # more distinct blocks than the memo holds
    for i in range(tk._BLOCK_MEMO_SIZE + 50):
        cutter.cut(f"备案{i}号", [])
    assert memo.cache_info().currsize <= tk._BLOCK_MEMO_SIZE
    again: list[str] = []
    cutter.cut(text, again)
    assert again == cold


def test_split_drops_exactly_the_isspace_characters() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert "".join(every.split()) == "".join(ch for ch in every if not ch.isspace())


def test_active_regexes_follow_the_gates() -> None:
    scanner = tk._ENTITY_RE
    for raw in [*_PIECES, "".join(_PIECES), ""]:
        text = _prepared(raw)
        has_digit = tk._DIGIT.search(text) is not None
        want = []
        for name, alternatives in tk._ENTITY_ALTERNATIVES:
            mask = sum(
                1 << j for j, gate in enumerate(tk._ENTITY_GATES[name]) if gate(text, has_digit)
            )
            if mask:
                source = "|".join(a for j, a in enumerate(alternatives) if mask >> j & 1)
                want.append(f"(?P<{name}>{source})")
        assert [p.pattern for p in scanner._active(text)] == want
        assert [p.pattern for p in scanner._active(text)] == want  # from the memo
    assert len(scanner._active_for) <= tk._ACTIVE_MEMO_SIZE
