"""The fast paths of the tokenizer give exactly what jieba and the one-regex entity scan give."""

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


def _prepared(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _jieba_words(text: str) -> list[str]:
    return [w for w in tk._tokenizer().cut(text, HMM=False) if not w.isspace()]


def _fast_words(text: str) -> list[str]:
    out: list[str] = []
    tk._cutter().cut(text, out)
    return out


def _spans(matches: object) -> list[tuple[int, int, str | None]]:
    return [(m.start(), m.end(), m.lastgroup) for m in matches]  # type: ignore[attr-defined]


def test_same_as_jieba_and_the_combined_regex_on_the_corpus() -> None:
    texts = corpus_texts()
    assert len(texts) > 1000
    for raw in texts:
        text = _prepared(raw)
        assert _fast_words(text) == _jieba_words(text), raw
        assert _spans(tk._ENTITY_RE.finditer(text, timeout=1.0)) == _spans(
            _COMBINED.finditer(text)
        ), raw


_ALPHABET = (
    "取消接入备案信息已被变更新增网站域名审核通过管局的您详情请咨询服务提供商验证码号"
    "abcxyzICPicp0123456789.-:@/_ %+#&，。：；！？\n\t（）【】*"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_same_as_jieba_on_random_text(text: str) -> None:
    text = _prepared(text)
    assert _fast_words(text) == _jieba_words(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "京icp备2024012345号-3",
                "https://a.example.com/x",
                "www.example.cn",
                "a@example.com",
                "203.0.113.7",
                "2001:db8::1",
                "13812345678",
                "400-123-4567",
                "010-12345678",
                "2025年3月4日",
                "2025-03-04",
                "12:30",
                "验证码:483920",
                "code 12ab",
                "京公网安备11010502000001号",
                "京b2-20201234",
                "示例.中国",
                "123",
                "1.5",
                "备案",
                "，",
                " ",
                ".",
                ":",
                "-",
            ]
        ),
        max_size=12,
    )
)
def test_same_entities_as_the_combined_regex(pieces: list[str]) -> None:
    text = _prepared("".join(pieces))
    assert _spans(tk._ENTITY_RE.finditer(text, timeout=1.0)) == _spans(_COMBINED.finditer(text))
