"""What travels to the worker processes comes back as the same messages: pydantic's JSON, or
``json.dumps`` for a text pydantic cannot write as UTF-8 (a lone surrogate), and read errors —
and ``--workers 2`` writes what one process writes."""

from __future__ import annotations

import datetime as dt
import json

from icp_notify.batch import label, label_lines
from icp_notify.batch.workers import _chunks
from icp_notify.batch.writers import row_json
from icp_notify.models import Context, Defect, RawMessage, ReadError, SourceRef

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = "2025-03-06T12:00:00+08:00"
GENERIC = "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def _items() -> list[RawMessage | ReadError]:
    at = dt.datetime(2025, 3, 4, 9, 12, tzinfo=SHANGHAI)
    return [
        RawMessage(text=GENERIC, sender="12381", received_at=at),
        RawMessage(text="您的备案\ud800已通过", source=SourceRef(file="a.txt", line=1)),
        RawMessage(text="正常的文本", source=SourceRef(message_id="id\udcff\u2028\n\"'")),
        ReadError(code="undecodable", message="bad \udcff byte", source=SourceRef(line=3)),
        ReadError(code="empty", message="blank line", source=SourceRef(file="b.csv", line=4)),
        RawMessage(
            text=GENERIC,
            channel="email",
            subject="备案信息变更\n通知",
            received_at=dt.datetime(2025, 3, 10, 1, 0, tzinfo=dt.UTC),
            context=Context.model_validate(
                {
                    "operations": [
                        {"kind": "modify_domain", "submitted_at": "2025-03-04T10:00:00+08:00"}
                    ]
                }
            ),
        ),
        RawMessage(
            text="x\r\ny\u0085z\u2029",
            defects=(Defect(code="undecodable_bytes", message="2 bytes", position=3),),
        ),
    ]


def test_chunk_lines_read_back_as_the_same_items() -> None:
    items = _items()
    data = b"\n".join(_chunks(iter(enumerate(items))))
    lines = data.split(b"\n")
    assert len(lines) == len(items)  # one line per item: JSON text holds no newline
    kinds = [line.split(b" ", 2)[1] for line in lines]
    assert kinds == [b"m", b"M", b"M", b"E", b"e", b"m", b"m"]  # upper case: json.dumps wrote it
    for item, line in zip(items, lines, strict=True):
        _seq, kind, payload = line.split(b" ", 2)
        cls = type(item)
        back = (
            cls.model_validate_json(payload)
            if kind.islower()
            else cls.model_validate(json.loads(payload))
        )
        assert back == item


def test_two_workers_write_what_one_process_writes() -> None:
    items = _items() * 3  # repeats: the duplicates are dropped in the parent, as with one
    one = [row_json(r) for r in label_lines(items, now=NOW)]
    two = [row_json(r) for r in label_lines(items, now=NOW, workers=2)]
    assert two == one
    assert len(one) == 5 + 2 * 3  # read errors are never duplicates
    assert list(label(items, now=NOW, workers=2)) == list(label(items, now=NOW))
