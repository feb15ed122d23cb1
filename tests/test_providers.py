"""The provider table's lookups (icp_notify.providers): the provider gate and its premise."""

from __future__ import annotations

import itertools
import string

import pytest
import regex

from icp_notify import providers

# --------------------------------------------------------------------------- the provider gate
# entities runs the provider pattern with only the aliases that can occur in the text; the premise
# of that gate is checked here against the regex module's own case tables.


_FLAGS = regex.IGNORECASE | regex.VERSION1


@pytest.fixture(scope="module")
def plain_non_ascii() -> str:
    """Every non-ASCII code point that :func:`providers.is_plain` accepts."""
    return "".join(
        chr(c)
        for c in range(0x80, 0x110000)
        if not 0xD800 <= c < 0xE000 and providers.is_plain(chr(c))
    )


def test_plain_characters_fold_to_no_ascii(plain_non_ascii: str) -> None:
    """The premise of the provider and "Dear" gates, checked on the regex module's tables.

    Under IGNORECASE | VERSION1 (full case folding) no plain non-ASCII character matches an
    ASCII character or a run of two or three ASCII letters (ß ~ "ss", ﬃ ~ "ffi" are not plain),
    an ASCII character matches only itself in the other case, and the non-ASCII characters of
    the aliases are plain and match only themselves among plain characters.
    """
    for a in string.printable:
        assert regex.search(regex.escape(a), plain_non_ascii, _FLAGS) is None, a
    pieces = [p for a in providers.provider_table().aliases for p in a.lower().split()] + ["dear"]
    runs = {m for p in pieces for m in regex.findall(r"[a-z0-9.]+", p)}
    letter_pairs = {a + b for a, b in itertools.product(string.ascii_lowercase, repeat=2)}
    pairs = letter_pairs | {r[i : i + 2] for r in runs for i in range(len(r) - 1)}
    triples = {r[i : i + 3] for r in runs for i in range(len(r) - 2)}
    for seqs in (pairs, triples):
        pattern = "|".join(sorted(regex.escape(q) for q in seqs))
        assert regex.search(pattern, plain_non_ascii, _FLAGS) is None
    for a in map(chr, range(128)):
        for b in map(chr, range(128)):
            folds = regex.fullmatch(regex.escape(a), b, _FLAGS) is not None
            assert folds == (a.lower() == b.lower()), (a, b)
    for alias in providers.provider_table().aliases:
        for ch in alias:
            if not ch.isascii():
                assert providers.is_plain(ch)
                assert [m.group() for m in regex.finditer(ch, plain_non_ascii, _FLAGS)] == [ch]
    for ch in "尊敬的亲爱您你好":
        assert providers.is_plain(ch)


def test_not_plain_characters_that_fold_to_ascii() -> None:
    for (
        ch
    ) in "\u017f\u212a\u0130\u0131\u00df\u1e9e\ufb01\ufb00\ufb06\u00b5\u00aa\u00ba\uff21\uff41":
        assert not providers.is_plain(ch)
    assert providers.is_plain("【阿里云】您好,“example.cn”—已接入 → ✅ 👍 ·")


def test_provider_gate_keeps_the_pattern_order() -> None:
    gate = providers.provider_gate("阿里云计算 阿里云 aliyun")
    assert gate is not None
    aliases, parts = providers._provider_parts()
    order = [aliases.index(a) for a in ("阿里云计算", "阿里云", "Aliyun")]
    assert gate.pattern == "|".join(parts[i] for i in sorted(order))
    assert providers.provider_gate("您的网站已接入") is None
    assert providers.provider_gate("ſ") is providers._provider_pattern()


def test_alias_in_signature_memo_is_exact() -> None:
    for sig in ("阿里云备案", "ALIYUN", "某某科技", "x" * 65 + "腾讯云", "腾讯云计算中心"):
        assert providers.provider_in_signature(sig) == providers._alias_inside(sig.lower())
