"""Batch's cached path (a repeat reuses its cached Report with its own fields, the advice from
``Advisor.timing`` + ``Advisor.compose``, pydantic serialising the fields that change) gives
exactly the rows computed from scratch, on tricky times, clocks, sources and languages."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from icp_notify._version import __version__
from icp_notify.advisor import Advisor
from icp_notify.batch import (
    LabelledLine,
    LabelledRow,
    Labeller,
    Summary,
    csv_record,
    label_lines,
    write_rows,
)
from icp_notify.models import RawMessage, Report, SourceRef

TEXTS = [
    # new domain approved: wait_for_sync, after_sync texts once the wait is over
    "【示例云】您的备案申请（新增网站 site1-example.cn）已审核通过，备案号：京ICP备2019123456号-1。",
    # access approved
    "【示例云】您好，您在示例云提交的接入备案（site2-example.cn）已审核通过，备案号 京ICP备2019123456号-2 保持不变。",
    # SMS verification: a relative deadline (24小时内)
    "【工信部】您的短信核验码为123456，由示例云发起的site3-example.cn网站的新增网站已提交，24小时内有效。",
    # a stated date
    "【示例云】经核查，您的域名 site4-example.cn 未解析至示例云服务器，请于2025年3月5日前整改，逾期将取消接入。",
    # the ambiguous generic notice
    "【工信部】尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    # no time at all
    "【示例云】尊敬的用户，您的主体备案 京ICP备2019123456号 已注销，如需继续开办网站请重新备案。",
]
TIMES: list[Any] = [
    None,
    "2025-03-04T09:12:00+08:00",
    "2025-03-04T23:59:30+00:00",
    "2025-03-04T01:00:00Z",
    "1990-01-01T08:00:00+08:00",
    "2099-12-31T20:00:00+08:00",
]
NOWS: list[Any] = [None, "2025-03-04T12:00:00+08:00", "2025-03-06T12:00:00", "2030-01-01T00:00:00"]
SOURCES = [
    None,
    SourceRef(file="a.jsonl", line=3, offset=10, index=2),
    SourceRef(file="a.jsonl", line=3, offset=10, index=2, message_id="m7"),
    SourceRef(line=1),
    SourceRef(file='dir/引号"\\x.csv', message_id="id\u2028\x01", index=0),
    SourceRef(),
]


def _messages() -> list[RawMessage]:
    out = []
    for text in TEXTS:
        for i, at in enumerate(TIMES):
            out.append(
                RawMessage(
                    text=text,
                    sender="10690000000",
                    received_at=at,
                    source=SOURCES[i % len(SOURCES)],
                )
            )
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("now", NOWS)
def test_cached_rows_equal_rows_from_scratch(lang: str, now: Any) -> None:
    fast = Labeller(lang=lang, now=now)
    slow = Labeller(lang=lang, now=now, cache=False)
    messages = _messages()
    for rep in range(2):  # the second round reuses every cached report
        for seq, msg in enumerate(messages):
            line = fast.label_line(seq, msg)
            expected = slow.label_message(seq, msg)
            assert isinstance(line, LabelledLine), (rep, msg)
            assert line.json == expected.json, (rep, msg)  # type: ignore[attr-defined]
            row = line.row()
            assert isinstance(row, LabelledRow)
            assert row == expected
            assert csv_record(row) == csv_record(expected)
            # the row's report is the cached one with the row's own fields, and it is the JSON
            assert line.report.model_dump(mode="json") == {
                k: v for k, v in expected.items() if k not in ("seq", "source")
            }
            assert line.report.notice.source == msg.source
            assert line.source == expected["source"]
            assert line.report.notice.received_at == msg.received_at
    assert fast.cache_hits >= len(messages)


def test_repeats_reuse_the_cached_report() -> None:
    fast = Labeller(now="2025-03-04T12:00:00+08:00")
    first, again = _messages()[1], _messages()[2]  # one text, two times and two sources
    a = fast.label_line(0, first)
    b = fast.label_line(1, again)
    assert isinstance(a, LabelledLine)
    assert isinstance(b, LabelledLine)
    ra, rb = a.report, b.report
    assert isinstance(rb, Report)
    assert rb.version == __version__
    assert rb.classification is ra.classification  # cached, not recomputed
    assert rb.notice.entities is ra.notice.entities  # the cached notice's copy
    assert (rb.notice.received_at, rb.notice.source) == (again.received_at, again.source)
    assert rb.advice.reachable_after is not None
    assert rb.advice.reachable_after != ra.advice.reachable_after  # its own time
    assert b.situation == "new_domain"
    assert b.urgency == rb.advice.urgency.value


def test_deadline_passed_and_wait_both_ways() -> None:
    """Rows of one notice before and after a deadline / the end of the wait."""
    fast = Labeller(now="2025-03-05T12:00:00+08:00")
    slow = Labeller(now="2025-03-05T12:00:00+08:00", cache=False)
    start = dt.datetime(2025, 3, 4, 0, 0, tzinfo=dt.UTC)
    seen_passed = set()
    seen_after = set()
    for i in range(60):
        at = start + dt.timedelta(minutes=47 * i)
        for text in TEXTS[:3]:
            msg = RawMessage(text=text, sender="10690000000", received_at=at)
            line = fast.label_line(i, msg)
            assert isinstance(line, LabelledLine)
            assert line.json == slow.label_message(i, msg).json  # type: ignore[attr-defined]
            seen_passed.add("期限已经过了" in line.json)
            if text == TEXTS[0]:
                seen_after.add(line.report.advice.wait == dt.timedelta(0))
    assert seen_passed == {True, False}
    assert seen_after == {True, False}


def test_advise_is_compose_of_timing() -> None:
    """The contract the cached path relies on (``Advisor.advise`` = compose of timing)."""
    advisor = Advisor.default()
    fast = Labeller()
    for msg in _messages():
        notice = fast.parse(msg)
        classification = fast.pipeline.classifier.classify_notice(notice, None)
        now = dt.datetime(2025, 3, 4, 12, tzinfo=dt.UTC)
        timing = advisor.timing(classification, notice, now=now)
        assert advisor.advise(classification, notice, now=now) == advisor.compose(
            classification, notice, "zh", timing, timing.texts("zh")
        )


def test_cli_stream_writes_what_label_writes(tmp_path: Path) -> None:
    archive = tmp_path / "a.jsonl"
    with open(archive, "w", encoding="utf-8") as fh:
        for i, msg in enumerate(_messages() * 2):
            record = {"id": f"m{i}", "text": msg.text, "sender": "10690000000"}
            if msg.received_at is not None:
                record["received_at"] = msg.received_at.isoformat()
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    for fmt in ("jsonl", "csv"):
        a, b = tmp_path / f"out_fast.{fmt}", tmp_path / f"out_slow.{fmt}"
        s1 = Summary()
        with open(a, "w", encoding="utf-8", newline="") as fh:
            list(write_rows(label_lines([archive], summary=s1, dedupe=False), fh, fmt))
        with open(b, "w", encoding="utf-8", newline="") as fh:
            list(
                write_rows(
                    (
                        Labeller(cache=False).label_message(seq, msg)
                        for seq, msg in enumerate(m for m in _read(archive))
                    ),
                    fh,
                    fmt,
                )
            )
        assert a.read_bytes() == b.read_bytes()
        assert s1.labelled == s1.read


def _read(path: Path) -> list[RawMessage]:
    from icp_notify.readers.walk import read_inputs

    items = list(read_inputs([path]))
    assert all(isinstance(m, RawMessage) for m in items)
    return items  # type: ignore[return-value]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_timings_change_only_the_timed_fields(lang: str) -> None:
    """``Advisor.TIMED_FIELDS``, which a repeat's advice is spliced by, is what timing changes."""
    advisor = Advisor.default()
    fast = Labeller()
    nows = [dt.datetime(2025, 3, 4, 12, tzinfo=dt.UTC), dt.datetime(2030, 1, 1, tzinfo=dt.UTC)]
    changed: set[str] = set()
    for msg in _messages():
        notice = fast.parse(msg)
        classification = fast.pipeline.classifier.classify_notice(notice, None)
        first = None
        for now in [None, *nows]:
            for at in TIMES[1:]:
                received = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
                timing = advisor.timing(classification, notice, now=now, received_at=received)
                advice = advisor.compose(classification, notice, lang, timing, timing.texts(lang))
                if first is None:
                    first = advice
                    continue
                for name in type(advice).model_fields:
                    if getattr(advice, name) != getattr(first, name):
                        changed.add(name)
    assert changed <= set(advisor.TIMED_FIELDS)
    assert {"summary", "steps", "reachable_after", "wait", "deadline"} <= changed
