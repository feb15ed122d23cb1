"""A repeat's parse is reused for another arrival time only where the arrival time cannot change
it: without dates, or at the same instant *and* UTC offset. A date's year is chosen from the
arrival's local date, and the same instant in two zones can fall on two dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from icp_notify.batch import Labeller
from icp_notify.models import SHANGHAI, RawMessage
from icp_notify.parse import parse
from icp_notify.pipeline import Pipeline

NOW = "2025-03-06T12:00:00+08:00"
# 8月30日 is 182 days after 2025-03-01 and 182 days before 2025-02-28: the year follows the date
TEXT = "【示例云】您的网站 site1-example.cn 请于8月30日前完成备案信息核对，逾期将取消接入。"
LOCAL = dt.datetime(2025, 3, 1, 1, 0, tzinfo=SHANGHAI)
ARRIVALS = [
    LOCAL,
    LOCAL.astimezone(dt.UTC),  # the same instant, on 2025-02-28
    LOCAL,
    LOCAL.astimezone(dt.timezone(dt.timedelta(hours=8))),  # the same instant and offset
    LOCAL + dt.timedelta(hours=1),
    None,
]


def _fresh(msg: RawMessage) -> dict[str, Any]:
    report = Pipeline.default().analyze_notice(parse(msg), now=NOW)
    return report.model_dump(mode="json")


def test_the_same_instant_in_another_zone_is_parsed_again() -> None:
    years = {
        parse(RawMessage(text=TEXT, received_at=at)).entities.dates[0].value for at in ARRIVALS
    }
    assert {d.year for d in years if d is not None} == {2024, 2025}  # the case is real
    labeller = Labeller(now=NOW)
    for seq, at in enumerate(ARRIVALS):
        msg = RawMessage(text=TEXT, received_at=at)
        row = labeller.label_message(seq, msg)
        assert {k: v for k, v in row.items() if k not in ("seq", "source")} == _fresh(msg), at
