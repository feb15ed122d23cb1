"""The labeller's caches are exact: cached rows equal reports computed from scratch, on the
whole corpus, under eviction, with context and with times in other zones.

The real pipeline (shipped rules and model) is used throughout.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from _helpers import context_messages

from icp_notify.batch import Labeller, classification_inputs, label
from icp_notify.batch import labeller as labeller_module
from icp_notify.corpus import load_corpus
from icp_notify.models import Notice, RawMessage
from icp_notify.parse import parse
from icp_notify.pipeline import Pipeline

NOW = "2025-03-06T12:00:00+08:00"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _corpus_messages() -> list[RawMessage]:
    """Every corpus record, each followed by a repeat differing in arrival time only."""
    first: list[RawMessage] = []
    again: list[RawMessage] = []
    for i, record in enumerate(load_corpus()):
        fields: dict[str, Any] = {
            "text": record.text,
            "channel": record.channel,
            "sender": record.sender,
            "subject": record.subject,
            "received_at": record.received_at,
            "context": record.context,
        }
        first.append(RawMessage.model_validate(fields))
        later = record.received_at + dt.timedelta(hours=2) if record.received_at else None
        if later is None:
            later = dt.datetime(2025, 3, 1, 8, 0, tzinfo=SHANGHAI) + dt.timedelta(minutes=i)
        again.append(RawMessage.model_validate({**fields, "received_at": later}))
    return [m for pair in zip(first, again, strict=True) for m in pair]


def _reference(pipeline: Pipeline, msg: RawMessage) -> dict[str, Any]:
    """The uncached report: parse, classify, advise from scratch."""
    report = pipeline.analyze_notice(parse(msg), context=msg.context, now=NOW, lang="zh")
    return report.model_dump(mode="json")


@pytest.mark.slow
def test_cached_rows_equal_uncached_reports_on_the_whole_corpus() -> None:
    pipeline = Pipeline.default()
    labeller = Labeller(pipeline, now=NOW)
    messages = _corpus_messages()
    for seq, msg in enumerate(messages):
        row = labeller.label_message(seq, msg)
        assert "error" not in row, row
        assert row.json == json.dumps(row, ensure_ascii=False)  # type: ignore[attr-defined]
        got = {k: v for k, v in row.items() if k not in ("seq", "source")}
        assert got == _reference(pipeline, msg), msg.text
    # every repeat without context was served from the classification cache
    assert labeller.cache_hits >= sum(m.context is None for m in messages[1::2])


def test_key_ignores_what_the_classifier_does_not_read() -> None:
    text = "【示例云】您的网站 site1-example.cn 已完成取消接入，请尽快办理接入备案。"
    a = parse(text, sender="10690000123", received_at="2025-03-01T09:00:00")
    b = parse(text, sender="10690000123", received_at="2025-04-01T18:30:00")
    b = b.model_copy(update={"raw_text": "另一份原文"})
    assert classification_inputs(a) == classification_inputs(b)
    assert Pipeline.default().classifier.classify_notice(a) == (
        Pipeline.default().classifier.classify_notice(b)
    )


def test_subject_is_in_the_key_because_the_classifier_reads_it() -> None:
    text = "您好，您提交的工单我们已处理完毕。"
    a = parse(RawMessage(text=text, subject="取消接入处理完成", channel="email"))
    b = parse(RawMessage(text=text, subject="工单已处理", channel="email"))
    assert classification_inputs(a) != classification_inputs(b)
    classifier = Pipeline.default().classifier
    assert classifier.classify_notice(a).situation != classifier.classify_notice(b).situation


def test_entity_values_stay_in_the_key_because_rules_read_them() -> None:
    """Masking domains would be unsound: a look-alike domain is phishing, another is not."""
    classifier = Pipeline.default().classifier

    def notice(domain: str) -> Notice:
        return parse(
            f"【示例云】您的网站 {domain} 备案信息需要核对，请登录 {domain}/login 处理。",
            sender="10690000123",
        )

    plain, lookalike = notice("site1-example.cn"), notice("beian-check.cn")
    assert classification_inputs(plain) != classification_inputs(lookalike)
    rules = [
        [e.id for e in classifier.classify_notice(n).evidence if e.source == "rule"]
        for n in (plain, lookalike)
    ]
    assert rules[0] != rules[1]


def test_context_rows_are_never_shared() -> None:
    msgs = context_messages()
    rows = list(label(msgs, now=NOW))
    assert [r["classification"]["situation"] for r in rows] == [None, "access_domain", None]
    pipeline = Pipeline.default()
    for row, msg in zip(rows, msgs, strict=True):
        assert {k: v for k, v in row.items() if k not in ("seq", "source")} == _reference(
            pipeline, msg
        )


def test_utc_times_serialise_like_pydantic_on_cache_hits() -> None:
    text = "【示例云】您的备案申请（新增网站 site2-example.cn）已审核通过，备案号：京ICP备2024123456号-1。"
    msgs = [
        RawMessage(text=text, sender="10690000123", received_at=f"2025-03-0{d}T01:00:00Z")
        for d in (1, 2)
    ]
    rows = list(label(msgs, now=NOW))
    assert [r["notice"]["received_at"] for r in rows] == [
        "2025-03-01T01:00:00Z",
        "2025-03-02T01:00:00Z",
    ]
    assert rows[1]["advice"] == _reference(Pipeline.default(), msgs[1])["advice"]


# --------------------------------------------------------------------------- bounded memory


def test_rows_stay_exact_when_the_caches_evict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(labeller_module, "CACHE_SIZE", 4)
    small = Labeller(now=NOW)
    pipeline = Pipeline.default()
    for i in range(40):
        msg = RawMessage(
            text=f"【示例云】您的备案订单 BA{1000 + i} 已通过初审，已提交管局审核。",
            sender="10690000123",
            received_at=dt.datetime(2025, 3, 1, tzinfo=SHANGHAI) + dt.timedelta(hours=i),
        )
        for seq in (2 * i, 2 * i + 1):  # each text twice: a cache hit, then evicted later
            row = small.label_message(seq, msg)
            assert {k: v for k, v in row.items() if k not in ("seq", "source")} == _reference(
                pipeline, msg
            )
    assert small.cache_hits >= 40
