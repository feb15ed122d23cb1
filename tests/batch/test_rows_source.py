"""A row's ``source`` is written one way (``rows.row_source``) on every path of the labeller."""

from __future__ import annotations

import json

import pytest

from icp_notify.batch import Labeller
from icp_notify.batch.rows import error_row, row_source
from icp_notify.models import RawMessage, ReadError, SourceRef

TEXT = "【示例云】您的网站 qingmu-demo.cn 已完成取消接入。"
SOURCES = [
    SourceRef(file="a.jsonl", line=3, offset=120, index=2),
    SourceRef(file="backup.xml", index=7, message_id="m-7"),
    SourceRef(message_id="<x@example.cn>"),
    None,
]


@pytest.mark.parametrize("cache", [True, False])
def test_labelled_rows_carry_the_source_without_its_none_fields(cache: bool) -> None:
    labeller = Labeller(lang="en", cache=cache)
    for i, source in enumerate(SOURCES * 2):  # twice: the second time from the caches
        line = labeller.label_line(i, RawMessage(text=TEXT, source=source))
        assert not isinstance(line, dict)
        row = json.loads(line.json)
        assert row["source"] == row_source(source)
        assert line.source == row_source(source)
        # the notice inside keeps pydantic's full form
        expected = None if source is None else source.model_dump(mode="json")
        assert row["notice"]["source"] == expected
        if source is not None:
            # field order of SourceRef, None fields left out
            assert list(row["source"]) == [
                k for k in SourceRef.model_fields if getattr(source, k) is not None
            ]


def test_error_rows_write_the_source_the_same_way() -> None:
    source = SourceRef(file="a.csv", line=4)
    row = error_row(0, ReadError(code="bad_row", message="2 columns", source=source), "x", "y")
    assert row["source"] == row["error"]["source"] == {"file": "a.csv", "line": 4}
    assert row_source(source) == {"file": "a.csv", "line": 4}
