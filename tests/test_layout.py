"""The package's layout rules (docs/architecture.md), read statically with :mod:`ast`.

* no module imports a private name (``_name``) from another module — a private module
  (``icp_notify._version``) belongs to its package and may be imported inside it;
* no import circle among ``icp_notify``'s modules, counting the imports that run when a module is
  imported (module level, ``if``/``try`` blocks included; ``if TYPE_CHECKING:`` imports excluded);
* a module over :data:`MAX_LINES` lines is named in docs/architecture.md with the reason.

Nothing is imported: the source is parsed, so the checks are fast and see every module.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "icp_notify"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

MAX_LINES = 600
"""A module longer than this must say in docs/architecture.md why it is one module."""

# (importing module, imported module, name) → why it is allowed. Keep it short and explained.
PRIVATE_IMPORTS_ALLOWED: dict[tuple[str, str, str], str] = {}

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def modules() -> dict[str, Path]:
    """Dotted name → file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from … import`` statement reads from."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_time_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when a module is imported (not in functions or classes'
    methods; ``if TYPE_CHECKING:`` bodies excluded)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from import_time_imports(node.body)
            yield from import_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                yield from import_time_imports(block)
        elif isinstance(node, ast.With | ast.ClassDef):
            yield from import_time_imports(node.body)


def imported(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package modules a statement imports (a ``from`` import may name submodules)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    target = resolve(module, path, node)
    return [target, *(f"{target}.{a.name}" for a in node.names)]


def import_graph(*, deferred: bool = False) -> dict[str, set[str]]:
    """Module → the package modules it imports (at import time; with ``deferred`` also inside
    functions). Importing ``a.b.c`` imports the packages ``a.b`` and ``a`` too."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        tree = _tree(path)
        nodes = (
            [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
            if deferred
            else list(import_time_imports(tree.body))
        )
        for node in nodes:
            for target in imported(module, path, node):
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    name = ".".join(parts[:i])
                    # a module's own packages are being imported already: not an edge
                    if name in mods and name != module and not module.startswith(name + "."):
                        graph[module].add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def private_imports() -> dict[tuple[str, str, str], str]:
    """(importing module, imported module, private name) → ``file:line``, anywhere in a module."""
    out = {}
    mods = modules()
    for module, path in mods.items():
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = resolve(module, path, node)
            if target != "icp_notify" and not target.startswith("icp_notify."):
                continue
            for alias in node.names:
                name = alias.name
                if name.startswith("_") and not name.startswith("__") and target != module:
                    if f"{target}.{name}" in mods:  # a private submodule of target's package
                        continue
                    out[(module, target, name)] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return out


def test_no_module_imports_a_private_name_of_another() -> None:
    found = {k: v for k, v in private_imports().items() if k not in PRIVATE_IMPORTS_ALLOWED}
    assert not found, "\n".join(f"{v}: from {k[1]} import {k[2]}" for k, v in found.items())


def test_private_import_allowances_are_still_needed() -> None:
    # an allowance whose import has gone (e.g. after the batch branch is merged) must go too
    stale = [k for k in PRIVATE_IMPORTS_ALLOWED if k not in private_imports()]
    assert not stale, f"remove from PRIVATE_IMPORTS_ALLOWED: {stale}"


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_parse_and_the_email_reader_do_not_import_each_other() -> None:
    # not even inside functions: both use icp_notify.decoding
    graph = import_graph(deferred=True)
    assert "icp_notify.parse" not in graph["icp_notify.readers.email"]
    assert "icp_notify.decoding" in graph["icp_notify.readers.email"]
    assert "icp_notify.decoding" in graph["icp_notify.parse"]


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import x\n"
        "if TYPE_CHECKING:\n    import y\nelse:\n    import z\n"
        "try:\n    import w\nexcept ImportError:\n    import v\n"
        "def f():\n    import u\n"
    )
    names = [a.name for n in import_time_imports(tree.body) for a in n.names]
    assert names == ["TYPE_CHECKING", "x", "z", "w", "v"]
    up, here = ast.parse("from ..models import Notice\nfrom . import walk").body
    assert isinstance(up, ast.ImportFrom)
    assert isinstance(here, ast.ImportFrom)
    assert resolve("icp_notify.readers.email", Path("email.py"), up) == "icp_notify.models"
    assert resolve("icp_notify.readers.email", Path("email.py"), here) == "icp_notify.readers"
    assert resolve("icp_notify.readers", Path("__init__.py"), here) == "icp_notify.readers"


def long_modules() -> dict[str, int]:
    """Module file (relative to the repository) → line count, for modules over MAX_LINES."""
    out = {}
    for path in modules().values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            out[path.relative_to(ROOT).as_posix()] = n
    return out


def test_every_long_module_says_why_in_the_architecture_doc() -> None:
    doc = ARCHITECTURE.read_text(encoding="utf-8")
    section = doc.split("## Long modules", 1)[1].split("\n## ", 1)[0]
    reasons = dict(re.findall(r"^\| `([\w/.]+\.py)` \| (.+?) \|\s*$", section, re.M))
    missing = [m for m in long_modules() if not reasons.get(m, "").strip()]
    assert not missing, (
        f"add these to the '## Long modules' table of docs/architecture.md: {missing}"
    )


def test_the_long_module_table_names_only_long_modules() -> None:
    doc = ARCHITECTURE.read_text(encoding="utf-8")
    section = doc.split("## Long modules", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([\w/.]+\.py)` \|", section, re.M)
    assert listed, "the table is empty or unreadable"
    assert sorted(set(listed) - set(long_modules())) == [], "drop the modules that got short"


# --------------------------------------------------------------------------- tests

TESTS = ROOT / "tests"

#: Test files that check the repository or one rule across the package rather than one module.
WHOLE_PACKAGE_TESTS: dict[str, str] = {
    "test_layout.py": "these layout rules",
    "test_docstrings.py": "the docstring rules, over every module",
    "test_public_api.py": "icp_notify.__all__ and the cost of importing the package",
    "test_cold_start.py": "what a classification loads in a new process (docs/performance.md)",
    "test_readme.py": "the README's examples",
    "test_advice_docs.py": "docs/advice.md against its generator",
    "test_classification_docs.py": "docs/classification.md's examples",
    "test_parsing_docs.py": "docs/parsing.md's examples",
    "test_robustness.py": "bad input gives a typed error everywhere (library, service, CLI)",
    "batch/test_public_path.py": "batch goes through the library's public path only",
}


def misnamed_tests() -> list[str]:
    """Test files not named after a module of the package folder they mirror.

    ``tests/<folder>/test_<name>.py`` tests ``icp_notify/<folder>/<module>``, where ``<name>`` is
    ``<module>`` or starts with ``<module>_`` (``test_parse_fixtures.py`` tests ``parse``).
    """
    out = []
    for path in sorted(TESTS.rglob("test_*.py")):
        rel = path.relative_to(TESTS)
        if rel.parts[0] == "fixtures" or rel.as_posix() in WHOLE_PACKAGE_TESTS:
            continue
        folder = PACKAGE.joinpath(*rel.parts[:-1])
        names = {p.stem for p in folder.glob("*.py")} | {
            p.name for p in folder.glob("*/") if (p / "__init__.py").exists()
        }
        words = path.stem.removeprefix("test_").split("_")
        if not any("_".join(words[:i]) in names for i in range(1, len(words) + 1)):
            out.append(rel.as_posix())
    return out


def test_tests_mirror_the_package() -> None:
    wrong = misnamed_tests()
    assert not wrong, (
        f"name these after the module they test (tests/<folder>/test_<module>[_<aspect>].py "
        f"for icp_notify/<folder>/<module>.py), or fold them into its file: {wrong}"
    )


def test_the_whole_package_tests_exist() -> None:
    assert sorted(p for p in WHOLE_PACKAGE_TESTS if not (TESTS / p).is_file()) == []
