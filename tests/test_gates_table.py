"""The shipped gate table (``icp_notify/data/rules_gates.json``) is what analysing the shipped
rules gives, and ``default_rules`` uses it only for the rules file it was derived from."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from icp_notify.gates import (
    GATE_TABLE_NAME,
    dump_gate_table,
    gate_table,
    pattern_gates,
    read_gate_table,
)
from icp_notify.rules import CompiledRule, RuleSet, RuleSpec, default_rules

REWRITE = "rewrite it with `.venv/bin/python -m icp_notify.gates`"


def _shipped() -> tuple[Path, Path, str]:
    rules_path = Path(default_rules().path)
    digest = hashlib.sha256(rules_path.read_bytes()).hexdigest()
    return rules_path, rules_path.with_name(GATE_TABLE_NAME), digest


def _sources(rules: RuleSet) -> list[str]:
    return [p.pattern for r in rules.rules for p in (*r.patterns, *r.unless)]


def test_the_shipped_table_is_derived_from_the_shipped_rules_file() -> None:
    _, table_path, digest = _shipped()
    assert read_gate_table(table_path, digest) is not None, f"stale or missing: {REWRITE}"


def test_the_shipped_table_equals_a_fresh_analysis_of_every_pattern() -> None:
    rules_path, table_path, digest = _shipped()
    table = read_gate_table(table_path, digest)
    assert table is not None, REWRITE
    sources = _sources(RuleSet.load(rules_path))  # compiled and validated, gates not from the table
    assert set(table) == set(sources), REWRITE
    for source in sources:
        pattern_gates.cache_clear()
        assert table[source] == pattern_gates(source), (source, REWRITE)
    assert sum(1 for s in sources if table[s]) > len(sources) // 2  # most patterns have a gate


def test_the_shipped_table_is_what_the_writer_writes() -> None:
    rules_path, table_path, digest = _shipped()
    fresh = dump_gate_table(gate_table(_sources(RuleSet.load(rules_path))), digest)
    assert table_path.read_text(encoding="utf-8") == fresh, REWRITE


def test_default_rules_have_the_gates_of_a_fresh_load() -> None:
    shipped = default_rules()
    fresh = RuleSet.load(shipped.path)
    assert [r.id for r in shipped.rules] == [r.id for r in fresh.rules]
    for a, b in zip(shipped.rules, fresh.rules, strict=True):
        assert [g for _, g in a._gated] == [g for _, g in b._gated], a.id
        assert [g for _, g in a._gated_unless] == [g for _, g in b._gated_unless], a.id
    assert shipped._bits == fresh._bits
    assert shipped._gate_index == fresh._gate_index


def test_a_table_for_another_rules_file_is_not_used(tmp_path: Path) -> None:
    _, table_path, digest = _shipped()
    copy = tmp_path / GATE_TABLE_NAME
    copy.write_bytes(table_path.read_bytes())
    assert read_gate_table(copy, digest) is not None
    assert read_gate_table(copy, "0" * 64) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"rules_sha256": "D", "gates": []}',
        '{"rules_sha256": "D", "gates": {"a": "a"}}',
        '{"rules_sha256": "D", "gates": {"a": [[]]}}',
        '{"rules_sha256": "D", "gates": {"a": [[""]]}}',
        '{"rules_sha256": "D", "gates": {"a": [[1]]}}',
        '{"rules_sha256": "D", "gates": {"a": [["a"], ["b"], ["c"], ["d"]]}}',
    ],
)
def test_a_malformed_table_is_not_used(tmp_path: Path, text: str) -> None:
    path = tmp_path / GATE_TABLE_NAME
    path.write_text(text, encoding="utf-8")
    assert read_gate_table(path, "D") is None


def test_a_missing_table_is_not_used(tmp_path: Path) -> None:
    assert read_gate_table(tmp_path / GATE_TABLE_NAME, "D") is None


def test_dump_and_read_round_trip(tmp_path: Path) -> None:
    table = gate_table(["备案.{0,6}年审", "(?:验证码|校验码)", r"\p{Han}备"])
    assert table["(?:验证码|校验码)"] == (frozenset({"验证码", "校验码"}),)
    assert table[r"\p{Han}备"] == ()
    path = tmp_path / GATE_TABLE_NAME
    path.write_text(dump_gate_table(table, "D"), encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))["rules_sha256"] == "D"
    assert read_gate_table(path, "D") == table


def test_a_rule_takes_its_gates_from_the_table_and_analyses_the_rest() -> None:
    spec = RuleSpec.model_validate(
        {
            "id": "demo.review",
            "kind": "progress",
            "situation": "other",
            "patterns": ["初审通过", "备案.{0,6}年审"],
            "weight": 0.6,
            "examples": {"match": ["初审通过"]},
        }
    )
    import regex

    patterns = [regex.compile(p) for p in spec.patterns]
    made_up = (frozenset({"初审"}),)
    rule = CompiledRule(spec, patterns, [], [], 0.05, gates={"初审通过": made_up})
    assert [g for _, g in rule._gated] == [made_up, pattern_gates("备案.{0,6}年审")]


def test_the_gates_do_not_depend_on_string_hashing() -> None:
    """Ties between equally good conditions rank the same in every process (a table can ship)."""
    import os
    import subprocess
    import sys

    script = (
        "from icp_notify.gates import dump_gate_table, gate_table\n"
        "from icp_notify.rules import RuleSet, default_rules\n"
        "rules = RuleSet.load(default_rules().path)\n"
        "sources = [p.pattern for r in rules.rules for p in (*r.patterns, *r.unless)]\n"
        "print(dump_gate_table(gate_table(sources), 'D'))\n"
    )
    dumps = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(dumps) == 1
