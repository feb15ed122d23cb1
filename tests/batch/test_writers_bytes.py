"""The output file of ``icp-notify batch``: worker rows are written as the UTF-8 bytes they came
as, in order with rows written as text, byte for byte what one process writes; and a lone
surrogate from a JSON escape in the input is written as its JSON escape, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from icp_notify.batch import LabelledRow, write_rows
from icp_notify.batch.workers import WorkerLine
from icp_notify.cli import main

NOW = "2025-03-06T12:00:00+08:00"
GENERIC = "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def _archive(path: Path) -> Path:
    records: list[str] = []
    for i in range(40):
        record = {
            "id": f"m{i}",
            "text": GENERIC
            if i % 3
            else f"【示例云】您的网站 site{i % 5}-example.cn 已完成取消接入。",
            "sender": "12381" if i % 3 else "10690000123",
            "received_at": f"2025-03-04T09:{i:02d}:00+08:00",
        }
        records.append(json.dumps(record, ensure_ascii=False))
    # JSON escapes of lone surrogates (a broken exporter), in the id and in the text
    records.insert(7, '{"id": "a\\ud800", "text": "您的备案\\udcff已通过", "sender": "12381"}')
    records.insert(20, "not json")
    records.insert(30, '{"id": "b\\udfff", "body": "' + GENERIC + '"}')
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_workers_write_the_same_bytes_as_one_process(tmp_path: Path, fmt: str) -> None:
    archive = _archive(tmp_path / "in.jsonl")
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.{fmt}"
        args = ["batch", str(archive), "-o", str(out), "--now", NOW, "--workers", workers]
        assert main(args) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    outs[0].decode("utf-8")  # valid UTF-8
    if fmt == "jsonl":
        rows = [json.loads(line) for line in outs[0].decode().splitlines()]
        assert len(rows) == 43
        assert rows[7]["source"]["message_id"] == "a\ud800"  # the escape reads back
        assert rows[20]["error"]["code"] == "invalid_json"
        assert rows[30]["source"]["message_id"] == "b\udfff"


def test_text_and_binary_rows_stay_in_order() -> None:
    buffer = io.BytesIO()
    out = io.TextIOWrapper(
        buffer, encoding="utf-8", errors="backslashreplace", newline="", write_through=True
    )
    error = LabelledRow({"seq": 1, "source": None, "error": {"code": "empty"}})
    rows = [
        WorkerLine(0, '{"seq": 0, "x": "备案"}'.encode(), "other", "info"),
        error,
        WorkerLine(
            2, '{"seq": 2, "x": "\ud800"}'.encode("utf-8", "surrogatepass"), "other", "info", False
        ),
        WorkerLine(3, b'{"seq": 3}', "other", "info"),
    ]
    written = list(write_rows(rows, out, "jsonl", binary=buffer))
    out.flush()
    assert written == rows
    lines = buffer.getvalue().decode("utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [0, 1, 2, 3]
    # a lone surrogate goes through the text layer, as its JSON escape
    assert lines[2] == '{"seq": 2, "x": "\\ud800"}'
    assert json.loads(lines[2])["x"] == "\ud800"
    assert WorkerLine(2, b"{}", "a", "b", False).raw is None


def test_cached_rows_are_utf8_bytes_unless_a_surrogate_is_in_them() -> None:
    from icp_notify.batch import Labeller
    from icp_notify.models import RawMessage, SourceRef

    fast, slow = Labeller(now=NOW), Labeller(now=NOW, cache=False)
    as_text = 0
    messages = [
        RawMessage(text=GENERIC, sender="12381", source=SourceRef(file="a.jsonl", line=1)),
        RawMessage(text=GENERIC, sender="12381", source=SourceRef(message_id="x\ud800")),
        RawMessage(text=GENERIC, sender="1\udcff", source=SourceRef(file="a.jsonl", line=3)),
        RawMessage(text=GENERIC + "\ud800", sender="12381"),
        RawMessage(text=GENERIC, sender="12381", source=SourceRef(file="目录/文件.jsonl")),
    ]
    for rep in range(2):
        for seq, msg in enumerate(messages):
            line = fast.label_line(seq, msg)
            expected = slow.label_message(seq, msg)
            assert line.json == expected.json  # type: ignore[union-attr, attr-defined]
            assert line.row() == expected  # type: ignore[union-attr]
            utf8 = "\ud800" not in line.json and "\udcff" not in line.json  # type: ignore[union-attr]
            assert (line.raw is not None) == utf8, (rep, seq)  # type: ignore[union-attr]
            as_text += not utf8
            if line.raw is not None:  # type: ignore[union-attr]
                assert line.raw == line.json.encode()  # type: ignore[union-attr]
    assert as_text >= 4  # the message id and the sender keep their surrogates, twice each
