"""``Labeller.label_payload`` (a message as pydantic's JSON, how worker processes get it) gives
exactly ``label_line`` of the validated message: the same line, report, source and counts, on
the whole corpus and on tricky times, clocks, sources, channels and languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from _helpers import context_messages, corpus_texts

from icp_notify.batch import LabelledLine, Labeller
from icp_notify.models import Channel, RawMessage, SourceRef

TIMES: list[Any] = [
    None,
    "2025-03-04T09:12:00+08:00",
    "2025-03-04T23:59:30+00:00",
    "2025-03-04T01:00:00Z",
    "2025-03-05T01:00:00.250+05:30",
    "1990-01-01T08:00:00+08:00",
    "2099-12-31T20:00:00+08:00",
]
SOURCES = [
    None,
    SourceRef(file="a.jsonl", line=3, offset=10, index=2, message_id="m7"),
    SourceRef(file="a.jsonl", line=3, offset=10, index=2),
    SourceRef(file='dir/引号"\\x.csv', line=1, offset=0, index=0, message_id="id\u2028\x01"),
    SourceRef(),
]
SENDERS = [None, "12381", "10690000000", "a@b.cn"]


def _payload(msg: RawMessage) -> bytes:
    """What a worker process receives for ``msg`` (``batch.workers``)."""
    return RawMessage.__pydantic_serializer__.to_json(msg, exclude_defaults=True)


def _same(got: LabelledLine | dict[str, Any], want: LabelledLine | dict[str, Any]) -> None:
    if isinstance(want, dict):
        assert got == want
        return
    assert isinstance(got, LabelledLine)
    assert got.seq == want.seq
    assert got.json == want.json
    assert (got.raw is None) == (want.raw is None)
    assert (got.situation, got.urgency) == (want.situation, want.urgency)
    assert got.source == want.source
    assert got.report == want.report
    assert got.report.model_dump_json() == want.report.model_dump_json()


def _check(messages: list[RawMessage], *, lang: str = "zh", now: Any = None) -> int:
    """Label ``messages`` both ways with two labellers; return how many rows were repeats."""
    by_payload = Labeller(lang=lang, now=now)
    by_message = Labeller(lang=lang, now=now)
    for seq, msg in enumerate(messages):
        _same(by_payload.label_payload(seq, _payload(msg)), by_message.label_line(seq, msg))
    assert by_payload.cache_hits == by_message.cache_hits
    return by_payload.cache_hits


@pytest.mark.parametrize(
    ("lang", "now", "every"), [("zh", "2025-03-04T12:00:00+08:00", 2), ("en", None, 7)]
)
def test_corpus_repeats_by_payload_equal_rows_of_messages(lang: str, now: Any, every: int) -> None:
    texts = corpus_texts()[::every]
    messages = []
    for i, text in enumerate(texts):
        for k in range(3):  # the text, then twice again: other times, sources, senders
            j = i + k
            messages.append(
                RawMessage(
                    text=text,
                    channel=Channel.SMS if i % 4 else Channel.EMAIL,
                    sender=SENDERS[i % len(SENDERS)],
                    received_at=TIMES[j % len(TIMES)],
                    source=SOURCES[j % len(SOURCES)],
                    subject="备案" if i % 7 == 0 else None,
                )
            )
    assert _check(messages, lang=lang, now=now) >= len(texts)


def test_dated_texts_contexts_and_times_across_days_equal_rows_of_messages() -> None:
    text = "【示例云】您的网站 site1-example.cn 请于8月30日前完成备案信息核对，逾期将取消接入。"
    local = dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    arrivals = [local, local.astimezone(dt.UTC), local, local + dt.timedelta(days=200), None]
    messages = [RawMessage(text=text, received_at=at) for at in arrivals]
    messages += context_messages() * 2
    code = "【工信部】您的短信核验码为123456，由示例云发起的site3-example.cn网站的新增网站已提交，24小时内有效。"
    messages += [
        RawMessage(text=code, received_at=local + dt.timedelta(hours=h)) for h in (0, 1, 30, 2)
    ]
    _check(messages, now="2025-03-01T12:00:00+08:00")


def test_a_payload_that_is_not_a_message_is_refused_as_validation_refuses_it() -> None:
    labeller = Labeller()
    with pytest.raises(ValueError, match="validation error"):
        labeller.label_payload(0, b'{"text": 1}')
    with pytest.raises(ValueError, match="validation error"):
        labeller.label_payload(0, b"[1]")
