"""Literal gates: substrings a regex pattern's every match must contain, found by static analysis.

:func:`literal_gate` reads a rule pattern with the standard library's parser and derives a cheap
necessary condition (one of these lower-cased strings occurs in the text); :class:`icp_notify.rules.RuleSet`
skips the search of a pattern whose gate fails on a notice, so results are unchanged and most
searches never run. ``docs/performance.md`` has the figures; ``tests/test_gates.py`` proves
on the corpus and on random text that gated and ungated matching agree.

Examples
--------
>>> literal_gate("已(?:完成)?取消(?:您的)?(?:网站|域名)?接入")
('取消',)
>>> index = gate_index([pattern_gates("取消.{0,4}接入")])
>>> sorted(present_strings(lowered("您的网站已取消接入"), index))
['取消', '接入']
"""

from __future__ import annotations

import functools
import importlib
import json
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import regex

from icp_notify.lazyre import lazy_pattern

__all__ = ["digit_blind", "literal_gate", "pattern_gates"]
# gate_index, present_strings and lowered serve RuleSet.match, not API; the gate table
# functions serve default_rules (and ``python -m icp_notify.gates``, which rewrites the table).

_QUANTIFIER_BRACES = regex.compile(r"\{\d*+,?\d*+\}")  # possessive: linear on a long digit run


_UNSAFE_FOR_LOWER = frozenset("\u0130\u017f")
"""The only characters IGNORECASE matches to an ASCII letter that ``str.lower`` does not map to it."""


def _gate_char(ch: str) -> str | None:
    """``ch`` as it appears in lower-cased text, when a gate may use it (else ``None``)."""
    if ch in "{}":
        return None
    if ch.isascii() and ch.isalpha():
        return ch.lower()
    return ch if ch.lower() == ch == ch.upper() else None


def _best(options: list[frozenset[str]]) -> frozenset[str] | None:
    """The most selective condition: longest shortest string, then fewest alternatives."""
    if not options:
        return None
    return max(options, key=lambda o: (min(map(len, o)), -len(o)))


def _required(items: Any) -> frozenset[str] | None:
    """The most selective of :func:`_options` (``None``: nothing can be said)."""
    return _best(_options(items))


def _options(items: Any) -> list[frozenset[str]]:
    """Strings one of which every match of a parsed (``re._parser``) sequence contains.

    ``None`` when nothing can be said. Only characters without case are used, so the
    condition holds under IGNORECASE; lookarounds count (their text is in the searched text).
    """
    c = importlib.import_module("re._constants")

    options: list[frozenset[str]] = []
    run = ""
    for op, av in items:
        ch = _gate_char(chr(av)) if op is c.LITERAL else None
        if ch is not None:
            run += ch
            continue
        if run:
            options.append(frozenset((run,)))
            run = ""
        cond: frozenset[str] | None = None
        if op is c.IN:
            chars = [_gate_char(chr(v)) for o, v in av if o is c.LITERAL]
            if len(chars) == len(av) and all(chars):
                cond = frozenset(ch for ch in chars if ch)
        elif op is c.BRANCH:
            alts = [_required(alt) for alt in av[1]]
            if alts and all(a is not None for a in alts):
                cond = frozenset().union(*(a for a in alts if a is not None))
        # a group, an atomic group, a repeat of at least one and a positive lookaround each
        # match their whole content, so every condition of that content holds for the match
        elif op is c.SUBPATTERN:
            options += _options(av[3])
        elif op is c.ATOMIC_GROUP:
            options += _options(av)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if av[0] >= 1:
                options += _options(av[2])
        elif op is c.ASSERT:
            options += _options(av[1])
        if cond:
            options.append(cond)
    if run:
        options.append(frozenset((run,)))
    return options


@functools.lru_cache(maxsize=4096)
def literal_gate(source: str) -> tuple[str, ...] | None:
    """Substrings one of which any match of the pattern ``source`` must contain (``None``: no gate).

    A cheap necessary condition checked before a search: when no string of the gate occurs in
    the lower-cased text, the pattern cannot match there and the search is skipped (results are
    unchanged). Gates are not used on a text holding one of :data:`_UNSAFE_FOR_LOWER`.
    The pattern is read with the standard library's parser; syntax it does not share with
    :mod:`regex` (``\\p{…}``, fuzzy ``{e<=1}``, POSIX classes …) gives no gate.

    Parameters
    ----------
    source : str
        A rule pattern.

    Returns
    -------
    tuple of str or None
        Lower-cased literal strings, sorted; ``None`` when no gate can be derived.

    Examples
    --------
    >>> literal_gate("已(?:完成)?取消(?:您的)?(?:网站|域名)?接入")
    ('取消',)
    >>> sorted(literal_gate("(?:验证码|校验码)"))
    ['校验码', '验证码']
    >>> literal_gate(r"ICP\\s*备")
    ('icp',)
    >>> literal_gate(r"\\p{Han}备") is None
    True
    """
    parsed = _parsed(source)
    if parsed is None:
        return None
    found = _required(parsed)
    return tuple(sorted(found)) if found else None


_MAX_GATES = 3


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> Any:
    """``source`` read by the standard library's parser (its ``data``), once; ``None`` when it
    uses syntax only :mod:`regex` knows (``\\p{…}``, fuzzy ``{e<=1}``, POSIX classes …)."""

    if "{" in _QUANTIFIER_BRACES.sub("", source):
        return None
    _parser = importlib.import_module("re._parser")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return _parser.parse(source, 0).data
    except Exception:  # syntax only the regex module knows: no gate
        return None


@functools.lru_cache(maxsize=4096)
def pattern_gates(source: str) -> tuple[frozenset[str], ...]:
    """All the conditions :func:`literal_gate` chooses from (each must hold), best first, up to 3.

    Parameters
    ----------
    source : str
        A rule pattern.

    Returns
    -------
    tuple of frozenset of str
        Each condition is a set of lower-cased strings one of which must occur; ``()`` when
        :func:`literal_gate` finds none.

    Examples
    --------
    >>> [sorted(g) for g in pattern_gates("备案.{0,6}年审")]
    [['备案'], ['年审']]
    >>> pattern_gates(r"\\p{Han}备")
    ()
    """
    best = literal_gate(source)
    if best is None:
        return ()
    parsed = _parsed(source)
    assert parsed is not None  # literal_gate found a gate in it
    # distinct options in pattern order, then a stable sort: the same gates in every process
    # (a set's order would depend on string hashing, so ties could rank differently)
    options = list(dict.fromkeys(_options(parsed)))
    ranked = sorted(options, key=lambda o: (-min(map(len, o)), len(o)))
    rest = [o for o in ranked if o != frozenset(best)]
    return (frozenset(best), *rest[: _MAX_GATES - 1])


def gate_index(gates: Any) -> dict[str, tuple[str, ...]]:
    """Gate strings by first character, for :func:`present_strings`.

    Parameters
    ----------
    gates : iterable of (tuple of frozenset of str) or None
        The gates of some patterns (as :func:`pattern_gates` gives them).

    Returns
    -------
    dict of str to tuple of str
    """
    index: dict[str, set[str]] = {}
    for gate in gates:
        for option in gate or ():
            for string in option:
                index.setdefault(string[0], set()).add(string)
    return {ch: tuple(sorted(strings)) for ch, strings in index.items()}


def present_strings(low: str | None, index: dict[str, tuple[str, ...]]) -> frozenset[str] | None:
    """The gate strings that occur in ``low`` (``None``: gates not usable on this text).

    Parameters
    ----------
    low : str or None
        The text as :func:`lowered` gives it.
    index : dict
        The strings by first character (:func:`gate_index`).

    Returns
    -------
    frozenset of str or None
    """
    if low is None:
        return None
    return frozenset(
        string for ch in index.keys() & set(low) for string in index[ch] if string in low
    )


def lowered(text: str) -> str | None:
    """``text.lower()`` for the literal gates, or ``None`` when the gates cannot be trusted on it.

    Parameters
    ----------
    text : str
        The text to be searched.

    Returns
    -------
    str or None
    """
    if not _UNSAFE_FOR_LOWER.isdisjoint(text):
        return None
    return text.lower()


GateTable = Mapping[str, tuple[frozenset[str], ...]]
"""Pattern source → its :func:`pattern_gates`."""

GATE_TABLE_NAME = "rules_gates.json"
"""The gate table shipped next to ``rules.toml`` (``icp_notify/data``), derived from it."""


def gate_table(sources: Iterable[str]) -> dict[str, tuple[frozenset[str], ...]]:
    """:func:`pattern_gates` of each pattern source (what the shipped gate table stores)."""
    return {source: pattern_gates(source) for source in sources}


def dump_gate_table(table: GateTable, rules_sha256: str) -> str:
    """The JSON text of ``table`` for the rules file whose bytes have this sha256 (one line per
    pattern, so a change of the rules shows as a small diff)."""
    lines = [
        json.dumps(source, ensure_ascii=False)
        + ": "
        + json.dumps([sorted(option) for option in table[source]], ensure_ascii=False)
        for source in sorted(table)
    ]
    head = json.dumps(rules_sha256)
    return '{"rules_sha256": ' + head + ', "gates": {\n' + ",\n".join(lines) + "\n}}\n"


def read_gate_table(path: Path, rules_sha256: str) -> dict[str, tuple[frozenset[str], ...]] | None:
    """The table at ``path`` when derived from the rules file with this sha256, else ``None``
    (missing, unreadable, malformed or stale: the caller then computes the gates)."""
    from icp_notify.artefacts import read_derived

    doc = read_derived(path, "rules_sha256", rules_sha256)
    if doc is None:
        return None
    gates = doc.get("gates")
    if not isinstance(gates, dict):
        return None
    table: dict[str, tuple[frozenset[str], ...]] = {}
    for source, options in gates.items():
        if not (
            isinstance(options, list)
            and len(options) <= _MAX_GATES
            and all(_is_option(option) for option in options)
        ):
            return None
        table[source] = tuple(frozenset(option) for option in options)
    return table


def _is_option(option: Any) -> bool:
    """A gate option as the table stores it: a non-empty list of non-empty strings."""
    return (
        isinstance(option, list) and bool(option) and all(isinstance(s, str) and s for s in option)
    )


def _write_shipped_table() -> tuple[Path, Path]:
    """Rewrite the shipped gate table and the JSON copy of the rules file (``rules_parsed.json``)
    from the shipped rules file; return their paths."""
    import hashlib
    import tomllib

    from icp_notify.rules import PARSED_RULES_NAME, RuleSet, default_rules, dump_parsed_rules

    rules_path = Path(default_rules().path)
    data = rules_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    rules = RuleSet.load(rules_path)  # compiled and validated: every source is a real pattern
    sources = [p.pattern for r in rules.rules for p in (*r.patterns, *r.unless)]
    out = rules_path.with_name(GATE_TABLE_NAME)
    out.write_text(dump_gate_table(gate_table(sources), digest), encoding="utf-8")
    parsed = rules_path.with_name(PARSED_RULES_NAME)
    document = tomllib.loads(data.decode("utf-8"))
    parsed.write_text(dump_parsed_rules(document, digest), encoding="utf-8")
    return out, parsed


_DIGITS = frozenset(range(ord("0"), ord("9") + 1))
_PROPERTY = lazy_pattern(
    globals(), regex.compile, r"\\(?:[pP]\{[^{}0-9\\]*\}|[pP][A-Za-z])|\\.", regex.DOTALL
)
"""An escape, a ``\\p{…}`` property among them (:func:`digit_blind`; compiled on first use, not
when the rules' import brings this module in)."""


def _uniform_range(low: int, high: int) -> bool:
    """Whether ``[low-high]`` holds all ASCII digits or none."""
    return high < ord("0") or low > ord("9") or (low <= ord("0") and high >= ord("9"))


def _blind_items(items: Any, c: Any) -> bool:
    """Whether a parsed (``re._parser``) sequence treats all ASCII digits alike."""
    for op, av in items:
        if op in (c.LITERAL, c.NOT_LITERAL):
            if av in _DIGITS or av == ord("{"):  # a brace: maybe regex syntax re reads as text
                return False
        elif op is c.IN:
            for item_op, item_av in av:
                if item_op in (c.LITERAL, c.NOT_LITERAL):
                    if item_av in _DIGITS:
                        return False
                elif item_op is c.RANGE:
                    if not _uniform_range(*item_av):
                        return False
                elif item_op not in (c.NEGATE, c.CATEGORY):
                    return False
        elif op is c.BRANCH:
            if not all(_blind_items(alt, c) for alt in av[1]):
                return False
        elif op is c.SUBPATTERN:
            if not _blind_items(av[3], c):
                return False
        elif op is c.ATOMIC_GROUP:
            if not _blind_items(av, c):
                return False
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if not _blind_items(av[2], c):
                return False
        elif op in (c.ASSERT, c.ASSERT_NOT):
            if not _blind_items(av[1], c):
                return False
        elif op not in (c.ANY, c.AT, c.CATEGORY):
            return False  # a back-reference, a conditional, anything else: not proven
    return True


def digit_blind(pattern: regex.Pattern[str]) -> bool:
    """Whether ``pattern`` provably cannot tell one ASCII digit from another.

    Read with the standard library's parser (as :func:`literal_gate` does): every literal is
    not a digit, every class holds all ASCII digits or none (``\\d``, ``\\w``, ``[a-z0-9]``,
    ``[^，。]``; a ``\\p{…}`` property without a digit in its name, which holds the ten ASCII
    digits alike, is read as a letter), and there is no back-reference or conditional; anchors
    are positions (``\\G``, where the search began, is read as ``\\A``). Then searching two
    texts that differ only in which ASCII digit stands at some positions, from the same
    position, makes the same decision at every step, so both match at the same spans.
    Anything the parser cannot read, a ``VERSION1`` pattern or a literal brace (perhaps
    ``regex``'s fuzzy syntax) counts as not blind.

    Parameters
    ----------
    pattern : regex.Pattern
        A compiled pattern.

    Returns
    -------
    bool

    Examples
    --------
    >>> digit_blind(regex.compile(r"核验码\\s*[:：]?[a-z0-9]{4,8}(?![a-z0-9])"))
    True
    >>> digit_blind(regex.compile(r"\\p{Han}icp\\d{6,12}"))
    True
    >>> digit_blind(regex.compile(r"(?:\\G|(?<![a-z0-9]))[a-z0-9.]+@"))
    True
    >>> [digit_blind(regex.compile(p)) for p in (r"1[3-9]\\d{9}", r"号-1(?!\\d)", r"(\\d)\\1", "[0-5]")]
    [False, False, False, False]
    """
    if pattern.flags & regex.VERSION1:
        return False
    parser = importlib.import_module("re._parser")
    constants = importlib.import_module("re._constants")

    def plain(m: regex.Match[str]) -> str:
        token = m.group(0)
        if token == "\\G":  # where the search began: a position, which both searches share
            return "\\A"
        return "\u4e00" if token[1] in "pP" else token  # a property: one letter, no digit

    source = _PROPERTY.sub(plain, pattern.pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. a nested set re reads otherwise than regex
            parsed = parser.parse(source)
    except (Exception, FutureWarning, DeprecationWarning):  # regex-only syntax: not proven
        return False
    return _blind_items(parsed, constants)


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool, run after editing rules.toml
    for written in _write_shipped_table():
        print(f"wrote {written}")
