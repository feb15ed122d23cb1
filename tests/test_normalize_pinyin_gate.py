"""``normalize_text`` searches for pinyin filing terms only in a text that may hold one.

The pinyin pattern begins with look-behinds, so ``re`` tries it at every position of every
notice; a text whose lower case holds none of the terms (or the first word of a split term)
cannot match and is no longer searched. These tests hold the shortcut to the full search: the
needles cover every term, the characters ``str.lower`` would miss are exactly those
``re.IGNORECASE`` folds to an ASCII letter, and on the corpus and on texts built to sit at the
edges the gated result equals the ungated one.
"""

from __future__ import annotations

import random
import re
import string

from _helpers import corpus_texts

from icp_notify import normalize


def _ungated(text: str) -> str:
    return normalize._PINYIN.sub(normalize._gloss_pinyin, text)


def _gated(text: str) -> str:
    return _ungated(text) if normalize._may_hold_pinyin(text) else text


def test_every_term_contains_a_needle() -> None:
    for term in normalize.PINYIN_TERMS:
        assert any(needle in term for needle in normalize._PINYIN_NEEDLES), term
    assert all(needle == needle.lower() for needle in normalize._PINYIN_NEEDLES)


def test_the_unsafe_characters_are_the_ones_ignorecase_folds_to_ascii_letters() -> None:
    letter = re.compile("[a-z]", re.IGNORECASE)
    folded = {
        chr(cp)
        for cp in range(128, 0x110000)
        if letter.fullmatch(chr(cp)) and not (chr(cp).lower().isascii())
    }
    assert folded == normalize._PINYIN_UNSAFE


def test_the_gate_never_skips_a_match_on_the_corpus() -> None:
    texts = [normalize.normalize_text(t) for t in corpus_texts()]
    for text in texts:
        assert _gated(text) == _ungated(text)


def test_the_gate_never_skips_a_match_at_the_edges() -> None:
    rng = random.Random(14)
    words = [
        "quxiao jieru",
        "QUXIAO_JIERU",
        "quxiaojieru",
        "qxjr",
        "XinZeng-WangZhan",
        "jİeru",
        "jıeru",
        "chuſhen",
        "GUANJU",
        "hecha",
        "jieru.example.com",
        "a.jieru",
        "@guanju",
        "zhenggai2",
        "已jieru",
    ]
    alphabet = string.ascii_letters + " _-.@/" + "接入备案已İıſ"
    samples = list(words)
    for _ in range(3000):
        parts = [rng.choice(words) if rng.random() < 0.5 else "" for _ in range(2)]
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 6)))
        samples.append(noise.join(parts) + "".join(rng.choice(alphabet) for _ in range(3)))
    matched = 0
    for text in samples:
        assert _gated(text) == _ungated(text), text
        matched += _ungated(text) != text
    assert matched > 100  # the samples do hold terms the search rewrites
    assert normalize.normalize_text("old IDC: quxiao jieru, jıeru") == "old IDC: 取消接入, 接入"


def test_a_term_written_with_a_dotted_capital_i_is_read_not_a_crash() -> None:
    # İ matches i under re.IGNORECASE but lower-cases to two characters: the term's lookup
    # raised KeyError from parse() before the fold
    from icp_notify.parse import parse

    assert parse("您的网站已 quxiao jİeru").text == "您的网站已 取消接入"
    assert normalize.normalize_text("JIERU ok, chuſhen") == "接入 ok, 初审"
