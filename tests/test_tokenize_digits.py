"""``tokenize.digit_stable``: two digit-stable texts that differ only in their ASCII digits have
the same tokens — checked on every corpus and hold-out text with its digits changed, and each
step of the docstring's proof checked on its own."""

from __future__ import annotations

import random
import unicodedata

import regex
from _helpers import corpus_records

from icp_notify.bounded import PROVEN_CHARS
from icp_notify.gates import digit_blind
from icp_notify.tokenize import (
    _ENTITY_ALTERNATIVES,
    _FLAGS,
    PLACEHOLDERS,
    _digit_sensitive,
    digit_stable,
    tokenize,
)

_DIGIT_RUN = regex.compile(r"[0-9]+")


def _texts() -> list[str]:
    """The text the model reads of every corpus and hold-out record (subject, newline, text)."""
    out = []
    for record in corpus_records():
        subject = record.get("subject")
        out.append(f"{subject}\n{record['text']}" if subject else record["text"])
    return out


def _variants(text: str, rng: random.Random) -> list[str]:
    """``text`` with its ASCII digits changed: shifted, at random, all one digit, phone-like."""
    return [
        text.translate(str.maketrans("0123456789", "3456789012")),
        _DIGIT_RUN.sub(lambda m: "".join(rng.choice("0123456789") for _ in m.group(0)), text),
        text.translate(str.maketrans("0123456789", "0000000000")),
        _DIGIT_RUN.sub(lambda m: ("13912345678" * 4)[: len(m.group(0))], text),
        _DIGIT_RUN.sub(lambda m: ("4001234567" * 4)[: len(m.group(0))], text),
    ]


def test_digit_stable_texts_of_one_mask_have_the_same_tokens() -> None:
    rng = random.Random(14)
    stable_pairs = unstable = differing = 0
    for text in _texts():
        if _DIGIT_RUN.search(text) is None:
            continue
        tokens = tokenize(text)
        stable = digit_stable(text)
        for variant in _variants(text, rng):
            if variant == text:
                continue
            same = tokenize(variant) == tokens
            if stable and digit_stable(variant):
                stable_pairs += 1
                assert same, (text, variant)
            else:
                unstable += 1
                differing += not same
    assert stable_pairs > 15000  # the proof covers most texts with digits
    assert unstable > 1000
    assert differing > 500  # phone numbers: the tokens did differ where the proof declined


def test_a_phone_number_makes_a_text_unstable() -> None:
    cases = [
        ("联系 13912345678 处理", "联系 03912345678 处理"),
        ("客服热线 400-123-4567", "客服热线 500-123-4567"),
        ("电话 010-12345678", "电话 110-12345678"),
        ("电话 +86 13912345678", "电话 +86 23912345678"),
    ]
    for phone, other in cases:
        assert tokenize(phone) != tokenize(other)
        assert not digit_stable(phone)
        assert digit_stable(other)


def test_only_the_phone_alternatives_are_searched() -> None:
    """Every other entity alternative is proven digit-blind (the e-mail's ``\\G`` included)."""
    sensitive = {pattern.pattern for pattern, _ in _digit_sensitive()}
    for name, alternatives in _ENTITY_ALTERNATIVES:
        for alternative in alternatives:
            blind = digit_blind(regex.compile(alternative, flags=_FLAGS))
            assert blind is (f"(?P<{name}>{alternative})" not in sensitive), alternative
            assert (name == "PHONE") is (not blind), alternative
    assert len(sensitive) == 3
    assert all(pattern.flags & _FLAGS == _FLAGS for pattern, _ in _digit_sensitive())
    assert set(PLACEHOLDERS) == {name for name, _ in _ENTITY_ALTERNATIVES}


def test_no_canonical_decomposition_holds_an_ascii_digit() -> None:
    """The proof's first step: NFKC composes an ASCII digit with nothing, and folds it to itself."""
    for cp in range(0x110000):
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and not decomposition.startswith("<"):
            assert not any(0x30 <= int(part, 16) <= 0x39 for part in decomposition.split()), cp
    digits = "0123456789"
    assert unicodedata.normalize("NFKC", digits).casefold() == digits


def test_every_ascii_digit_lies_inside_an_entity() -> None:
    """The proof's last step: no digit is left in the text between the entities."""
    texts = [t for t in _texts() if _DIGIT_RUN.search(t)]
    for text in texts[:3000]:
        assert not any(ch.isascii() and ch.isdigit() for ch in "".join(tokenize(text))), text


def test_long_and_digitless_texts() -> None:
    assert digit_stable("您的备案信息已被变更")
    assert digit_stable("")
    # NFKC lengthens "\ufdfa" to 18 characters: past the proof's cap, where a timeout applies
    long_text = "备案号 12345 " + "\ufdfa" * 4000
    assert len(unicodedata.normalize("NFKC", long_text)) > PROVEN_CHARS
    assert not digit_stable(long_text)
    assert digit_stable("备案号 12345 " + "备" * 20000)  # only the first MAX_CHARS are read
