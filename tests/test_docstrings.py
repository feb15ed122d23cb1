"""Every public name of the package has a numpy-style docstring.

Read from the source with :mod:`ast` (nothing is imported, so heavy modules stay unloaded):
every public module-level function and class, and every public method of a public class,
needs a docstring with a summary line; a function or method with parameters needs a
``Parameters`` section naming each of them (a class documents its ``__init__`` parameters in
its own docstring or in ``__init__``'s); the main entry points need ``Examples`` (they run
under ``pytest --doctest-modules``).

A method that overrides a method of a base class defined in the package may leave the
parameters to the base's docstring (numpydoc's inherited docstrings). The subcommands'
``add_arguments``/``run`` follow the fixed command interface and are left out.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "icp_notify"

# Names allowed to miss a section (qualified name -> why). Keep it short and explained.
EXEMPT: dict[str, str] = {}

# Entry points whose docstrings must show a runnable example.
NEED_EXAMPLES = (
    "icp_notify.parse.parse",
    "icp_notify.classifier.classify",
    "icp_notify.advisor.advise",
    "icp_notify.pipeline.analyze",
    "icp_notify.pipeline.Pipeline.analyze",
    "icp_notify.pipeline.Pipeline.default",
    "icp_notify.batch.driver.label",
    "icp_notify.batch.frame.label_frame",
    "icp_notify.readers.email.read_email",
    "icp_notify.readers.mail.read_mbox",
    "icp_notify.readers.mail.read_maildir",
    "icp_notify.server.app.create_app",
    "icp_notify.normalize.normalize_text",
    "icp_notify.normalize.html_to_text",
    "icp_notify.rules.RuleSet.match",
    "icp_notify.textmodel.TextModel.predict_proba",
    "icp_notify.context.weigh",
)

COMMAND_INTERFACE = {"add_arguments", "run"}

_SECTION = re.compile(r"^[ \t]*([A-Z][A-Za-z ]+)[ \t]*\n[ \t]*-{3,}[ \t]*$", re.MULTILINE)

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def sections(doc: str) -> dict[str, str]:
    """Split a numpy-style docstring into ``{section title: body}``."""
    found = list(_SECTION.finditer(doc))
    out = {}
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(doc)
        out[m.group(1).strip()] = doc[m.end() : end]
    return out


def documented_names(doc: str) -> set[str]:
    """The parameter names listed in the ``Parameters`` section (``a, b : int`` names two)."""
    body = sections(doc).get("Parameters", "")
    indents = [len(line) - len(line.lstrip()) for line in body.splitlines() if line.strip()]
    if not indents:
        return set()
    base = min(indents)
    names: set[str] = set()
    for line in body.splitlines():
        if not line.strip() or len(line) - len(line.lstrip()) != base:
            continue
        head = line.split(" : ", 1)[0].rstrip(":").strip()
        names.update(n.strip().lstrip("*") for n in head.split(","))
    return names


def parameters(fn: FunctionNode) -> list[str]:
    """The parameters a caller passes (not ``self``/``cls``)."""
    a = fn.args
    names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return [n for n in names if n not in ("self", "cls")]


def is_property(fn: FunctionNode) -> bool:
    """Whether ``fn`` is a property getter or setter (documented like an attribute)."""
    decorators = [ast.unparse(d) for d in fn.decorator_list]
    return any(d.endswith(("property", ".setter", ".deleter")) for d in decorators)


def module_name(path: Path) -> str | None:
    """The dotted module name, or ``None`` for a private module."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if any(p.startswith("_") for p in parts[1:]):
        return None
    return ".".join(parts)


def trees() -> Iterator[tuple[str, ast.Module]]:
    """Every public module of the package, parsed."""
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name is not None:
            yield name, ast.parse(path.read_text(encoding="utf-8"))


def class_methods() -> dict[str, dict[str, str]]:
    """Class name → method name → docstring, over the whole package (for inherited docs)."""
    out: dict[str, dict[str, str]] = {}
    for _, tree in trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                methods = out.setdefault(node.name, {})
                for sub in node.body:
                    if isinstance(sub, FunctionNode):
                        methods[sub.name] = ast.get_docstring(sub) or ""
    return out


def public_names() -> Iterator[tuple[str, ast.AST, str | None]]:
    """``(qualified name, node, enclosing class or None)`` for every public definition."""
    for mod, tree in trees():
        is_command = mod.startswith("icp_notify.commands.")
        for node in tree.body:
            if isinstance(node, FunctionNode) and not node.name.startswith("_"):
                if not (is_command and node.name in COMMAND_INTERFACE):
                    yield f"{mod}.{node.name}", node, None
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                yield f"{mod}.{node.name}", node, None
                for sub in node.body:
                    if isinstance(sub, FunctionNode) and (
                        not sub.name.startswith("_") or sub.name == "__init__"
                    ):
                        yield f"{mod}.{node.name}.{sub.name}", sub, node.name


def base_names(cls: ast.ClassDef) -> list[str]:
    """The simple names of a class's bases (``abc.ABC`` → ``ABC``)."""
    return [ast.unparse(b).split(".")[-1].split("[")[0] for b in cls.bases]


def problems() -> list[str]:
    """Every gap, as ``"<qualified name>: <what is missing>"``."""
    methods = class_methods()
    classes = {
        f"{mod}.{n.name}": n
        for mod, tree in trees()
        for n in tree.body
        if isinstance(n, ast.ClassDef)
    }
    out = []
    for qual, node, owner in public_names():
        if qual in EXEMPT:
            continue
        if isinstance(node, ast.ClassDef):
            doc = ast.get_docstring(node) or ""
            if not doc.strip() or not doc.strip().splitlines()[0].strip():
                out.append(f"{qual}: no docstring with a summary line")
            continue
        assert isinstance(node, FunctionNode)
        doc = ast.get_docstring(node) or ""
        if node.name == "__init__":
            cls_qual = qual.rsplit(".", 1)[0]
            cls_doc = ast.get_docstring(classes[cls_qual]) or ""
            listed = documented_names(cls_doc) | documented_names(doc)
            missing = [p for p in parameters(node) if p not in listed]
            if missing:
                out.append(f"{cls_qual}: constructor parameters not documented: {missing}")
            continue
        if not doc.strip() or not doc.strip().splitlines()[0].strip():
            out.append(f"{qual}: no docstring with a summary line")
            continue
        params = parameters(node)
        if params and not is_property(node):
            listed = documented_names(doc)
            if owner is not None and not listed:
                cls_node = classes[qual.rsplit(".", 1)[0]]
                for base in base_names(cls_node):
                    listed |= documented_names(methods.get(base, {}).get(node.name, ""))
            missing = [p for p in params if p not in listed]
            if missing:
                out.append(f"{qual}: parameters not documented: {missing}")
        if qual in NEED_EXAMPLES and "Examples" not in sections(doc):
            out.append(f"{qual}: no Examples section")
    return out


def test_every_public_name_has_a_numpy_docstring() -> None:
    found = problems()
    assert not found, "\n".join(found)


def test_entry_points_exist() -> None:
    # a renamed entry point must not silently drop out of the Examples requirement
    known = {qual for qual, _, _ in public_names()}
    assert not [q for q in NEED_EXAMPLES if q not in known]


def test_the_checker_finds_gaps() -> None:
    fn = ast.parse(
        'def f(a, b):\n    """Sum.\n\n    Parameters\n    ----------\n    a : int\n        x\n    """\n'
    ).body[0]
    assert isinstance(fn, ast.FunctionDef)
    listed = documented_names(ast.get_docstring(fn) or "")
    assert listed == {"a"}
    assert [p for p in parameters(fn) if p not in listed] == ["b"]
    assert documented_names("S.\n\nParameters\n----------\nx, y : int\n    z\n") == {"x", "y"}


def test_exemptions_are_still_needed() -> None:
    known = {qual for qual, _, _ in public_names()}
    assert not [name for name in EXEMPT if name not in known], "drop names that are gone"
