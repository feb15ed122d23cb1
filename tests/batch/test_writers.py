"""JSONL and CSV writing, and where ``--resume`` continues."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from icp_notify.batch import CSV_COLUMNS, csv_record, label, label_lines, last_seq, write_rows
from icp_notify.models import RawMessage, SourceRef

NOW = "2025-03-06T12:00:00+08:00"
TEXTS = [
    "【示例云】您的 CDN 加速域名 cdn.site3-example.cn 已成功接入，回T退订",
    "【示例云】您的备案申请（新增网站 site1-example.cn）已审核通过，备案号：京ICP备2019123456号-1。",
    "   ",
]


def _messages() -> list[RawMessage]:
    return [
        RawMessage(
            text=text,
            sender="10690000123",
            received_at="2025-03-04T09:12:00+08:00",
            source=SourceRef(file="a.jsonl", line=i + 1, index=i),
        )
        for i, text in enumerate(TEXTS)
    ]


def test_write_rows_uses_the_prebuilt_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        rows = list(write_rows(label(_messages(), now=NOW), fh))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert lines[0] == json.dumps(rows[0], ensure_ascii=False)
    assert json.loads(lines[2])["error"]["code"] == "empty"
    assert json.loads(lines[1])["source"] == {"file": "a.jsonl", "line": 2, "index": 1}


def test_csv_lines_and_dict_rows_write_the_same_table() -> None:
    from_lines, from_rows = io.StringIO(), io.StringIO()
    list(write_rows(label_lines(_messages(), now=NOW), from_lines, "csv"))
    list(write_rows(label(_messages(), now=NOW), from_rows, "csv"))
    assert from_lines.getvalue() == from_rows.getvalue()
    records = list(csv.reader(io.StringIO(from_lines.getvalue())))
    assert all(len(r) == len(CSV_COLUMNS) for r in records)
    cdn, approved, empty = records
    assert cdn[:3] == ["0", "a.jsonl", "1"]
    assert cdn[CSV_COLUMNS.index("kind")] == "unrelated_access"
    assert approved[CSV_COLUMNS.index("situation")] == "new_domain"
    assert "同步等待时间已过" in approved[CSV_COLUMNS.index("summary")]  # 7 h after arrival
    assert empty[CSV_COLUMNS.index("error_code")] == "empty"


def test_csv_record_of_an_error_row() -> None:
    row = {"seq": 4, "source": None, "error": {"code": "bad_row", "message": "3 columns"}}
    record = csv_record(row)
    assert record[0] == 4
    assert record[-2:] == ["bad_row", "3 columns"]
    assert record[1:-2] == [None] * (len(CSV_COLUMNS) - 3)


def test_last_seq_cuts_a_torn_line_and_reads_csv(tmp_path: Path) -> None:
    jsonl = tmp_path / "out.jsonl"
    jsonl.write_text('{"seq": 0}\n{"seq": 7}\n{"seq": 8, "sou', encoding="utf-8")
    assert last_seq(jsonl) == 7
    assert jsonl.read_text(encoding="utf-8") == '{"seq": 0}\n{"seq": 7}\n'
    table = tmp_path / "out.csv"
    with open(table, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        list(write_rows(label(_messages(), now=NOW), fh, "csv"))
    assert last_seq(table, "csv") == 2
    assert last_seq(tmp_path / "missing.jsonl") is None
