"""``Advisor.retime`` and ``Advisor.arrival_matters``: re-timing an advice gives exactly what
``Advisor.advise`` gives for the new arrival time, on every corpus record (with its context),
in both languages, at several clocks and arrival times — including the sides of the sync wait
and of a deadline, times in other zones, at the edges of the supported range and no time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from icp_notify.advisor import Advisor
from icp_notify.classifier import Classifier
from icp_notify.corpus import load_corpus
from icp_notify.models import SHANGHAI, Classification, Notice, RawMessage
from icp_notify.parse import parse

UTC = dt.UTC
ARRIVALS: list[dt.datetime | None] = [
    dt.datetime(2025, 3, 4, 9, 12, tzinfo=SHANGHAI),
    dt.datetime(2025, 3, 4, 9, 12, 30, tzinfo=SHANGHAI),  # the same minute, another second
    dt.datetime(2025, 3, 4, 23, 59, 30, tzinfo=UTC),
    None,
    dt.datetime(2025, 3, 6, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30))),
    dt.datetime(1990, 1, 1, 8, 0, tzinfo=SHANGHAI),
    dt.datetime(2099, 12, 31, 20, 0, tzinfo=SHANGHAI),  # + 7 h leaves the supported range
    dt.datetime(2025, 3, 5, 3, 0, tzinfo=SHANGHAI),
]
# at the second clock the arrivals fall on both sides of the sync wait and of a 24-hour limit
NOWS: list[dt.datetime | None] = [None, dt.datetime(2025, 3, 5, 12, 0, tzinfo=SHANGHAI)]


def _cases() -> list[tuple[Classification, Notice]]:
    classifier = Classifier.default()
    out = []
    for record in load_corpus():
        msg = RawMessage(
            text=record.text,
            channel=record.channel,
            sender=record.sender,
            subject=record.subject,
            received_at=record.received_at,
        )
        notice = parse(msg)
        out.append((classifier.classify_notice(notice, record.context), notice))
    return out


@pytest.fixture(scope="module")
def cases() -> list[tuple[Classification, Notice]]:
    return _cases()


def _advise(
    advisor: Advisor, c: Classification, notice: Notice, at: Any, *, now: Any, lang: str
) -> str:
    """What ``advise`` gives for the notice arriving at ``at``, as JSON (times with offsets)."""
    moved = notice.model_copy(update={"received_at": at})
    return advisor.advise(c, moved, now=now, lang=lang).model_dump_json()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_retime_is_advise_on_the_whole_corpus(
    cases: list[tuple[Classification, Notice]], lang: str
) -> None:
    advisor = Advisor.default()
    timed = 0
    for c, notice in cases:
        if not advisor.arrival_matters(c, notice):  # no arrival time changes this advice
            now = NOWS[1]
            assert (
                len({_advise(advisor, c, notice, at, now=now, lang=lang) for at in ARRIVALS}) == 1
            )
            continue
        timed += 1
        for now in NOWS:
            was = advisor.timing(c, notice, now=now, received_at=ARRIVALS[0])
            first = advisor.compose(c, notice, lang, was, was.texts(lang))  # type: ignore[arg-type]
            assert first.model_dump_json() == _advise(
                advisor, c, notice, ARRIVALS[0], now=now, lang=lang
            )
            advice, timing = first, was
            for at in ARRIVALS[1:]:
                expected = _advise(advisor, c, notice, at, now=now, lang=lang)
                # from the first advice, and chained from the last one
                for base, base_timing in ((first, was), (advice, timing)):
                    got, got_timing = advisor.retime(
                        base, base_timing, c, notice, now=now, received_at=at
                    )
                    assert got.model_dump_json() == expected, (notice.text, now, at)
                    assert got_timing == advisor.timing(c, notice, now=now, received_at=at)
                advice, timing = got, got_timing
    assert timed > 100  # the corpus has many advices that read the arrival time


def test_retime_shares_what_the_time_does_not_change() -> None:
    advisor = Advisor.default()
    notice = parse(
        RawMessage(
            text="【示例云】您的备案申请（新增网站 site1-example.cn）已审核通过，备案号：京ICP备2019123456号-1。",
            received_at=ARRIVALS[0],
        )
    )
    c = Classifier.default().classify_notice(notice)
    assert advisor.arrival_matters(c, notice)
    now = dt.datetime(2025, 3, 4, 12, tzinfo=SHANGHAI)  # before the sync wait is over
    was = advisor.timing(c, notice, now=now)
    first = advisor.compose(c, notice, "zh", was, was.texts("zh"))
    again, timing = advisor.retime(first, was, c, notice, now=now, received_at=ARRIVALS[0])
    assert again is first  # nothing changed: the same advice
    assert timing == was
    later, timing = advisor.retime(first, was, c, notice, now=now, received_at=ARRIVALS[1])
    assert later.references is first.references  # shared, not built again
    assert later.summary == first.summary  # the same minute
    assert ARRIVALS[1] is not None
    assert later.reachable_after == ARRIVALS[1] + dt.timedelta(hours=advisor.sync_hours)
    assert later.wait == first.wait + dt.timedelta(seconds=30)  # type: ignore[operator]
    # arrived early enough for the wait to be over: the after_sync texts, composed anew
    early = dt.datetime(2025, 3, 4, 1, 0, tzinfo=SHANGHAI)
    past, timing = advisor.retime(first, was, c, notice, now=now, received_at=early)
    assert timing.after
    assert past.wait == dt.timedelta(0)
    assert past.summary != first.summary
    assert past.model_dump_json() == _advise(advisor, c, notice, early, now=now, lang="zh")


def test_arrival_does_not_matter_for_a_cancellation_or_a_stated_date() -> None:
    advisor = Advisor.default()
    for text in (
        "【示例云】尊敬的用户，您的网站 site1-example.cn 已完成取消接入，请尽快办理接入备案。",
        "【示例云】经核查，您的域名 site4-example.cn 未解析至示例云服务器，请于2025年3月5日前整改，逾期将取消接入。",
    ):
        notice = parse(text)
        c = Classifier.default().classify_notice(notice)
        assert not advisor.arrival_matters(c, notice)
        now = dt.datetime(2025, 3, 4, 12, tzinfo=SHANGHAI)
        advices = {_advise(advisor, c, notice, at, now=now, lang="zh") for at in ARRIVALS}
        assert len(advices) == 1
