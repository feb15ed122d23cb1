"""advice.toml is validated when loaded: broken files (tests/fixtures/advice/) name file, entry, field."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from icp_notify.advisor import DEFAULT_PATH, Advisor
from icp_notify.errors import AdviceFileError, DataFileError

FIXTURES = Path(__file__).parent / "fixtures" / "advice"
OVERLAYS = sorted(FIXTURES.glob("*.toml"))


def shipped() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def overlay(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for dotted in patch.get("_delete", []):
        *parents, last = dotted.split(".")
        node = out
        for key in parents:
            node = node[key]
        del node[last]

    def merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
        for key, value in src.items():
            if isinstance(value, dict) and isinstance(dst.get(key), dict):
                merge(dst[key], value)
            else:
                dst[key] = copy.deepcopy(value)

    merge(out, {k: v for k, v in patch.items() if not k.startswith("_")})
    return out


def test_each_fixture_breaks_the_file_its_own_way() -> None:
    # found where the README says (an empty parametrisation would pass silently) ...
    assert [p.stem for p in OVERLAYS] == [
        "bad_console_url",
        "empty_steps",
        "missing_entry",
        "missing_language",
        "steps_differ",
        "sync_without_after",
        "unknown_action",
        "unknown_entry",
        "unknown_field",
        "unknown_placeholder",
        "unknown_urgency",
    ]
    # ... and no two expect the same error
    expected = [tomllib.loads(p.read_text(encoding="utf-8"))["_expect"] for p in OVERLAYS]
    keys = [(e["item"], e.get("field"), e["message"]) for e in expected]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("path", OVERLAYS, ids=lambda p: p.stem)
def test_broken_advice_is_refused_with_file_entry_and_field(path: Path) -> None:
    patch = tomllib.loads(path.read_text(encoding="utf-8"))
    expect = patch["_expect"]
    with pytest.raises(AdviceFileError) as exc:
        Advisor.from_dict(overlay(shipped(), patch), path=str(path))
    err = exc.value
    assert err.path == str(path)
    assert err.item == expect["item"]
    assert err.field == expect.get("field")
    assert expect["message"] in str(err)
    assert str(path) in str(err)
    assert expect["item"] in str(err)


def test_shipped_file_without_overlay_is_valid() -> None:
    advisor = Advisor.from_dict(shipped(), path=str(DEFAULT_PATH))
    assert "ambiguous" in advisor.keys


def test_not_toml(tmp_path: Path) -> None:
    with pytest.raises(AdviceFileError, match="not valid TOML") as exc:
        Advisor.load(FIXTURES / "not_toml.txt")
    assert isinstance(exc.value, DataFileError)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AdviceFileError, match="cannot read"):
        Advisor.load(tmp_path / "nope.toml")


def test_load_a_custom_file(tmp_path: Path) -> None:
    data = DEFAULT_PATH.read_text(encoding="utf-8").replace(
        'summary = "This is marketing; even if it mentions filing, nothing needs doing."',
        'summary = "Marketing: ignore it."',
    )
    path = tmp_path / "advice.toml"
    path.write_text(data, encoding="utf-8")
    advisor = Advisor.load(path)
    assert advisor.entry("marketing").en.summary == "Marketing: ignore it."
    assert advisor is not Advisor.default()
