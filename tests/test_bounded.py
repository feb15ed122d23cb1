"""Every pattern we ship is bounded on adversarial text up to ``PROVEN_CHARS``: the proof that lets
the hot path search without a per-call timeout (:mod:`icp_notify.bounded`).

**Which patterns.** Every compiled pattern of every module the classify path loads (found by
running ``analyze`` and ``parse`` of an e-mail in a fresh process), read from the modules'
globals, plus what the pattern factories make: the entity table, the provider pattern, each of
the tokenizer's entity regexes, the shipped rules file (patterns, vetoes and senders) and
jieba's block pattern the tokenizer uses. No list of patterns is kept by hand:
:func:`test_every_compile_site_is_collected` reads the modules' source and fails on a
``regex.compile`` / ``re.compile`` (or a module-level ``regex.search(…)`` …) the collection
does not reach.

**Which inputs.** ``tests/_adversarial.py`` derives inputs of exactly ``PROVEN_CHARS``
characters from each pattern's parse tree (samples repeated, near misses, every quantifier
pumped to the length with and without what follows) and adds generic ones (runs of one
character, alternating separators, CJK and ASCII mixes).

**What must hold.** ``finditer`` over the whole input (it makes every attempt a ``search``,
``match``, ``sub`` or ``split`` would: at each position, after each match), a ``search`` from a
third of the way in for a pattern with ``\\G`` (whose match may start where a search starts),
and ``fullmatch`` for the patterns used with it, each finish within :data:`PROOF_TIMEOUT`
seconds of CPU (the ``regex`` module's own timeout, so a catastrophic pattern fails the test
instead of hanging it; the standard library's ``re`` patterns are single character classes,
bounded by the suite's ``--timeout``). The budget is generous on purpose: it separates linear
from quadratic at this length (a quadratic pattern needs billions of steps here), it is not a
speed measurement.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import regex
from _adversarial import inputs

from icp_notify.bounded import PROVEN_CHARS
from icp_notify.lazyre import LazyPattern

PACKAGE = Path(__file__).resolve().parent.parent / "icp_notify"

PROOF_TIMEOUT = 2.0
"""CPU seconds one operation may take on one input (the regex module's timeout)."""

_Pattern = re.Pattern[Any] | regex.Pattern[Any]

# Functions that compile patterns, and how the proof reaches what they make. A new compile site
# elsewhere fails test_every_compile_site_is_collected until it is added here (or made a
# module-level constant, which is collected on its own).
FACTORIES = {
    "icp_notify.entities._pattern": "every value of the entity table (each compiled on first "
    "use; entities._patterns() compiles and lists them all)",
    "icp_notify.providers._provider_pattern": "the provider pattern",
    "icp_notify.providers._provider_subpattern": "the provider pattern cut to the aliases a "
    "text holds: an alternation of some of its alternatives, none of which repeats anything "
    "(test_provider_alternatives_repeat_nothing), so each attempt is bounded by the aliases' "
    "length; the whole pattern is proven like the others",
    "icp_notify.providers._provider_index": "the key-character class",
    "icp_notify.tokenize._EntityScanner._pattern": "every entity with every subset of its "
    "alternatives",
    "icp_notify.rules._compile": "the shipped rules file; a user's file keeps its timeout",
    "icp_notify.rules._LazyPattern.compiled": "a shipped rule pattern compiled on first use "
    "(the same sources as _compile's; the proof compiles each through it)",
}

_PATH_SCRIPT = """
import sys, icp_notify
icp_notify.analyze("【阿里云】您的网站example.cn已接入，京ICP备12345678号。回T退订")
icp_notify.analyze("<html><body><p>备案已通过</p></body></html>", now="2026-01-15T12:00:00+08:00")
icp_notify.parse(b"From: a@b.cn\\r\\nTo: c@d.cn\\r\\nSubject: x\\r\\nMIME-Version: 1.0\\r\\n\\r\\nhi")
print("\\n".join(sorted(m for m in sys.modules if m.startswith("icp_notify"))))
"""


@functools.cache
def path_modules() -> tuple[str, ...]:
    """The modules ``analyze`` and ``parse`` load, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", _PATH_SCRIPT], capture_output=True, text=True, check=True
    )
    return tuple(done.stdout.split())


def _source(module: str) -> Path | None:
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    if path.exists():
        return path
    init = PACKAGE.parent / module.replace(".", "/") / "__init__.py"
    return init if init.exists() else None


def _patterns_in(value: Any, depth: int = 0) -> Iterator[_Pattern]:
    """Patterns held by a module global: itself, or inside a tuple, list, set or dict; a
    pattern declared with ``lazy_pattern`` (compiled on first use) is compiled here."""
    if isinstance(value, LazyPattern):
        value = value.resolve()
    if isinstance(value, re.Pattern | regex.Pattern):
        yield value
    elif depth < 2 and isinstance(value, tuple | list | set | frozenset):
        for item in value:
            yield from _patterns_in(item, depth + 1)
    elif depth < 2 and isinstance(value, dict):
        for item in value.values():
            yield from _patterns_in(item, depth + 1)


def _fullmatch_names(module: str) -> set[str]:
    """Module-level names called with ``.fullmatch(`` in the module's source."""
    path = _source(module)
    if path is None:
        return set()
    return {
        node.func.value.id
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "fullmatch"
        and isinstance(node.func.value, ast.Name)
    }


@functools.cache
def shipped_patterns() -> dict[str, tuple[_Pattern, bool]]:
    """Every pattern of the classify path: name → (pattern, used with ``fullmatch``)."""
    from icp_notify import entities, providers, tokenize
    from icp_notify.rules import default_rules

    found: dict[str, tuple[_Pattern, bool]] = {}
    seen: set[int] = set()

    def add(name: str, pattern: _Pattern, full: bool = False) -> None:
        if id(pattern) not in seen:
            seen.add(id(pattern))
            found[name] = (pattern, full)

    for module_name in path_modules():
        module = importlib.import_module(module_name)
        full = _fullmatch_names(module_name)
        for attr, value in list(vars(module).items()):
            for i, pattern in enumerate(_patterns_in(value)):
                add(f"{module_name}.{attr}" + (f"[{i}]" if i else ""), pattern, attr in full)
    for kind, pattern in entities._patterns().items():
        add(f"entities._patterns()[{kind}]", pattern)
    add("providers._provider_pattern()", providers._provider_pattern())
    add("providers._provider_index()[0]", providers._provider_index()[0])
    scanner = tokenize._ENTITY_RE
    for index, (entity, alternatives, _) in enumerate(scanner._entities):
        for mask in range(1, 1 << len(alternatives)):
            add(f"tokenize.{entity}[mask {mask}]", scanner._pattern(index, mask))
    add("tokenize: jieba.re_han_default", tokenize._cutter()._re_han)
    for rule in default_rules().rules:
        for fld in ("patterns", "unless", "senders"):
            for i, pattern in enumerate(getattr(rule, fld)):
                add(f"rules[{rule.id}].{fld}[{i}]", pattern, fld == "senders")
    return found


def _run(pattern: _Pattern, text: str | bytes, full: bool) -> None:
    """The proof's operations on one input (raises ``TimeoutError`` past the budget)."""
    pattern = getattr(pattern, "compiled", pattern)  # a shipped rule pattern compiled on first use
    if isinstance(pattern, regex.Pattern):
        list(pattern.finditer(text, timeout=PROOF_TIMEOUT))
        if "\\G" in str(pattern.pattern):  # a search from elsewhere starts a match there too
            pattern.search(text, len(text) // 3, timeout=PROOF_TIMEOUT)
        if full:
            pattern.fullmatch(text, timeout=PROOF_TIMEOUT)
    else:  # the stdlib has no timeout: these are single character classes
        list(pattern.finditer(text))
        if full:
            pattern.fullmatch(text)


@pytest.mark.parametrize("name", sorted(shipped_patterns()))
def test_every_shipped_pattern_is_bounded(name: str) -> None:
    pattern, full = shipped_patterns()[name]
    source = pattern.pattern
    is_bytes = isinstance(source, bytes)
    text_source = source.decode("latin-1") if is_bytes else source
    for text in inputs(text_source, pattern.flags, PROVEN_CHARS):
        subject: str | bytes = text.encode("utf-8")[:PROVEN_CHARS] if is_bytes else text
        try:
            _run(pattern, subject, full)
        except TimeoutError:
            pytest.fail(
                f"{name} took over {PROOF_TIMEOUT} s of CPU on {len(subject)} characters "
                f"starting {text[:60]!r}, ending {text[-20:]!r}: not bounded; rewrite it "
                "(no two quantifiers that can meet on the same characters, no run scanned "
                "again from each of its characters) and say so in the commit"
            )


# --------------------------------------------------------------------------- the collection

_REGEX_CALLS = frozenset(
    ("compile", "search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split")
)


def _regex_sites(module: str, source: str | None = None) -> list[tuple[str, bool, int, str]]:
    """``(scope, in a function, line, call)`` of each ``re``/``regex`` compile or module-level
    search in the module's source."""
    if source is None:
        path = _source(module)
        if path is None:
            return []
        source = path.read_text("utf-8")
    tree = ast.parse(source)
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name in ("re", "regex")
    }
    sites: list[tuple[str, bool, int, str]] = []

    def visit(node: ast.AST, scope: str, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom) and child.module in ("re", "regex"):
                sites.append((scope, in_function, child.lineno, f"from {child.module} import"))
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                function = in_function or not isinstance(child, ast.ClassDef)
                visit(child, f"{scope}.{child.name}", function)
                continue
            if isinstance(child, ast.Lambda):
                visit(child, f"{scope}.<lambda>", True)
                continue
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id in names
                and child.func.attr in _REGEX_CALLS
            ):
                call = f"{child.func.value.id}.{child.func.attr}"
                sites.append((scope, in_function, child.lineno, call))
            if (  # a pattern compiled on first use is a compile site like regex.compile
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Name)
                and child.func.id == "lazy_pattern"
            ):
                sites.append((scope, in_function, child.lineno, "lazy_pattern.compile"))
            visit(child, scope, in_function)

    visit(tree, module, False)
    return sites


def test_every_compile_site_is_collected() -> None:
    """A pattern the proof does not reach fails here: compile it at module level (it is then
    collected from the module's globals) or add its factory to FACTORIES and to the collection."""
    problems: list[str] = []
    collected = shipped_patterns()
    for module in path_modules():
        sites = _regex_sites(module)
        top_level = [s for s in sites if not s[1] and s[0] == module]
        compiled_here = [n for n in collected if n.startswith(f"{module}.")]
        if sum(call.endswith(".compile") for *_, call in top_level) > len(compiled_here):
            problems.append(f"{module}: a module-level pattern is not in the module's globals")
        for scope, in_function, line, call in sites:
            if not call.endswith(".compile"):
                problems.append(f"{module}:{line} {call}: a pattern outside the proof")
            elif (in_function or scope != module) and scope not in FACTORIES:
                problems.append(f"{module}:{line} {call} in {scope}: not collected")
    assert not problems, "\n".join(problems)


def test_the_collection_reaches_every_family() -> None:
    names = set(shipped_patterns())
    from icp_notify import tokenize
    from icp_notify.entities import _patterns
    from icp_notify.rules import default_rules

    assert {f"entities._patterns()[{kind}]" for kind in _patterns()} <= names
    proven = {id(p) for p, _ in shipped_patterns().values()}
    for rule in default_rules().rules:  # a pattern shared by two rules is one object, proven once
        assert all(id(p) in proven for p in (*rule.patterns, *rule.unless, *rule.senders))
    for module in ("normalize", "parse", "tokenize", "rules", "providers"):
        assert any(n.startswith((f"icp_notify.{module}.", module)) for n in names)
    assert id(tokenize._cutter()._re_han) in proven  # jieba's block pattern, kept as _RE_HAN
    assert "icp_notify.rules._LINK" in names


def test_the_proof_covers_the_input_caps() -> None:
    from icp_notify.parse import MAX_TEXT_CHARS

    assert PROVEN_CHARS >= MAX_TEXT_CHARS  # a text within the default cap is proven whole
    assert PROVEN_CHARS >= 16384  # parse reads an e-mail's head from the first 16 KiB
    assert PROVEN_CHARS >= 300  # extract_recipient reads the first 300 characters


def test_the_site_check_finds_what_it_looks_for() -> None:
    source = (
        "import regex as rx\n"
        "import re\n"
        "_A = rx.compile('a')\n"
        "def f(t):\n"
        "    return rx.compile('b').search(t)\n"
        "class C:\n"
        "    P = re.compile('c')\n"
        "def g(t):\n"
        "    return re.search('d', t)\n"
        "_E = lazy_pattern(globals(), rx.compile, 'e')\n"
        "def h():\n"
        "    return lazy_pattern(globals(), re.compile, 'f')\n"
    )
    sites = _regex_sites("icp_notify.demo", source)
    assert [(scope, line, call) for scope, _, line, call in sites] == [
        ("icp_notify.demo", 3, "rx.compile"),
        ("icp_notify.demo.f", 5, "rx.compile"),
        ("icp_notify.demo.C", 7, "re.compile"),
        ("icp_notify.demo.g", 9, "re.search"),
        ("icp_notify.demo", 10, "lazy_pattern.compile"),
        ("icp_notify.demo.h", 12, "lazy_pattern.compile"),
    ]


def test_provider_alternatives_repeat_nothing() -> None:
    """Each alias alternative of the provider pattern is literal text, optional spaces and
    lookarounds: no quantifier repeats more than once, so any alternation of some of them (what
    ``provider_gate`` compiles for a text) costs at most their total length per position."""
    from _adversarial import translate

    from icp_notify.providers import _provider_parts

    parser: Any = importlib.import_module("re._parser")
    constants: Any = importlib.import_module("re._constants")

    def repeats(items: Any) -> Iterator[int]:
        for op, av in items:
            if op.name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                yield av[1]
                yield from repeats(av[2])
            elif op is constants.SUBPATTERN:
                yield from repeats(av[3])
            elif op in (constants.ASSERT, constants.ASSERT_NOT):
                yield from repeats(av[1])
            elif op is constants.BRANCH:
                for alt in av[1]:
                    yield from repeats(alt)

    parts = _provider_parts()[1]
    assert len(parts) > 50
    for part in parts:
        assert all(most <= 1 for most in repeats(parser.parse(translate(part), 2).data)), part
