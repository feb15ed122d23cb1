"""The shipped JSON copy of the rules file (``icp_notify/data/rules_parsed.json``) is what
``tomllib`` reads from ``rules.toml``, and ``default_rules`` uses it only for the file it was
derived from."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

import pytest

from icp_notify.rules import (
    PARSED_RULES_NAME,
    RuleSet,
    _read_with_digest,
    default_rules,
    dump_parsed_rules,
    read_parsed_rules,
)

REWRITE = "rewrite it with `.venv/bin/python -m icp_notify.gates`"


def _typed(value: Any) -> Any:
    """``value`` with the type of every scalar beside it (1 and 1.0 and True differ here)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _shipped() -> tuple[Path, bytes, str]:
    rules_path = Path(default_rules().path)
    data = rules_path.read_bytes()
    return rules_path, data, hashlib.sha256(data).hexdigest()


def test_the_shipped_copy_is_the_toml_document_with_its_types() -> None:
    rules_path, data, digest = _shipped()
    document = read_parsed_rules(rules_path.with_name(PARSED_RULES_NAME), digest)
    assert document is not None, f"stale or missing: {REWRITE}"
    toml = tomllib.loads(data.decode("utf-8"))
    assert _typed(document) == _typed(toml), REWRITE
    assert list(document) == list(toml)  # the same key order, rule after rule


def test_the_shipped_copy_is_what_the_writer_writes() -> None:
    rules_path, data, digest = _shipped()
    fresh = dump_parsed_rules(tomllib.loads(data.decode("utf-8")), digest)
    assert rules_path.with_name(PARSED_RULES_NAME).read_text(encoding="utf-8") == fresh, REWRITE


def test_default_rules_equal_a_load_of_the_toml() -> None:
    shipped = default_rules()
    fresh = RuleSet.load(shipped.path)  # tomllib, no copy
    assert [r.spec for r in shipped.rules] == [r.spec for r in fresh.rules]
    assert [[p.pattern for p in r.patterns] for r in shipped.rules] == [
        [p.pattern for p in r.patterns] for r in fresh.rules
    ]


def test_a_copy_for_other_bytes_is_not_used(tmp_path: Path) -> None:
    """A stale copy (the TOML edited since) is ignored: the TOML is parsed."""
    _, data, _ = _shipped()
    toml = tmp_path / "rules.toml"
    toml.write_bytes(data + b"\n# edited\n")
    lying = tomllib.loads(data.decode("utf-8"))
    lying["timeout"] = 9.0
    copy = tmp_path / PARSED_RULES_NAME
    copy.write_text(dump_parsed_rules(lying, hashlib.sha256(data).hexdigest()), encoding="utf-8")
    document, digest = _read_with_digest(toml, parsed=copy)
    assert digest == hashlib.sha256(toml.read_bytes()).hexdigest()
    assert document["timeout"] == tomllib.loads(data.decode("utf-8"))["timeout"] != 9.0
    # the same copy, keyed by the edited file's bytes, is used (what the writer would produce)
    copy.write_text(dump_parsed_rules(lying, digest), encoding="utf-8")
    assert _read_with_digest(toml, parsed=copy)[0]["timeout"] == 9.0


@pytest.mark.parametrize(
    "text", ["", "not json", "[]", '{"rules_sha256": "x"}', '{"rules_sha256": "x", "document": 1}']
)
def test_a_malformed_copy_is_not_used(tmp_path: Path, text: str) -> None:
    copy = tmp_path / PARSED_RULES_NAME
    copy.write_text(text, encoding="utf-8")
    assert read_parsed_rules(copy, "x") is None
    assert read_parsed_rules(tmp_path / "missing.json", "x") is None
