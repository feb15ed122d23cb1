"""Adversarial inputs for a regular expression, derived from its own parse tree.

Used by ``tests/test_bounded.py``. A pattern is read with the standard library's parser
(after the :mod:`regex` module's ``\\p{…}`` classes are rewritten into ranges it reads); from the
tree come

* *samples*: a string the pattern would match, for a few choices of each alternation's branch —
  repeated up to the length (many matches), without their last character (many near misses), and
  with a separator between them;
* *pumps*: for every quantifier that may repeat more than once, the text before it, then its body
  repeated up to the length, with and without a near miss of what follows, and for a bounded one
  its body at the maximum count followed by a near miss, repeated — the classic inputs of catastrophic
  backtracking (``\\s*`` meeting ``\\s*``, a run scanned again from each of its characters, nested
  repeats);
* *generic* inputs shared by all patterns: runs of single characters, alternating separators
  (``a.``, ``1-``, ``a:`` …), CJK and ASCII mixes.

Every input is exactly ``length`` characters (a bytes pattern gets the UTF-8 bytes, cut).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

#: The regex module's Unicode properties used by our patterns, as ranges the stdlib parser reads
#: (enough to pick sample characters: a representative subset, not the full property).
PROPERTIES = {
    "Han": "\u4e00-\u9fff",
    "Cf": "\u200b\u200d\u2060\ufeff",
    "Cc": "\x01\x07\x1b",
    "Cs": "\ud800\udc00",
}

#: Characters tried, in order, when a class or a negated class needs a sample.
POOL = (
    "a", "A", "x", "z", "0", "1", "9", ".", "-", "_", " ", "\t", "\n", ":", "：", ",", "，",
    "。", "/", "@", "*", "【", "】", "<", ">", "!", "?", "=", "&", "%", "#", "+", "'", '"',
    "汉", "备", "中", "一", "\u3000", "(", ")", "[", "]", "{", "}", ";", "|", "\\", "~",
)  # fmt: skip

#: Units of the generic inputs (each repeated up to the length).
GENERIC_UNITS = (
    "a", "1", " ", "汉", "a.", "1-", "a:", "@a.", "<a", "汉a", "1汉", "【a】", "，a.", "a汉1.- :\n",
)  # fmt: skip

_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
_PARSE_FLAGS = 2 | 8 | 16
"""IGNORECASE, MULTILINE, DOTALL: the flags :mod:`re` and :mod:`regex` number alike (not VERBOSE)."""
_BRANCH_CHOICES = 2
"""Samples per pattern: sample ``k`` takes alternative ``k`` (mod its count) of every alternation
(a quantifier inside any alternative is reached by its own pump, which takes that alternative)."""


def translate(source: str) -> str:
    r"""``source`` as the stdlib parser reads it: ``\p{Name}`` / ``\P{Name}`` as classes, no ``\G``."""
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            nxt = source[i + 1]
            if nxt in "pP" and source.startswith("{", i + 2):
                end = source.index("}", i)
                name = source[i + 3 : end]
                if name not in PROPERTIES:
                    raise ValueError(f"add \\p{{{name}}} to tests/_adversarial.PROPERTIES")
                if in_class and nxt == "P":
                    raise ValueError(f"\\P{{{name}}} inside a class is not supported here")
                chars = PROPERTIES[name]
                out.append(chars if in_class else ("[^" if nxt == "P" else "[") + chars + "]")
                i = end + 1
                continue
            if nxt == "G" and not in_class:  # the search's start: an assertion, no text
                i += 2
                continue
            out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if source.startswith("^", i):
                out.append("^")
                i += 1
            if source.startswith("]", i):  # a literal "]" first in a class
                out.append("\\]")
                i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _in_category(category: Any, ch: str) -> bool:
    word = ch.isalnum() or ch == "_"
    return {
        _c.CATEGORY_DIGIT: ch.isdecimal(),
        _c.CATEGORY_NOT_DIGIT: not ch.isdecimal(),
        _c.CATEGORY_SPACE: ch.isspace(),
        _c.CATEGORY_NOT_SPACE: not ch.isspace(),
        _c.CATEGORY_WORD: word,
        _c.CATEGORY_NOT_WORD: not word,
    }.get(category, False)


def _in_class(items: Any, ch: str) -> bool:
    negate = hit = False
    code = ord(ch)
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            hit = hit or code == av or ch.lower() == chr(av).lower()
        elif op is _c.RANGE:
            hit = hit or av[0] <= code <= av[1]
        elif op is _c.CATEGORY:
            hit = hit or _in_category(av, ch)
    return hit != negate


def _char(op: Any, av: Any) -> str:
    """A character the single-character node ``(op, av)`` accepts ('' if none is found)."""
    if op is _c.LITERAL:
        return chr(av)
    if op is _c.NOT_LITERAL:
        return next(c for c in POOL if c != chr(av))
    if op is _c.ANY:
        return "a"
    if op is _c.CATEGORY:
        return next((c for c in POOL if _in_category(av, c)), "")
    own: list[str] = []
    for o, v in av:  # IN: its own literals and range ends first, then the pool
        if o is _c.LITERAL:
            own.append(chr(v))
        elif o is _c.RANGE:
            own.append(chr(v[0]))
    return next((c for c in (*own, *POOL) if _in_class(av, c)), "")


class _Pump:
    """Marks where the pumped quantifier stands in a sample; ``body`` is one repetition."""

    def __init__(self, body: str) -> None:
        self.body = body


class _Sampler:
    """Sample strings of a parsed pattern: each alternation's chosen branch, one quantifier pumped."""

    def __init__(self, parsed: Any) -> None:
        self.parsed = parsed
        self.choice: dict[int, int] = {}
        self.pump: int | None = None
        self.groups: dict[int, str] = {}
        self.branches: list[Any] = []
        self.repeats: list[tuple[Any, dict[int, int]]] = []
        self._index(parsed.data, {})

    def _index(self, items: Any, path: dict[int, int]) -> None:
        for node in items:
            op, av = node
            if op is _c.BRANCH:
                self.branches.append(node)
                for j, alt in enumerate(av[1]):
                    self._index(alt, {**path, id(node): j})
            elif op is _c.SUBPATTERN:
                self._index(av[3], path)
            elif op is _c.ATOMIC_GROUP:
                self._index(av, path)
            elif op.name in _REPEATS:
                if av[1] > 1:
                    self.repeats.append((node, path))
                self._index(av[2], path)
            elif op in (_c.ASSERT, _c.ASSERT_NOT):
                self._index(av[1], path)
            elif op is _c.GROUPREF_EXISTS:
                self._index(av[1], path)
                if av[2] is not None:
                    self._index(av[2], path)

    def _text(self, items: Any) -> str:
        return "".join(p for p in self._pieces(items) if isinstance(p, str))

    def _pieces(self, items: Any) -> list[str | _Pump]:
        out: list[str | _Pump] = []
        for node in items:
            op, av = node
            if op in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN, _c.CATEGORY):
                out.append(_char(op, av))
            elif op is _c.BRANCH:
                alts = av[1]
                out += self._pieces(alts[self.choice.get(id(node), 0) % len(alts)])
            elif op is _c.SUBPATTERN:
                inner = self._pieces(av[3])
                if av[0] is not None:
                    self.groups[av[0]] = "".join(p for p in inner if isinstance(p, str))
                out += inner
            elif op is _c.ATOMIC_GROUP:
                out += self._pieces(av)
            elif op.name in _REPEATS:
                low, _, body = av
                if id(node) == self.pump:
                    out.append(_Pump(self._text(body)))
                    continue
                inner = self._pieces(body)
                out += inner  # once, even when optional: samples reach what follows
                out += [p for p in inner if isinstance(p, str)] * (min(max(low, 1), 64) - 1)
            elif op is _c.ASSERT and av[0] == -1:
                out += self._pieces(av[1])  # a lookbehind's text stands before the match
            elif op is _c.GROUPREF:
                out.append(self.groups.get(av, ""))
            elif op is _c.GROUPREF_EXISTS:
                out += self._pieces(av[1])
            # AT (anchors), lookaheads and negative lookbehinds add no text
        return out

    def sample(self, choice: dict[int, int], pump: int | None = None) -> tuple[str, str, str]:
        """``(before, body, after)`` around the pumped quantifier (``body`` '' when none)."""
        self.choice, self.pump, self.groups = choice, pump, {}
        pieces = self._pieces(self.parsed.data)
        for i, p in enumerate(pieces):
            if isinstance(p, _Pump):
                before = "".join(x for x in pieces[:i] if isinstance(x, str))
                return before, p.body, "".join(x for x in pieces[i + 1 :] if isinstance(x, str))
        return "".join(x for x in pieces if isinstance(x, str)), "", ""


def fill(unit: str, length: int, *, head: str = "", tail: str = "") -> str:
    """``head``, then ``unit`` repeated, then ``tail``: exactly ``length`` characters."""
    room = max(0, length - len(head) - len(tail))
    body = unit * (room // len(unit) + 1) if unit else ""
    return (head + body[:room] + tail)[:length]


def derived(source: str, flags: int, length: int) -> Iterator[str]:
    """The samples and pumps of the pattern ``source`` (see the module docstring)."""
    parsed = _parser.parse(translate(source), flags & _PARSE_FLAGS)
    sampler = _Sampler(parsed)
    for k in range(_BRANCH_CHOICES):
        s, _, _ = sampler.sample({id(b): k for b in sampler.branches})
        if s:
            yield fill(s, length)  # many matches
            yield fill(s[:-1], length)  # many near misses
            if not k:
                yield fill(s + " ", length)  # separated
    for node, path in sampler.repeats:
        before, body, after = sampler.sample(path, id(node))
        if not body:
            continue
        yield fill(body, length, head=before)  # the body to the end: what follows never comes
        yield fill(body, length, head=before, tail=after[:-1])  # ... then a near miss
        if node[1][1] < _parser.MAXREPEAT:  # a bounded repeat at its maximum, near misses
            yield fill(before + body * min(node[1][1], 64) + after[:-1], length)


def generic(length: int) -> list[str]:
    """The generic inputs (see :data:`GENERIC_UNITS`)."""
    return [fill(unit, length) for unit in GENERIC_UNITS]


def inputs(source: str, flags: int, length: int) -> list[str]:
    """All adversarial inputs for a pattern: derived, then generic, without duplicates."""
    return list(dict.fromkeys([*derived(source, flags, length), *generic(length)]))
