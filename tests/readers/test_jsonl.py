"""The JSON Lines reader (icp_notify.readers.jsonl): bad lines are error rows, nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _helpers import ARCHIVES, errors, messages

from icp_notify.models import Channel, RawMessage, ReadError
from icp_notify.readers.jsonl import read_jsonl


def test_jsonl_invalid_utf8_and_invalid_json_are_error_rows_and_nothing_is_lost() -> None:
    items = list(read_jsonl(ARCHIVES / "notices.jsonl"))
    assert [type(i).__name__ for i in items] == [
        "RawMessage",
        "ReadError",
        "RawMessage",
        "ReadError",
        "RawMessage",
    ]
    bad = errors(items)
    assert [(e.code, e.source.line if e.source else None) for e in bad] == [
        ("undecodable", 2),
        ("invalid_json", 4),
    ]
    good = messages(items)
    assert [m.source.message_id for m in good if m.source] == ["j1", "j3", "j4"]
    assert good[1].channel is Channel.SMS
    assert good[2].context is not None
    assert good[2].context.operations[0].provider == "示例云"


def test_jsonl_text_field_option(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text('{"msg_text": "备案已通过", "text": "ignored"}\n{"other": 1}\n', encoding="utf-8")
    items = list(read_jsonl(p, text_field="msg_text"))
    assert isinstance(items[0], RawMessage)
    assert items[0].text == "备案已通过"
    assert isinstance(items[1], ReadError)
    assert items[1].code == "missing_text"


LINES = [
    '{"text": "备案", "received_at": 1700000000}\n',
    '{"text": "备案"}\r\n',
    '{"text": "备案"} \t \n',
    '{"text": "备案"}',
    ' {"text": "备案"}\n',
    '\ufeff{"text": "x"}\n',
    '{"text": "x"} {"text": "y"}\n',
    '{"text": "x"}\x0c\n',
    '{"text": "x"}\u3000\n',
    '{"text": "x",}\n',
    '{"text": "\\ud800\\u2028", "n": NaN, "big": 1e999, "i": 123456789012345678901234}\n',
    '{"text": "bad \\q escape"}\n',
    '{"text": "raw \x01 control"}\n',
    "[1, 2]\n",
    '"just a string"\n',
    "12 \n",
    "\n",
    "",
    "nul\n",
]


@pytest.mark.parametrize("line", LINES)
def test_lines_are_read_as_json_loads_reads_them(line: str) -> None:
    from icp_notify.readers.jsonl import _loads

    def outcome(load: Any) -> Any:
        try:
            return ("value", repr(load(line)))
        except json.JSONDecodeError as exc:
            return ("error", exc.msg, exc.pos, str(exc))

    assert outcome(_loads) == outcome(json.loads)
