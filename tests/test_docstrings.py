"""Docstrings that help: full numpy docstrings with examples on the public API, one line elsewhere.

Read from the source with :mod:`ast` (nothing is imported, so heavy modules stay unloaded).

* **The public API** is every name in the ``__all__`` of a public module (no ``_`` in its dotted
  path), checked in the module that defines it (a re-export is checked where it is defined), and
  every name of the package's own ``icp_notify.__all__``. A function there needs a summary line,
  a ``Parameters`` section naming each parameter and an ``Examples`` section (they run under
  ``pytest --doctest-modules``); a class needs a summary line, its constructor's parameters
  documented (in its docstring or ``__init__``'s) and ``Examples`` — except an enumeration or an
  exception, whose members or parameters say enough, or a protocol, which its users' examples show. The public methods of an API class need a
  summary line and their ``Parameters``; the main entry points (:data:`NEED_EXAMPLES`) need
  ``Examples`` too.
* **Everything else** — a helper without ``_`` that is not in ``__all__`` — needs one summary
  line; more is welcome, not demanded. Private helpers (``_name``) are not checked: one line is
  enough for them.

A method that overrides a method of a base class defined in the package may leave the
parameters to the base's docstring (numpydoc's inherited docstrings). The subcommands'
``add_arguments``/``run`` follow the fixed command interface and are left out, and the programs
built on the library (the CLI, ``icp_notify.server``, ``icp_notify.alerts``: :data:`NOT_API`) are
not library API.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "icp_notify"

# Names allowed to miss a section (qualified name -> why). Keep it short and explained.
_TRAINS = "trains a model (minutes, the train extra); tests/test_training.py runs it"
_LOWO = "leave-one-writer-out trains a model per writer (minutes); tests/test_training.py runs it"
EXEMPT: dict[str, str] = {
    "icp_notify.training.FittedModel": _TRAINS,
    "icp_notify.training.fit": _TRAINS,
    "icp_notify.training.export": _TRAINS,
    "icp_notify.training.train": _TRAINS,
    "icp_notify.training.TrainResult": _TRAINS,
    "icp_notify.training.build_dictionary": "rewrites the shipped dictionary from jieba's",
    "icp_notify.training.load_examples": "tokenizes the whole corpus; examples_from_records shows it",
    "icp_notify.crossval.WriterFold": _LOWO,
    "icp_notify.crossval.leave_one_writer_out": _LOWO,
    "icp_notify.crossval.predict_record": "needs a corpus record and a classifier; gold_of shows one",
    "icp_notify.batch.workers.label_parallel": (
        "starts worker processes (seconds); tests/batch compares 1 and 2 workers row by row"
    ),
    # REMOVE AFTER MERGING the context branch (issue 13), which reworks icp_notify/context.py
    "icp_notify.context.ContextVerdict": "context branch reworks it",
}

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


@functools.cache
def _parsed() -> tuple[tuple[str, ast.Module], ...]:
    """Every public module of the package, parsed once per test session (read-only)."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name is not None:
            out.append((name, ast.parse(path.read_text(encoding="utf-8"))))
    return tuple(out)


def trees() -> Iterator[tuple[str, ast.Module]]:
    """Every public module of the package, parsed."""
    yield from _parsed()


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


def is_overload(fn: ast.AST) -> bool:
    """Whether ``fn`` is a ``typing.overload`` signature (the implementation holds the docstring)."""
    decorators = [ast.unparse(d) for d in getattr(fn, "decorator_list", ())]
    return any(d in ("overload", "typing.overload") for d in decorators)


def public_names() -> Iterator[tuple[str, ast.AST, str | None]]:
    """``(qualified name, node, enclosing class or None)`` for every public definition."""
    for mod, tree in trees():
        is_command = mod.startswith("icp_notify.commands.")
        for node in tree.body:
            if is_overload(node):
                continue
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


def dunder_all(tree: ast.Module) -> list[str] | None:
    """The module's ``__all__`` (``None`` when it has none)."""
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert isinstance(node, ast.Assign)
            return [str(v) for v in ast.literal_eval(node.value)]
    return None


#: Programs built on the library, not library API: the CLI, the HTTP service, its alerting.
#: Their ``__all__`` names need a summary line like any other helper (and the entry points in
#: :data:`NEED_EXAMPLES` their examples); docs/server.md documents the service.
NOT_API = ("icp_notify.cli", "icp_notify.commands", "icp_notify.server", "icp_notify.alerts")


def is_api_module(mod: str) -> bool:
    """Whether ``mod``'s ``__all__`` is library API (see :data:`NOT_API`)."""
    return not any(mod == p or mod.startswith(p + ".") for p in NOT_API)


def api_names() -> set[str]:
    """The qualified names of the public API (see the module docstring)."""
    parsed = dict(trees())
    out: set[str] = set()
    for mod, tree in parsed.items():
        names = dunder_all(tree) or []
        if not is_api_module(mod):
            continue
        defined = {n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)}
        out |= {f"{mod}.{name}" for name in names if name in defined}
    # icp_notify.__all__: the lazily imported names are defined in other modules
    package = parsed["icp_notify"]
    where: dict[str, str] = {}
    for node in ast.walk(package):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("icp_notify")
        ):
            for alias in node.names:
                where[alias.asname or alias.name] = node.module
    for name in dunder_all(package) or []:
        if name in where:
            out.add(f"{where[name]}.{name}")
    return out


def is_enum_or_exception(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> bool:
    """Whether ``cls`` is an enumeration, an exception or a protocol (an interface, shown by its
    users' examples), directly or through package bases."""
    for base in base_names(cls):
        if base.endswith(("Enum", "Error", "Exception", "Protocol")):
            return True
        parent = next((c for q, c in classes.items() if q.rsplit(".", 1)[-1] == base), None)
        if parent is not None and parent is not cls and is_enum_or_exception(parent, classes):
            return True
    return False


def _summary_missing(doc: str) -> bool:
    return not doc.strip() or not doc.strip().splitlines()[0].strip()


def problems() -> list[str]:
    """Every gap, as ``"<qualified name>: <what is missing>"``."""
    methods = class_methods()
    classes = {
        f"{mod}.{n.name}": n
        for mod, tree in trees()
        for n in tree.body
        if isinstance(n, ast.ClassDef)
    }
    api = api_names()
    out = []
    for qual, node, owner in public_names():
        if qual in EXEMPT:
            continue
        in_api = qual in api or (owner is not None and qual.rsplit(".", 1)[0] in api)
        if isinstance(node, ast.ClassDef):
            doc = ast.get_docstring(node) or ""
            if _summary_missing(doc):
                out.append(f"{qual}: no docstring with a summary line")
            elif (
                qual in api
                and "Examples" not in sections(doc)
                and not is_enum_or_exception(node, classes)
            ):
                out.append(f"{qual}: public API class without an Examples section")
            continue
        assert isinstance(node, FunctionNode)
        doc = ast.get_docstring(node) or ""
        if node.name == "__init__":
            cls_qual = qual.rsplit(".", 1)[0]
            if cls_qual not in api:
                continue
            cls_doc = ast.get_docstring(classes[cls_qual]) or ""
            listed = documented_names(cls_doc) | documented_names(doc)
            missing = [p for p in parameters(node) if p not in listed]
            if missing:
                out.append(f"{cls_qual}: constructor parameters not documented: {missing}")
            continue
        if _summary_missing(doc):
            out.append(f"{qual}: no docstring with a summary line")
            continue
        if not in_api:
            continue  # one line is enough outside the public API
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
        needs_examples = qual in NEED_EXAMPLES or (owner is None and qual in api)
        if needs_examples and "Examples" not in sections(doc):
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
    saved = dict(EXEMPT)
    try:
        EXEMPT.clear()
        found = {p.split(":", 1)[0] for p in problems()}
    finally:
        EXEMPT.update(saved)
    assert not [name for name in saved if name not in found], "drop exemptions no longer needed"


def test_the_public_api_is_found() -> None:
    api = api_names()
    # a module's __all__, a class re-exported elsewhere (checked where defined), the package's own
    assert {"icp_notify.parse.parse", "icp_notify.providers.provider_table"} <= api
    assert "icp_notify.entities.provider_table" not in api
    assert {"icp_notify.models.Notice", "icp_notify.pipeline.analyze"} <= api
    assert not [q for q in api if q.startswith(("icp_notify.commands.", "icp_notify.server."))]
    assert "icp_notify.parse._channel" not in api


def test_a_private_helper_needs_no_sections() -> None:
    assert not [p for p in problems() if p.split(":", 1)[0].rsplit(".", 1)[-1].startswith("_")]
