"""The one tokenizer: placeholders, private jieba state, bundled dictionary; domains as one
placeholder; its fast paths give exactly what jieba and the one-regex entity scan give."""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

import jieba
import pytest
import regex
from _helpers import corpus_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify import entities
from icp_notify import tokenize as tk
from icp_notify.errors import DataFileError
from icp_notify.tokenize import PLACEHOLDERS, tokenize


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("备案号京ICP备2024012345号-3已注销", "⟨ICP⟩"),
        ("沪ICP备12345678号", "⟨ICP⟩"),
        ("京公网安备11010502000001号", "⟨GA⟩"),
        ("许可证京B2-20201234", "⟨LIC⟩"),
        ("请访问 https://beian.example-cloud.com/a?b=1 查看", "⟨URL⟩"),
        ("网站 shop.example-demo.cn 已接入", "⟨DOMAIN⟩"),
        ("服务器 203.0.113.7 已变更", "⟨IP⟩"),
        ("IPv6 2001:db8::1 已变更", "⟨IP⟩"),
        ("联系 155****6357", "⟨PHONE⟩"),
        ("客服 400-123-4567", "⟨PHONE⟩"),
        ("于2025年3月1日提交", "⟨DATE⟩"),
        ("于 2025-03-01 提交", "⟨DATE⟩"),
        ("09:12:00 收到", "⟨TIME⟩"),
        ("验证码：483920，请勿泄露", "⟨CODE⟩"),
        ("邮件 ops@example-demo.com", "⟨EMAIL⟩"),
        ("24小时内有效", "⟨NUM⟩"),
    ],
)
def test_entities_become_single_placeholder_tokens(text: str, placeholder: str) -> None:
    tokens = tokenize(text)
    assert placeholder in tokens
    # the entity's own characters are gone
    assert not any(ch.isdigit() for tok in tokens for ch in tok)


def test_words_around_an_icp_number_are_kept() -> None:
    tokens = tokenize("您的网站京ICP备2024012345号-3已取消接入")
    assert tokens[:4] == ["您", "的", "网站", "⟨ICP⟩"]
    assert "取消接入" in tokens


def test_filing_vocabulary_stays_whole() -> None:
    tokens = tokenize("您的接入备案已通过管局审核，原接入商将取消接入")
    for word in ("接入备案", "管局审核", "接入商", "取消接入"):
        assert word in tokens


def test_normalisation_and_no_whitespace_tokens() -> None:
    assert tokenize("ＩＣＰ  备案\n\t通过") == tokenize("icp 备案 通过")
    assert all(t.strip() for t in tokenize("a  b \n c"))


def test_deterministic_and_bounded() -> None:
    text = "尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
    assert tokenize(text) == tokenize(text)
    long = "备案" * (tk.MAX_CHARS)  # twice MAX_CHARS characters
    assert len("".join(tokenize(long))) == tk.MAX_CHARS


def test_regex_timeout_falls_back_to_plain_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    class Slow:
        def finditer(self, *_a: object, **_k: object) -> object:
            raise TimeoutError("regex timed out")

    monkeypatch.setattr(tk, "_ENTITY_RE", Slow())
    tokens = tokenize("网站 shop.example-demo.cn 已取消接入")
    assert "⟨DOMAIN⟩" not in tokens
    assert "取消接入" in tokens


def test_global_jieba_untouched_and_no_cache_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before_state = (jieba.dt.initialized, len(jieba.dt.FREQ), jieba.dt.total)
    tk._tokenizer.cache_clear()
    try:
        tokens = tokenize("您的备案信息已被变更")
    finally:
        tk._tokenizer.cache_clear()
    assert tokens
    assert (jieba.dt.initialized, len(jieba.dt.FREQ), jieba.dt.total) == before_state
    assert os.listdir(tmp_path) == []  # no jieba.*.cache written to the temp dir


def test_private_tokenizer_uses_bundled_dictionary() -> None:
    tok = tk._tokenizer()
    assert tok is not jieba.dt
    assert tok.initialized
    assert "取消接入" in tok.FREQ
    assert len(tok.FREQ) < 200_000  # not jieba's 349k-word default dictionary


def test_settings_record_dictionary_hash() -> None:
    s = tk.settings()
    assert s["dictionary_sha256"] == tk.dictionary_sha256()
    assert s["hmm"] is False
    assert set(s["placeholders"]) == set(tk.PLACEHOLDERS)


def test_bad_dictionary_line_is_a_data_file_error() -> None:
    with pytest.raises(DataFileError, match="line 2"):
        tk._parse_dictionary("备案 100 n\n坏行没有频率\n".encode(), "userdict.txt")
    with pytest.raises(DataFileError, match="no words"):
        tk._parse_dictionary(b"# only a comment\n", "userdict.txt")


# --------------------------------------------------------------------------- fast paths
# The tokenizer's shortcuts give exactly what jieba and the one-regex entity scan give.


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


# gated entity alternatives and the memo of cut blocks

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


def test_block_memo_is_exact() -> None:
    cutter = tk._cutter()
    memo = cutter._block_words
    text = _prepared("您的备案信息已被变更,详情请咨询您的接入服务提供商。abc12 取消接入")
    memo.cache_clear()
    cold: list[str] = []
    cutter.cut(text, cold)
    warm: list[str] = []
    cutter.cut(text, warm)
    assert cold == warm
    assert cold == [w for w in tk._tokenizer().cut(text, HMM=False) if not w.isspace()]
    # more distinct blocks than the memo holds
    for i in range(tk._BLOCK_MEMO_SIZE + 50):
        cutter.cut(f"备案{i}号", [])
    again: list[str] = []
    cutter.cut(text, again)
    assert again == cold


def test_split_drops_exactly_the_isspace_characters() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert "".join(every.split()) == "".join(ch for ch in every if not ch.isspace())


def _gates_one_by_one(text: str) -> tuple[bool, ...]:
    has_digit = tk._DIGIT.search(text) is not None
    return tuple(
        gate(text, has_digit)
        for name, _ in tk._ENTITY_ALTERNATIVES
        for gate in tk._ENTITY_GATES[name]
    )


def test_fused_gates_are_the_gates_on_the_corpus_and_the_pieces() -> None:
    texts = [*corpus_texts(), *_PIECES, "".join(_PIECES), "", "码", "code", "x.中国", "1::2"]
    held_some = [False] * len(_gates_one_by_one(""))
    for raw in texts:
        text = _prepared(raw)
        want = _gates_one_by_one(text)
        assert tk._held_gates(text) == want, raw
        held_some = [a or b for a, b in zip(held_some, want, strict=True)]
    assert all(held_some)  # every gate holds somewhere, so each is checked both ways


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789١.:-/@wcodeip年月码验证核动态公网安备中国司48 ", max_size=40))
def test_fused_gates_are_the_gates_on_random_text(text: str) -> None:
    for t in (text, _prepared(text)):
        assert tk._held_gates(t) == _gates_one_by_one(t)


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


# --------------------------------------------------------------------------- domains
# A domain under any TLD the parser knows is one placeholder, without its letters.


DOMAIN = PLACEHOLDERS["DOMAIN"]


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("您的网站 qinghe-notes.dev 已取消接入。", "qinghe-notes.dev"),
        ("Your site tidepool.io has been added to our ICP access records.", "tidepool.io"),
        ("域名 shanlan.hk 的接入备案已通过。", "shanlan.hk"),
        ("新增网站 lumen-lab.ai 备案已通过管局审核。", "lumen-lab.ai"),
        ("站点 notes.maple-yard.app 已变更接入信息。", "notes.maple-yard.app"),
        ("Website: aurora-lane.example has been approved.", "aurora-lane.example"),
        ("域名demo-site.test已转入我司。", "demo-site.test"),
        ("域名 xn--fiqs8s.xn--55qx5d 已注销。", "xn--fiqs8s.xn--55qx5d"),
        ("访问 示例商城.中国 查看。", "示例商城.中国"),
        ("网站 yunmu.cloud 已完成迁移。", "yunmu.cloud"),
    ],
)
def test_domain_becomes_one_placeholder_without_its_letters(text: str, domain: str) -> None:
    tokens = tokenize(text)
    assert DOMAIN in tokens
    labels = {label for label in domain.split(".") if label}
    assert not labels & set(tokens), tokens
    assert not any(label in token for token in tokens for label in labels if len(label) > 2)


def test_every_parser_tld_is_a_domain_for_the_tokenizer() -> None:
    # the tokenizer reads the parser's lists, so the two cannot drift apart
    for tld in {*entities.TLDS}:
        assert tokenize(f"见 shili-demo.{tld} 。") == ["见", DOMAIN, "。"], tld
    for tld in {*entities.CN_TLDS}:
        assert DOMAIN in tokenize(f"见 shili.{tld}"), tld


@pytest.mark.parametrize("text", ["readme.md", "photo.jpg", "setup.exe", "v1.2", "3.14"])
def test_file_names_and_numbers_are_no_domains(text: str) -> None:
    assert DOMAIN not in tokenize(f"附件 {text} 已上传")
