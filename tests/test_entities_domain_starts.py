"""The domain patterns are tried only where a domain can start, and find what ``finditer`` finds.

``entities._finditer`` runs ``domain`` and ``cn_domain`` with ``match`` at the starts the stdlib
patterns ``_DOMAIN_STARTS`` and ``_CN_DOMAIN_STARTS`` find (a maximal run of label characters,
of at most 63 or 32 of them, then "." and a label character) instead of ``finditer`` over every
position. That is exact when (1) the stdlib classes hold exactly the characters the patterns'
label classes match under their flags, (2) those lie inside each pattern's look-behind class,
and (3) whatever follows a label's "." in a match (a label, the last label or a TLD) begins
with a label character. These tests check (1)–(3) code point by code point against the regex
module, then compare the two scans on the corpus, on the proof's adversarial inputs and on
random text built from the characters at the edges.
"""

from __future__ import annotations

import random

import pytest
import regex
from _adversarial import inputs
from _helpers import corpus_texts

from icp_notify import entities
from icp_notify.bounded import PROVEN_CHARS
from icp_notify.normalize import normalize_text

_FLAGS = regex.IGNORECASE | regex.VERSION1
_EVERY = "".join(map(chr, range(0x110000)))


def _members(source: str, flags: int) -> set[str]:
    """Every code point the one-character class ``source`` matches under ``flags``."""
    pattern = regex.compile(source, flags)
    return set(pattern.findall(_EVERY))


def _stdlib_members(cls: str) -> set[str]:
    import re

    return set(re.compile(f"[{cls}]").findall(_EVERY))


@pytest.fixture(scope="module")
def label_chars() -> set[str]:
    return _stdlib_members(entities._LABEL_CLASS)


@pytest.fixture(scope="module")
def han_chars() -> set[str]:
    return _stdlib_members(entities._HAN_CLASS)


def test_the_label_class_is_the_patterns(label_chars: set[str]) -> None:
    assert label_chars == _members(r"[a-z0-9-]", _FLAGS)
    assert _members(r"[a-z0-9]", _FLAGS) <= label_chars
    # inside the domain look-behind class (so a start inside a run of them is no start)
    assert label_chars <= _members(r"[A-Za-z0-9_@./-]", _FLAGS)
    assert "." not in label_chars


def test_the_han_class_is_the_regex_modules(han_chars: set[str], label_chars: set[str]) -> None:
    assert han_chars == _members(r"\p{Han}", 0) == _members(r"\p{Han}", _FLAGS)
    cn_label = _members(r"[\p{Han}a-z0-9-]", _FLAGS)
    assert cn_label == han_chars | label_chars
    assert _members(r"[\p{Han}a-z0-9]", _FLAGS) <= cn_label
    assert cn_label <= _members(r"[\p{Han}A-Za-z0-9_@./-]", _FLAGS)


def test_a_tld_begins_with_a_label_character(han_chars: set[str], label_chars: set[str]) -> None:
    # (3) for cn_domain: its TLD alternation cannot match from a character outside the class.
    # One character of the text matches one or more of the TLD's: one (a case-insensitive
    # match of its first character), or more only for a character whose full case folding
    # is several characters (str.casefold's; each is probed with every TLD's rest after it).
    allowed = han_chars | label_chars
    tlds = [*entities.CN_TLDS, "cn", "com", "net"]
    firsts = regex.escape("".join(sorted({tld[0] for tld in tlds})))
    assert _members(f"[{firsts}]", _FLAGS) <= allowed
    alternation = regex.compile("(?:" + "|".join(sorted(tlds, key=len, reverse=True)) + ")", _FLAGS)
    multiple = [ch for ch in _EVERY if len(ch.casefold()) > 1]
    assert len(multiple) > 100
    for ch in multiple:
        for rest in {tld[1:] for tld in tlds} | {""}:
            if ch not in allowed:
                assert alternation.match(ch + rest) is None, (ch, rest)


def _old(name: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in entities._pattern(name).finditer(text)]


def _new(name: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in entities._finditer(name, text, [])]


def _same(text: str) -> int:
    found = 0
    for name in ("domain", "cn_domain"):
        want = _old(name, text) if "." in text else []
        assert _new(name, text) == want, (name, text)
        found += len(want)
    return found


def test_same_matches_on_the_corpus() -> None:
    found = 0
    for text in corpus_texts():
        found += _same(text) + _same(normalize_text(text))
    assert found > 500


@pytest.mark.parametrize("name", ["domain", "cn_domain"])
def test_same_matches_on_adversarial_text(name: str) -> None:
    source, flags = entities._sources()[name]
    for length in (40, 300, PROVEN_CHARS):
        for text in inputs(source, flags, length):
            _same(text)


def test_same_matches_on_random_text_at_the_edges() -> None:
    rng = random.Random(14)
    pieces = [
        "a", "Z", "0", "-", "_", "@", "/", ".", " ", "。", "备", "中国", "公司", "网络", "例子",
        "İ", "ı", "ſ", "\u212a", "ß", "ﬀ", "\U00020000", "\u3005", "\u3006", "cn", "com",
        "net", "xn--", "example", "a" * 31, "a" * 62, "b" * 64, "网" * 31, "网" * 33,
        "www.", ".cn", ".中国", "\n",
    ]  # fmt: skip
    found = 0
    for _ in range(6000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 16)))
        found += _same(text)
    assert found > 300


def test_a_long_text_keeps_the_timeout_path() -> None:
    text = "见 a.example.cn 与 例子.中国 " * (PROVEN_CHARS // 10)
    assert len(text) > PROVEN_CHARS
    assert _new("domain", text) == _old("domain", text)
    assert _new("cn_domain", text) == _old("cn_domain", text)
