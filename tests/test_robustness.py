"""Client mistakes give typed errors, never a traceback or a 500.

Out-of-range times (year 0001 or 9999, epoch numbers that overflow), malformed bodies, and
arbitrary text and times fed to the real pipeline.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import icp_notify
from icp_notify.errors import InputError
from icp_notify.models import DATETIME_MAX, DATETIME_MIN, Notice, RawMessage

APPROVAL = "【腾讯云】尊敬的用户，您的网站 shop-demo.cn 接入备案已审核通过，现已成功接入腾讯云。"
FAR_FUTURE = "9999-12-31T23:00:00+08:00"
FAR_PAST = "0001-01-01T00:00:00+14:00"


# --------------------------------------------------------------------------- models / library


@pytest.mark.parametrize("value", [FAR_FUTURE, FAR_PAST, "1989-12-31T23:59:59+00:00"])
def test_aware_datetime_refuses_out_of_range_times(value: str) -> None:
    with pytest.raises(ValidationError, match="received_at"):
        RawMessage(text="x", received_at=value)


def test_aware_datetime_keeps_in_range_times() -> None:
    m = RawMessage(text="x", received_at="2099-12-31T23:00:00+08:00")
    assert m.received_at is not None
    assert m.received_at.year == 2099
    assert DATETIME_MIN < dt.datetime(2025, 1, 1, tzinfo=dt.UTC) < DATETIME_MAX


@pytest.mark.parametrize("value", [FAR_FUTURE, FAR_PAST])
def test_analyze_out_of_range_received_at_is_input_error(value: str) -> None:
    with pytest.raises(InputError) as info:
        icp_notify.analyze(APPROVAL, received_at=value)
    assert info.value.code == "invalid_field"
    assert info.value.where == "received_at"


def test_analyze_out_of_range_datetime_object_is_input_error() -> None:
    when = dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with pytest.raises(InputError, match="received_at"):
        icp_notify.analyze(APPROVAL, received_at=when)


def test_analyze_out_of_range_now_is_input_error() -> None:
    with pytest.raises(InputError) as info:
        icp_notify.analyze(APPROVAL, received_at="2025-03-01T10:00:00+08:00", now=FAR_PAST)
    assert info.value.where == "now"


def test_reachable_after_near_the_upper_bound_is_dropped_not_overflowed() -> None:
    report = icp_notify.analyze(APPROVAL, received_at="2099-12-31T23:59:00+00:00")
    assert report.classification.situation.value == "access_domain"
    assert report.advice.reachable_after is None  # + 7 h would leave the range


def test_huge_duration_gives_no_deadline() -> None:
    text = "【阿里云】您的网站 shop-demo.cn 备案核查未通过，请在999999个月内修改，备案号 京ICP备2031000123号。"
    report = icp_notify.analyze(text, received_at="2025-03-01T10:00:00+08:00")
    assert report.advice.deadline is None


def test_email_date_out_of_range_becomes_a_defect() -> None:
    mail = (
        "From: notice@example-cloud.cn\nDate: Fri, 31 Dec 9999 23:00:00 +0800\nSubject: 通知\n\n"
        "您的网站 lvshan-tea.cn 已完成取消接入。\n"
    ).encode()
    notice = icp_notify.parse(mail)
    assert notice.received_at is None
    assert any(d.code == "bad_date" for d in notice.defects)


@pytest.mark.parametrize("value", [99999999999999999999999, -(10**22), 1e300, FAR_FUTURE])
def test_reader_parse_time_out_of_range_is_value_error(value: object) -> None:
    from icp_notify.readers.common import parse_time

    with pytest.raises(ValueError, match="range"):
        parse_time(value)


# --------------------------------------------------------------------------- properties

_PIECES = [
    APPROVAL, "【工信部】尊敬的用户王**，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
    "请在24小时内", "有效期999999个月", "999999个月内", "请于2099年12月31日前", "请于1900年1月1日前", "3月1日",
    "12月31日23:59", "京ICP备2031000123号-1", "已完成取消接入", "\n", "> ",
]  # fmt: skip
_text = st.one_of(
    st.text(max_size=120),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=8).map("".join),
)
_zone = st.builds(
    dt.timezone,
    st.integers(min_value=-23 * 60 + 1, max_value=23 * 60 - 1).map(
        lambda m: dt.timedelta(minutes=m)
    ),
)
_when = st.one_of(
    st.none(),
    st.datetimes(timezones=_zone),
    st.datetimes(
        min_value=dt.datetime(1989, 12, 30), max_value=dt.datetime(2100, 1, 2), timezones=_zone
    ),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(text=_text, received_at=_when, now=_when)
def test_analyze_raises_only_input_error(
    text: str, received_at: dt.datetime | None, now: dt.datetime | None
) -> None:
    try:
        report = icp_notify.analyze(text, received_at=received_at, now=now)
    except InputError:
        return
    assert isinstance(report.notice, Notice)
    for value in (report.advice.reachable_after, report.advice.deadline):
        assert value is None or DATETIME_MIN <= value < DATETIME_MAX
    report.model_dump_json()


# --------------------------------------------------------------------------- server

pytest.importorskip("fastapi")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's httpx2 deprecation notice
    from fastapi.testclient import TestClient

TOKEN = "robustness-test-token"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from icp_notify.server import create_app
    from icp_notify.server.settings import Settings

    app = create_app(Settings(db=tmp_path / "robust.sqlite3", token=TOKEN))
    with TestClient(
        app, headers={"Authorization": f"Bearer {TOKEN}"}, raise_server_exceptions=False
    ) as c:
        yield c


def _error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert isinstance(body, dict)
    error = body["error"]
    assert isinstance(error, dict)
    return error


def test_smsforwarder_overflowing_timestamp_is_422_naming_timestamp(client: TestClient) -> None:
    r = client.post(
        "/v1/ingest/smsforwarder?filing=f",
        content=b'{"from": "12381", "content": "hello", "timestamp": 99999999999999999999999}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert _error(r)["where"] == "timestamp"


def test_smsforwarder_year_9999_received_at_is_422(client: TestClient) -> None:
    r = client.post(
        "/v1/ingest/smsforwarder?filing=f",
        data={"from": "12381", "content": APPROVAL, "timestamp": "253402297200000"},
    )
    assert r.status_code == 422, r.text
    assert _error(r)["where"] == "timestamp"


@pytest.mark.parametrize("value", [FAR_FUTURE, FAR_PAST])
def test_analyze_out_of_range_received_at_is_422(client: TestClient, value: str) -> None:
    r = client.post("/v1/analyze", json={"text": APPROVAL, "received_at": value})
    assert r.status_code == 422, r.text
    error = _error(r)
    assert error["code"] == "invalid_field"
    assert error["where"] == "body.received_at"


def test_analyze_invalid_utf8_json_is_422_malformed_json(client: TestClient) -> None:
    r = client.post(
        "/v1/analyze",
        content=b'{"text": "\xff\xfe bad"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    error = _error(r)
    assert error["code"] == "malformed_json"
    assert error["where"] == "body"


# --------------------------------------------------------------------------- command line


def test_cli_analyze_out_of_range_received_at_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from icp_notify.cli import main

    code = main(["analyze", APPROVAL, "--received-at", FAR_FUTURE])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("icp-notify analyze: error: --received-at: '9999-12-31T23:00:00+08:00'")
    assert "outside the supported range 1990-01-01 to 2100-01-01" in err
    assert len(err.splitlines()) == 1
