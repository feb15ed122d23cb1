"""The CSV reader (icp_notify.readers.csvfile): encodings, bad rows, the text column."""

from __future__ import annotations

from pathlib import Path

import pytest
from _helpers import ARCHIVES, errors, messages

from icp_notify.readers.csvfile import read_csv

GENERIC = "您的备案信息已被变更"


@pytest.mark.parametrize("name", ["phone_export.csv", "phone_export_gb18030.csv"])
def test_csv_utf8_bom_and_gb18030(name: str) -> None:
    items = list(read_csv(ARCHIVES / name))
    assert not errors(items)
    got = messages(items)
    assert [m.sender for m in got] == ["12381", "10690000123"]
    assert GENERIC in got[0].text
    assert got[0].received_at is not None
    assert got[0].received_at.isoformat() == "2025-03-04T09:12:00+08:00"


def test_csv_wrong_column_count_is_an_error_row() -> None:
    items = list(read_csv(ARCHIVES / "bad_columns.csv"))
    assert [type(i).__name__ for i in items] == ["RawMessage", "ReadError", "RawMessage"]
    bad = errors(items)[0]
    assert bad.code == "bad_row"
    assert bad.source is not None
    assert bad.source.line == 3


def test_csv_without_text_column(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    assert [e.code for e in errors(list(read_csv(p)))] == ["missing_text"]
