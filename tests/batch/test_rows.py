"""Batch rows are independent: changing one row changes no other row and no cache entry."""

from __future__ import annotations

import copy
import json

import pytest

from icp_notify.batch import Labeller, label, label_frame
from icp_notify.models import RawMessage, SourceRef

CANCELLED = (
    "【示例云】尊敬的用户，您的网站 lvshan-tea.cn（浙ICP备2031000456号-1）已完成取消接入，"
    "请尽快在新接入商处办理接入备案，以免备案被注销。"
)
NOW = "2025-03-06T12:00:00+08:00"


def _message(i: int) -> RawMessage:
    return RawMessage(
        text=CANCELLED,
        channel="sms",
        sender="10690000123",
        received_at=f"2025-03-0{1 + i % 3}T10:00:00+08:00",
        source=SourceRef(file="archive.jsonl", line=i + 1, index=i),
    )


def _vandalise(row: dict[str, object]) -> None:
    notice = row["notice"]
    classification = row["classification"]
    advice = row["advice"]
    assert isinstance(notice, dict)
    assert isinstance(classification, dict)
    assert isinstance(advice, dict)
    classification["situation"] = "other"
    classification["candidates"].append("new_domain")
    classification["evidence"].clear()
    notice["entities"]["domains"].clear()
    notice["entities"]["icp_numbers"][0]["canonical"] = "changed"
    notice["text"] = "changed"
    advice["steps"].append("changed")
    advice["summary"] = "changed"


def test_mutating_a_row_changes_no_other_row_and_no_later_row() -> None:
    labeller = Labeller(now=NOW)
    first = labeller.label_message(0, _message(0))
    second = labeller.label_message(1, _message(1))
    pristine = copy.deepcopy(second)
    _vandalise(first)
    assert second == pristine
    third = labeller.label_message(2, _message(2))
    assert labeller.cache_hits >= 2  # the later rows came from the caches
    assert third["classification"]["situation"] == "access_cancelled"
    assert third["classification"] == pristine["classification"]
    assert third["notice"]["entities"] == pristine["notice"]["entities"]
    assert third["advice"] == pristine["advice"]
    _vandalise(third)
    fourth = labeller.label_message(3, _message(0))
    assert fourth["notice"]["text"] != "changed"
    assert fourth["notice"]["entities"]["domains"]
    assert json.loads(fourth.json) == fourth  # type: ignore[attr-defined]


def test_rows_from_label_do_not_share_dicts() -> None:
    rows = list(label([_message(i) for i in range(4)], now=NOW))
    seen: set[int] = set()
    for row in rows:
        assert row["classification"]["situation"] == "access_cancelled"
        for part in ("notice", "classification", "advice"):
            for value in (row[part], *row[part].values()):
                if isinstance(value, dict | list) and value:
                    assert id(value) not in seen
                    seen.add(id(value))
    assert json.dumps(rows[1], ensure_ascii=False) == rows[1].json  # type: ignore[attr-defined]


class _StandIn:
    """A pipeline that refuses every notice (so its rows are recognisable)."""

    def analyze_notice(self, *args: object, **kwargs: object) -> object:
        from icp_notify.errors import IcpNotifyError

        raise IcpNotifyError("stand-in pipeline")


def test_label_frame_default_labeller_follows_the_default_pipeline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pandas as pd

    from icp_notify.pipeline import Pipeline

    df = pd.DataFrame({"text": [CANCELLED]})
    with monkeypatch.context() as patch:
        patch.setattr(Pipeline, "default", classmethod(lambda cls: _StandIn()))
        assert label_frame(df)["error"].tolist() == ["failed"]
    out = label_frame(df)  # the real default again, not the labeller cached for the stand-in
    assert out["error"].tolist() == [None]
    assert out["situation"].tolist() == ["access_cancelled"]
