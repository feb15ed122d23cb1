"""The labelled corpus: record validation, loader, split, checker, CLI and generator."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import ValidationError

from icp_notify.cli import main
from icp_notify.corpus import (
    CorpusRecord,
    check_corpus,
    default_corpus_dir,
    load_corpus,
    split_of,
    text_key,
)
from icp_notify.errors import CorpusError
from icp_notify.models import CHANGE_SITUATIONS, Kind, Situation

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
ROOT = Path(__file__).resolve().parent.parent
GENERIC = "尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
ALL4 = [s.value for s in CHANGE_SITUATIONS]


def _rec(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "t-1",
        "text": GENERIC,
        "channel": "sms",
        "sender": "12381",
        "situation": None,
        "kind": "change_notice_generic",
        "ambiguous": True,
        "candidates": ALL4,
    }
    base.update(over)
    return base


@pytest.fixture(scope="module")
def real() -> list[CorpusRecord]:
    return load_corpus()


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "corpus_generate", ROOT / "corpus" / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- the record


def test_generic_without_context_is_ambiguous_over_four() -> None:
    rec = CorpusRecord.model_validate(_rec())
    assert rec.situation is None
    assert set(rec.candidates) == set(CHANGE_SITUATIONS)


def test_generic_kind_may_be_decided_by_context() -> None:
    rec = CorpusRecord.model_validate(
        _rec(
            situation="access_cancelled",
            ambiguous=False,
            candidates=["access_cancelled"],
            received_at="2025-03-04T09:12:00",
            context={
                "operations": [{"kind": "access_domain", "submitted_at": "2024-10-01T10:00:00"}]
            },
        )
    )
    assert rec.situation is Situation.ACCESS_CANCELLED
    assert rec.received_at is not None
    assert rec.received_at.utcoffset() == dt.timedelta(hours=8)
    assert rec.context is not None
    assert rec.context.operations[0].kind is Situation.ACCESS_DOMAIN


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"situation": "new_domain"}, "null exactly when ambiguous"),
        ({"ambiguous": False}, "null exactly when ambiguous"),
        ({"candidates": ["new_domain"]}, "at least two candidates"),
        ({"candidates": ["new_domain", "other"]}, "must be change situations"),
        ({"candidates": ["new_domain", "new_domain"]}, "must not repeat"),
        (
            {"situation": "new_domain", "ambiguous": False, "candidates": ["modify_domain"]},
            r"candidates == \[situation\]",
        ),
        (
            {
                "kind": "verification_code",
                "situation": "new_domain",
                "ambiguous": False,
                "candidates": ["new_domain"],
            },
            "implies situation other",
        ),
        (
            {"kind": "provider_access_domain", "situation": None},
            "implies situation access_domain",
        ),
        ({"kind": "maybe"}, "kind"),
        ({"situation": "cancelled", "ambiguous": False}, "situation"),
        ({"channel": "unknown"}, "channel"),
        ({"id": "has space"}, "id"),
        ({"text": ""}, "text"),
        ({"extra": 1}, "extra"),
        ({"context": {"operations": [{"kind": "other", "submitted_at": "2025-01-01"}]}}, "kind"),
    ],
)
def test_invalid_records_are_refused(over: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CorpusRecord.model_validate(_rec(**over))


def test_records_are_frozen() -> None:
    rec = CorpusRecord.model_validate(_rec())
    with pytest.raises(ValidationError):
        rec.note = "changed"  # type: ignore[misc]


# --------------------------------------------------------------------------- split and keys


def test_split_is_a_stable_hash_of_the_id() -> None:
    assert [split_of(i) for i in ("hw-0001", "gen-00008", "gen-00001")] == ["train", "dev", "test"]
    shares = Counter(split_of(f"id-{i}") for i in range(20000))
    assert 0.67 < shares["train"] / 20000 < 0.73
    assert 0.13 < shares["dev"] / 20000 < 0.17
    assert 0.13 < shares["test"] / 20000 < 0.17


def test_text_key_ignores_spacing_and_line_breaks() -> None:
    assert text_key(GENERIC) == text_key(GENERIC.replace("，", "，\n").replace("已被", " 已被"))
    assert text_key(GENERIC) != text_key(GENERIC.replace("XX", "张**"))


# --------------------------------------------------------------------------- the real corpus


def test_real_corpus_is_clean(real: list[CorpusRecord]) -> None:
    result = check_corpus()
    assert result.problems == []
    assert result.ok
    assert result.total == len(real)
    assert set(result.by_split) == {"train", "dev", "test"}
    assert sum(result.by_kind.values()) == result.total


def test_real_corpus_covers_every_label(real: list[CorpusRecord]) -> None:
    kinds = Counter(r.kind for r in real)
    assert set(kinds) == set(Kind)
    situations = Counter(r.situation for r in real)
    assert set(situations) == {*Situation, None}
    assert situations[Situation.OTHER] / len(real) >= 0.30
    assert Counter(r.channel.value for r in real).keys() == {"sms", "email"}


def test_real_corpus_splits_share_no_text(real: list[CorpusRecord]) -> None:
    owner: dict[str, str] = {}
    for r in real:
        key = text_key(r.text)
        assert key not in owner, f"{r.id} repeats {owner.get(key)}"
        owner[key] = r.id


def test_default_corpus_dir_is_in_the_source_tree() -> None:
    assert default_corpus_dir() == ROOT / "corpus"
    assert (default_corpus_dir() / "generated.jsonl").is_file()


# --------------------------------------------------------------------------- bad fixtures


def test_good_fixture_loads_skipping_blank_lines() -> None:
    records = load_corpus([FIXTURES / "good.jsonl"])
    assert [r.id for r in records] == ["fx-1", "fx-2", "fx-6", "fx-3"]
    assert check_corpus([FIXTURES / "good.jsonl"]).ok


def test_load_corpus_names_file_and_line() -> None:
    with pytest.raises(CorpusError, match=r"bad_lines\.jsonl:2: invalid JSON"):
        load_corpus([FIXTURES / "bad_lines.jsonl"])


def test_check_reports_every_bad_line() -> None:
    result = check_corpus([FIXTURES / "bad_lines.jsonl"])
    assert not result.ok
    lines = sorted(int(p.split(".jsonl:")[1].split(":")[0]) for p in result.problems)
    assert lines == [2, 3, 4, 5, 6, 7]
    assert result.total == 1
    joined = "\n".join(result.problems)
    assert "implies situation other" in joined
    assert "at least two candidates" in joined
    assert "labels" in joined


def test_check_reports_duplicate_ids_and_texts() -> None:
    result = check_corpus([FIXTURES / "duplicates.jsonl"])
    assert not result.ok
    assert any(":2: duplicate id 'fx-1'" in p for p in result.problems)
    across = [p for p in result.problems if "across splits" in p]
    within = [p for p in result.problems if "within splits" in p]
    assert len(across) == 1
    assert ":3: duplicate text of" in across[0]
    assert len(within) == 1
    assert ":5: duplicate text of" in within[0]


def test_check_compares_texts_across_files() -> None:
    result = check_corpus([FIXTURES / "good.jsonl", FIXTURES / "good.jsonl"])
    assert sum("duplicate id" in p for p in result.problems) == 4


def test_check_enforces_the_conventions() -> None:
    problems = check_corpus([FIXTURES / "conventions.jsonl"]).problems
    assert any(":1: an ambiguous record without context must list all four" in p for p in problems)
    assert any(":2: a record with context needs received_at" in p for p in problems)


def test_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    result = check_corpus([tmp_path / "nope.jsonl"])
    assert not result.ok
    assert "cannot read" in result.problems[0]
    with pytest.raises(CorpusError):
        load_corpus([tmp_path / "nope.jsonl"])


# --------------------------------------------------------------------------- CLI


def test_cli_check_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-corpus", str(FIXTURES / "good.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "4 records in 1 file(s)" in out
    assert "ok: no problems" in out
    assert main(["check-corpus", str(FIXTURES / "duplicates.jsonl")]) == 1
    assert "duplicate id" in capsys.readouterr().out


def test_cli_check_corpus_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-corpus", str(FIXTURES / "bad_lines.jsonl"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert len(data["problems"]) == 6
    assert data["by_kind"] == {"provider_new_domain": 1}


# --------------------------------------------------------------------------- the generator


def test_generator_output_is_committed_and_reproducible(generator: ModuleType) -> None:
    records = generator.generate()
    text = generator.dumps(records)
    assert text == (ROOT / "corpus" / "generated.jsonl").read_text(encoding="utf-8")
    assert generator.dumps(generator.generate()) == text
    assert len(records) >= 1300
    assert all(r["id"].startswith("gen-") for r in records)


def _age(t: dt.datetime, op: dict[str, object]) -> float:
    return (t - dt.datetime.fromisoformat(str(op["submitted_at"]))).total_seconds() / 86400


def _is_move(op: dict[str, object]) -> bool:
    return (
        op["kind"] == "access_domain"
        and not op.get("keeps_previous_provider")
        and not (op.get("from_provider") and op.get("from_provider") == op.get("provider"))
    )


def _reference(rec: CorpusRecord, raw: dict[str, object]) -> tuple[str | None, list[str]]:
    """An independent reading of the context rules (issue 3 part 5, revised by issue 10)."""
    assert rec.received_at is not None
    ctx = raw["context"]
    assert isinstance(ctx, dict)
    t = rec.received_at
    recent = 20 + 7 / 24  # days: the longest review plus MIIT's delay
    ops = sorted(ctx["operations"], key=lambda o: str(o["submitted_at"]))
    used: set[int] = set()
    moves: list[list[object]] = []  # [op index, completed at, cancelled]
    approval: dt.datetime | None = None  # a provider's approval not yet paired with MIIT's notice
    for prior in sorted(ctx["previous_notices"], key=lambda p: str(p["received_at"])):
        pt = dt.datetime.fromisoformat(prior["received_at"])
        text = prior["text"]
        if "备案信息已被变更" in text:
            if approval is not None and (pt - approval).total_seconds() <= 86400:
                approval = None  # MIIT's notice of the approval the provider announced
                continue
            take = [i for i, o in enumerate(ops) if i not in used and 1 <= _age(pt, o) <= recent]
            if take:
                used.add(take[0])
                if _is_move(ops[take[0]]):
                    moves.append([take[0], pt, False])
            else:
                for m in moves:
                    if not m[2]:
                        m[2] = True
                        break
        elif (
            "接入" in text
            and any(w in text for w in ("通过", "成功", "完成"))
            and not any(w in text for w in ("验证码", "初审", "已提交", "审核中", "审核阶段"))
        ):
            take = [i for i, o in enumerate(ops) if i not in used and o["kind"] == "access_domain"]
            if take:
                used.add(take[0])
                if _is_move(ops[take[0]]):
                    moves.append([take[0], pt, False])
                approval = pt
    if approval is not None and (t - approval).total_seconds() <= 86400:
        return "access_domain", ["access_domain"]
    unused = [o for i, o in enumerate(ops) if i not in used and 1 <= _age(t, o) <= recent]
    kinds = {str(o["kind"]) for o in unused}
    due = [m for m in moves if not m[2] and (t - m[1]).total_seconds() <= 120 * 86400]  # type: ignore[operator]
    if len(kinds) == 1:
        (kind,) = kinds
        if due:
            return None, [kind, "access_cancelled"]
        return kind, [kind]
    unused60 = [o for i, o in enumerate(ops) if i not in used and 1 <= _age(t, o) <= 60]
    if not unused60:
        settled = [
            o for i, o in enumerate(ops) if i not in used and _is_move(o) and _age(t, o) > 60
        ]
        if any(not m[2] for m in moves) or settled:
            return "access_cancelled", ["access_cancelled"]
    kinds60 = {str(o["kind"]) for o in unused60}
    if len(kinds60) >= 2:
        return None, [k for k in ALL4 if k in kinds60]
    return None, list(ALL4)


def test_generated_context_cases_follow_the_rules(generator: ModuleType) -> None:
    raws = [r for r in generator.generate() if r["context"] is not None]
    notes = Counter(str(r["note"]).split(" ")[0] for r in raws)
    assert sum(notes.values()) >= 250
    for name in (
        "ctx:single_kind",
        "ctx:too_recent",
        "ctx:after_notice",
        "ctx:used_by_previous",
        "ctx:progress_uses_nothing",
        "ctx:confirmed_access_then_generic",
        "ctx:late_cancellation",
        "ctx:mixed_kinds",
        "ctx:nothing_explains",
        "ctx:text_wins",
        "ctx:completed_move",
        "ctx:cancellation_due",
    ):
        assert notes[name] >= 8, name
    for raw in raws:
        rec = CorpusRecord.model_validate(raw)
        if rec.kind is not Kind.CHANGE_NOTICE_GENERIC:
            assert rec.note.startswith("ctx:text_wins")
            continue
        situation, candidates = _reference(rec, raw)
        assert (rec.situation.value if rec.situation else None) == situation, rec.id
        assert [c.value for c in rec.candidates] == candidates, rec.id


def test_generated_hard_negatives_share_the_vocabulary(generator: ModuleType) -> None:
    records = [CorpusRecord.model_validate(r) for r in generator.generate()]
    other = [r for r in records if r.situation is Situation.OTHER]
    assert len(other) / len(records) >= 0.30
    codes = [r for r in other if r.kind is Kind.VERIFICATION_CODE]
    assert any("新增网站" in r.text for r in codes)
    assert any("接入备案" in r.text for r in codes)
    checks = [r for r in other if r.kind is Kind.CHECK_REQUEST]
    assert all("取消接入" in r.text for r in checks)
    phishing = [r for r in other if r.kind is Kind.PHISHING]
    assert any("备案信息已被变更" in r.text and "http" in r.text for r in phishing)
    generic = [r for r in records if r.kind is Kind.CHANGE_NOTICE_GENERIC]
    assert not any("http" in r.text for r in generic)


def test_check_requires_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "nameless.jsonl"
    path.write_text(
        '{"id": "nw-1", "text": "【示例云】新增网站备案已通过。", "channel": "sms",'
        ' "situation": "new_domain", "kind": "provider_new_domain", "candidates": ["new_domain"]}\n',
        encoding="utf-8",
    )
    result = check_corpus([path])
    assert not result.ok
    assert result.problems == [f"{path}:1: no writer (leave-one-writer-out groups by it)"]
