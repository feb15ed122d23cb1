"""The shipped table rules' tempered token is compiled as an exact, faster equivalent.

``rules._TEMPERED`` (one character of an item that no "not finished" word starts at) and
``rules._TEMPERED_FAST`` must accept the same characters at every position of every text. The
rewrite lets a character class take every character no veto word can start with, so the proof
is that ``_VETO_STARTS`` holds the first character of every veto word, read from the words'
own parse tree, under the rules' flags (IGNORECASE folds cases: checked on every code point).
Then whole shipped patterns, original and rewritten, are compared on the corpus and on texts
built to sit on the edges (veto words at item ends, case variants, separators).
"""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
import regex

from icp_notify import rules
from icp_notify.corpus import load_corpus

ROOT = Path(__file__).resolve().parent.parent


def _first_chars(items: Any) -> set[str]:
    """Characters a match of the parsed sequence ``items`` can start with (a literal or a set)."""
    c = importlib.import_module("re._constants")
    for op, av in items:
        if op in (c.AT, c.ASSERT_NOT):  # \b and look-behinds consume nothing
            continue
        if op is c.LITERAL:
            return {chr(av)}
        if op is c.IN:
            assert all(o is c.LITERAL for o, _ in av), av
            return {chr(v) for _, v in av}
        raise AssertionError(f"a veto word starting with {op} needs the proof extended")
    raise AssertionError("a veto word that consumes nothing")


def _veto_first_chars() -> set[str]:
    parser = importlib.import_module("re._parser")
    c = importlib.import_module("re._constants")
    ((branch, (_, alternatives)),) = parser.parse(rules._VETO_WORDS, 0).data
    assert branch is c.BRANCH
    firsts: set[str] = set()
    for alternative in alternatives:
        firsts |= _first_chars(alternative.data)
    return firsts


def test_the_start_set_holds_every_veto_words_first_character() -> None:
    starts = set(regex.sub(r"\\(.)", r"\1", rules._VETO_STARTS))
    firsts = _veto_first_chars()
    assert firsts <= starts, firsts - starts
    assert len(firsts) > 40  # the parse found the words, not an empty tree


def test_case_folding_never_lets_the_fast_class_take_a_possible_start() -> None:
    """Every code point: a character that a veto word's first character matches under the
    rules' flags (IGNORECASE: ``P`` for ``p``, ``ſ`` for ``s``…) is refused by the fast class,
    which is matched case-sensitively."""
    firsts = sorted(_veto_first_chars())
    can_start = regex.compile("|".join(map(regex.escape, firsts)), rules._FLAGS)
    fast = regex.compile(rules._FAST_CLASS, rules._FLAGS)
    assert rules._TEMPERED_FAST.startswith(f"(?>{rules._FAST_CLASS}|")
    everything = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    starts = {m.start() for m in can_start.finditer(everything)}
    taken = {m.start() for m in fast.finditer(everything)}
    assert len(starts) >= len(firsts)
    assert not starts & taken, [everything[i] for i in sorted(starts & taken)][:10]
    assert len(taken) > 1_000_000  # the class does take the ordinary characters


def _shipped_sources() -> list[str]:
    ruleset = rules.default_rules()
    return [
        p.pattern
        for rule in ruleset.rules
        for p in (*rule.patterns, *rule.unless)
        if rules._TEMPERED in p.pattern
    ]


def test_the_table_rules_use_the_token() -> None:
    sources = _shipped_sources()
    assert len(sources) >= 8
    assert all(rules._engine_source(s) != s for s in sources)
    assert rules._engine_source("取消接入") == "取消接入"


def _edge_texts() -> list[str]:
    words = [w for w in regex.split(r"\|", rules._VETO_WORDS) if regex.fullmatch(r"[^\\(\[]+", w)]
    rng = random.Random(14)
    items = [
        "新增网站 a.example-demo.cn 已完成",
        "变更备案 | www.x-demo.cn | 审核通过",
        "Access filing b-demo.cn DONE",
        "取消接入 c-demo.com 完成",
        "接入备案 成功",
    ]
    out: list[str] = []
    for _ in range(1500):
        parts = []
        for _ in range(rng.randint(1, 4)):
            item = rng.choice(items)
            if rng.random() < 0.6:
                at = rng.randint(0, len(item))
                word = rng.choice(words)
                word = word.upper() if rng.random() < 0.3 else word
                item = item[:at] + word + item[at:]
            parts.append(item)
        sep = rng.choice(["\n", "；", ";", "①", " ", "\n\n", "in\n"])
        out.append(sep.join(parts) + rng.choice(["", "?", "ſubmitted", "İn progress", " not"]))
    return out


@pytest.mark.parametrize("index", range(len(_shipped_sources())))
def test_rewritten_patterns_match_exactly_as_written(index: int) -> None:
    source = _shipped_sources()[index]
    written = regex.compile(source, rules._FLAGS)
    engine = regex.compile(rules._engine_source(source), rules._FLAGS)
    texts = [r.text for r in load_corpus()]
    for path in sorted((ROOT / "corpus" / "holdout").glob("*.jsonl")):
        texts += [json.loads(x)["text"] for x in path.read_text("utf-8").splitlines() if x.strip()]
    texts += _edge_texts()
    found = 0
    for text in texts:
        a, b = written.search(text), engine.search(text)
        assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), text
        found += a is not None
    assert found > 0  # the texts reach the pattern's matches, not only its failures
