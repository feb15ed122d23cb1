"""message_from_record builds the same RawMessage as validation would, without validating again.

The record reader checks every value itself (text, channel, sender, time, source numbers) and
then builds the model without a second validation; these tests compare each result with the
validated model, field by field and by the fields it says were set, on the archive fixtures and
on edge cases (missing fields, each time form, out-of-range source numbers).
"""

from __future__ import annotations

from typing import Any

import pytest
from _helpers import ARCHIVES
from pydantic import ValidationError

from icp_notify.models import Channel, RawMessage, SourceRef
from icp_notify.readers.common import message_from_record
from icp_notify.readers.csvfile import read_csv
from icp_notify.readers.jsonl import read_jsonl


def _validated(msg: RawMessage) -> RawMessage:
    """The message as validation builds it from the same arguments."""
    source = msg.source
    fields = {name: getattr(msg, name) for name in msg.model_fields_set if name != "source"}
    if source is not None:
        fields["source"] = SourceRef(
            **{name: getattr(source, name) for name in source.model_fields_set}
        )
    return RawMessage(**fields)


def _same(msg: RawMessage) -> None:
    other = _validated(msg)
    assert msg == other
    assert msg.model_dump() == other.model_dump()
    assert msg.model_fields_set == other.model_fields_set
    assert msg.model_dump_json() == other.model_dump_json()
    assert msg.model_dump_json(exclude_defaults=True) == other.model_dump_json(
        exclude_defaults=True
    )
    if msg.source is not None:
        assert other.source is not None
        assert msg.source.model_fields_set == other.source.model_fields_set
    assert type(msg.channel) is Channel


RECORDS: list[dict[str, Any]] = [
    {"text": "您的备案已通过"},
    {"text": "您的备案已通过", "id": 7, "sender": 12381, "received_at": 1741050720},
    {"text": "x", "id": "m1", "channel": " SMS ", "received_at": "2025-03-04 09:12:00"},
    {"text": "x", "channel": "email", "subject": "备案", "received_at": "2025-03-04T01:12:00Z"},
    {"body": "x", "from": "a@b.cn", "date": "1741050720000", "subject": "null"},
    {"content": "x", "received_at": "", "id": ""},
    {"text": "x", "received_at": 1741050720.5},
]


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("a.jsonl", {"line": 3, "offset": 10, "index": 2}),
        (None, {"index": 0}),
        ("a.csv", {}),
        ("a.csv", {"line": 1, "offset": 0, "index": 0}),
    ],
)
def test_record_messages_equal_validated_ones(
    record: dict[str, Any], path: str | None, where: dict[str, Any]
) -> None:
    msg = message_from_record(record, path=path, text_field=None, where=where, position="p")
    assert isinstance(msg, RawMessage)
    _same(msg)


@pytest.mark.parametrize(
    "where", [{"line": 0}, {"offset": -1}, {"index": -2}, {"line": True}, {"line": "3"}]
)
def test_source_numbers_outside_the_fields_go_through_validation(where: dict[str, Any]) -> None:
    """A source number of another type or out of range is validated as before (a caller's bug)."""
    try:
        expected = RawMessage(text="x", source=SourceRef(file="a", **where))
    except ValidationError:
        with pytest.raises(ValidationError):
            message_from_record({"text": "x"}, path="a", text_field=None, where=where, position="p")
        return
    got = message_from_record({"text": "x"}, path="a", text_field=None, where=where, position="p")
    assert isinstance(got, RawMessage)
    assert got == expected
    assert got.source is not None
    assert type(got.source.line) is int


def test_a_record_with_context_is_validated() -> None:
    msg = message_from_record(
        {"text": "x", "context": {"operations": []}},
        path=None,
        text_field=None,
        where={},
        position="p",
    )
    assert isinstance(msg, RawMessage)
    assert msg.context is not None
    _same(msg)


def test_archive_fixtures_read_as_validated_messages() -> None:
    items = [
        *read_jsonl(ARCHIVES / "notices.jsonl"),
        *read_csv(ARCHIVES / "phone_export.csv"),
    ]
    messages = [item for item in items if isinstance(item, RawMessage)]
    assert len(messages) >= 5
    for msg in messages:
        _same(msg)
