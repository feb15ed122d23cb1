"""Field-wise JSON texts equal ``json.dumps(model.model_dump(mode="json"), ensure_ascii=False)``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from icp_notify.batch.jsontext import ModelText, dumps, fields_text, same_value, segments_of
from icp_notify.models import Advice, RawMessage, Reference, Report, SourceRef
from icp_notify.parse import parse
from icp_notify.pipeline import Pipeline

SOURCES = [
    None,
    SourceRef(file="a.jsonl", line=3, offset=10, index=2),
    SourceRef(file="a.jsonl", line=3, offset=10, index=2, message_id="m7"),
    SourceRef(line=1),
    SourceRef(file='dir/引号"\\x.csv', message_id="id\u2028\x01\ud800", index=0),
    SourceRef(),
]
TIMES: list[Any] = [
    None,
    dt.datetime(2025, 3, 4, 9, 12, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    dt.datetime(2025, 3, 4, 1, 0, tzinfo=dt.UTC),
    dt.datetime(2025, 3, 4, 1, 0, 0, 500, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
]


def _json(model: Any) -> str:
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False)


@pytest.fixture(scope="module")
def report() -> Report:
    msg = RawMessage(
        text="【示例云】您的备案申请（新增网站 site1-example.cn）已审核通过，备案号：京ICP备2019123456号-1。",
        sender="10690000123",
        received_at="2025-03-04T09:12:00+08:00",
        source=SOURCES[1],
    )
    result: Report = Pipeline.default().analyze_notice(parse(msg), now="2025-03-04T12:00:00+08:00")
    return result


def test_kept_text_is_json_dumps(report: Report) -> None:
    for model in (report.notice, report.classification, report.advice, report):
        assert ModelText(model).text() == _json(model)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("at", TIMES)
def test_splice_and_text_of_a_copy(report: Report, source: SourceRef | None, at: Any) -> None:
    kept = ModelText(report.notice)
    copy = report.notice.model_copy(update={"received_at": at, "source": source})
    fresh = copy.model_dump(mode="json", include={"received_at", "source"})
    assert kept.splice(fresh) == _json(copy)
    assert kept.text(copy) == _json(copy)
    assert kept.text(copy, changed=("received_at", "source")) == _json(copy)


def test_text_of_an_advice_with_other_times_and_texts(report: Report) -> None:
    kept = ModelText(report.advice)
    other: Advice = report.advice.model_copy(
        update={
            "summary": "预计2025-03-05 02:30（北京时间）之后",
            "wait": dt.timedelta(hours=3, microseconds=5),
            "references": (Reference(title="工信部", url="https://beian.miit.gov.cn/"),),
        }
    )
    assert kept.text(other) == _json(other)
    whole = fields_text(
        Report,
        {
            "notice": ModelText(report.notice).text(),
            "classification": ModelText(report.classification).text(),
            "advice": kept.text(other),
            "version": dumps(report.version),
        },
    )
    assert whole == _json(report.model_copy(update={"advice": other}))


def test_dumps_is_json_dumps() -> None:
    for value in ["备案\n\u2028\ud800", {"a": [1, 2.5, None, True, {}]}, [], 10**30, -0.0, 1e-7]:
        assert dumps(value) == json.dumps(value, ensure_ascii=False)


def test_same_value_only_when_the_json_is_certainly_the_same() -> None:
    a = dt.datetime(2025, 3, 4, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    b = a.astimezone(dt.UTC)
    assert a == b
    assert not same_value(a, b)
    assert same_value(("x", "y"), ("x", "y"))
    assert not same_value(("x",), ["x"])
    assert not same_value(True, 1)
    assert not same_value(0.5, float("0.5"))  # floats: only the same object
    r = Reference(title="t", url="https://a.example.cn/")
    assert same_value((r,), (r.model_copy(),))
    assert not same_value((r,), (r.model_copy(update={"title": "u"}),))


def test_segments_of_are_the_kept_texts_around_any_fields(report: Report) -> None:
    import itertools

    for model in (report.notice, report.classification, report.advice, report, *SOURCES[1:]):
        assert model is not None
        names = tuple(type(model).model_fields)
        kept = ModelText(model)
        assert kept.whole == _json(model)
        assert kept.texts == tuple(dumps(v) for v in model.model_dump(mode="json").values())
        for n in range(4):
            for changed in itertools.combinations(names, n):
                between, order = segments_of(model, changed)
                assert (between, order) == ModelText(model).segments(changed), changed
                texts = dict(zip(names, kept.texts, strict=True))
                joined = between[0] + "".join(
                    texts[name] + after for name, after in zip(order, between[1:], strict=True)
                )
                assert joined == _json(model)
