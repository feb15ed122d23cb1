"""icp_notify.boundary: the one reading of times and contexts from outside, and its errors."""

from __future__ import annotations

import datetime as dt
import types

import pytest

import icp_notify
from icp_notify.boundary import coerce_context, coerce_time
from icp_notify.errors import InputError
from icp_notify.models import DATETIME_MAX, DATETIME_MIN, SHANGHAI, Context, Operation, Situation
from icp_notify.pipeline import Pipeline
from icp_notify.readers.common import parse_time

EIGHT = dt.timedelta(hours=8)
GENERIC = "【工信部】尊敬的用户，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
US = dt.timedelta(microseconds=1)


def _error(value: object, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as info:
        coerce_time(value, field="when", **kwargs)  # type: ignore[call-overload]
    assert info.value.code == "invalid_field"
    assert info.value.where == "when"
    assert isinstance(info.value, ValueError)  # callers catching ValueError still work
    return info.value


# --------------------------------------------------------------------------- times


def test_a_naive_datetime_is_asia_shanghai() -> None:
    when = coerce_time(dt.datetime(2025, 3, 4, 9, 12), field="now")
    assert when == dt.datetime(2025, 3, 4, 1, 12, tzinfo=dt.UTC)
    assert when.tzinfo is SHANGHAI


def test_an_aware_datetime_is_returned_as_given() -> None:
    given = dt.datetime(2025, 3, 4, 9, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert coerce_time(given, field="now") is given


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04T09:12:00+08:00", dt.datetime(2025, 3, 4, 1, 12, tzinfo=dt.UTC)),
        ("2025-03-04T01:12:00Z", dt.datetime(2025, 3, 4, 1, 12, tzinfo=dt.UTC)),
        ("  2025-03-04 09:12  ", dt.datetime(2025, 3, 4, 1, 12, tzinfo=dt.UTC)),
        ("2025-03-04", dt.datetime(2025, 3, 3, 16, 0, tzinfo=dt.UTC)),
        ("20250304", dt.datetime(2025, 3, 3, 16, 0, tzinfo=dt.UTC)),  # ISO basic, not epoch
    ],
)
def test_iso_strings(text: str, expected: dt.datetime) -> None:
    when = coerce_time(text, field="received_at")
    assert when == expected
    assert when.utcoffset() is not None


def test_epoch_numbers_are_read_only_when_asked() -> None:
    march = dt.datetime(2025, 3, 4, 1, 12, tzinfo=dt.UTC)
    assert coerce_time(1741050720, field="t", epoch="auto") == march
    assert coerce_time(1741050720000, field="t", epoch="auto") == march  # above 10^11: ms
    assert coerce_time(1741050720.0, field="t", epoch="auto") == march
    assert coerce_time(" 1741050720000 ", field="t", epoch="auto") == march
    assert coerce_time(1741050720000, field="t", epoch="ms") == march
    assert coerce_time("1741050720000", field="t", epoch="ms").utcoffset() == EIGHT
    # seconds sent where milliseconds are due are 1970, not 2025
    assert "1741050720 (epoch milliseconds)" in _error(1741050720, epoch="ms").message
    assert "not int" in _error(1741050720).message  # no epoch: a number is not a time
    # a string of digits is ISO 8601 without epoch, an epoch number with it
    assert coerce_time("20250304", field="t").year == 2025
    assert "epoch seconds or milliseconds" in _error("20250304", epoch="auto").message


def test_the_range_ends() -> None:
    assert coerce_time(DATETIME_MIN, field="t") == DATETIME_MIN
    assert coerce_time(DATETIME_MAX - US, field="t") == DATETIME_MAX - US
    for value in (DATETIME_MIN - US, DATETIME_MAX):
        err = _error(value)
        assert err.message.endswith("outside the supported range 1990-01-01 to 2100-01-01 (UTC)")
        assert err.hint is not None
        assert "placeholder" in err.hint
    # naive ends are Asia/Shanghai: 1990-01-01 08:00 there is the first instant
    assert coerce_time(dt.datetime(1990, 1, 1, 8), field="t") == DATETIME_MIN
    assert "1990-01-01T07:59:59" in _error(dt.datetime(1990, 1, 1, 7, 59, 59)).message


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0001-01-01T00:00:00+14:00", "'0001-01-01T00:00:00+14:00'"),
        ("9999-12-31T23:00:00+08:00", "'9999-12-31T23:00:00+08:00'"),
        (dt.datetime(1, 1, 1), "0001-01-01T00:00:00"),
        (dt.datetime(9999, 12, 31, 23, 59), "9999-12-31T23:59:00"),
    ],
)
def test_out_of_range_times_both_ends(value: object, shown: str) -> None:
    err = _error(value)
    assert err.message == f"{shown} is outside the supported range 1990-01-01 to 2100-01-01 (UTC)"


@pytest.mark.parametrize(
    "number", [99999999999999999999999, -(10**22), 10**400, 1e300, float("nan"), -5]
)
def test_epoch_numbers_that_overflow_are_out_of_range(number: float) -> None:
    err = _error(number, epoch="auto")
    assert "(epoch seconds or milliseconds) is outside the supported range" in err.message


def test_unreadable_strings_say_what_to_send() -> None:
    err = _error("yesterday")
    assert err.message == "cannot read 'yesterday' as a date and time"
    assert err.hint == "use ISO 8601, e.g. 2025-03-04T09:12:00+08:00 (no zone = Asia/Shanghai)"
    err = _error("x" * 100, epoch="auto")
    assert err.message == f"cannot read {'x' * 40!r} as a date and time"  # clipped
    assert err.hint is not None
    assert err.hint.endswith("or epoch seconds or milliseconds")


@pytest.mark.parametrize(
    ("value", "epoch", "name"),
    [
        (True, "auto", "bool"),
        (1741050720, None, "int"),
        ([2025, 3, 4], "auto", "list"),
        (dt.date(2025, 3, 4), None, "date"),
        (b"2025-03-04", None, "bytes"),
    ],
)
def test_other_types_are_refused(value: object, epoch: str | None, name: str) -> None:
    err = _error(value, epoch=epoch)
    assert err.message.startswith("expected a datetime or an ISO 8601 string")
    assert err.message.endswith(f", not {name}")


def test_none_is_no_time() -> None:
    assert coerce_time(None, field="now") is None
    assert coerce_time(None, field="t", epoch="ms") is None


# --------------------------------------------------------------------------- contexts

OPERATION = {"kind": "new_domain", "submitted_at": "2025-03-01T10:00:00"}


def test_a_context_and_none_pass_through() -> None:
    ctx = Context(operations=(Operation(kind=Situation.NEW_DOMAIN, submitted_at=DATETIME_MIN),))
    assert coerce_context(ctx) is ctx
    assert coerce_context(None) is None


def test_a_mapping_is_validated() -> None:
    ctx = coerce_context({"operations": [OPERATION]})
    assert ctx is not None
    assert ctx.operations[0].kind is Situation.NEW_DOMAIN
    assert ctx.operations[0].submitted_at.utcoffset() == EIGHT  # the time rule inside too
    proxy = coerce_context(types.MappingProxyType({"previous_notices": []}))
    assert proxy == Context()


@pytest.mark.parametrize(
    ("value", "where", "says"),
    [
        ({"operations": [{"kind": "bogus"}]}, "context.operations.0.kind", "Input should be"),
        (
            {"operations": [{**OPERATION, "submitted_at": "9999-01-01"}]},
            "context.operations.0.submitted_at",
            "outside the supported range",
        ),
        (
            {"operations": [OPERATION, {"kind": "new_domain"}]},
            "context.operations.1.submitted_at",
            "Field required",
        ),
        (
            {"previous_notices": [{"text": "x", "received_at": "soon"}]},
            "context.previous_notices.0.received_at",
            "Input should be a valid datetime",
        ),
        ({"operation": [OPERATION]}, "context.operation", "Extra inputs are not permitted"),
        (["new_domain"], "context", "expected an object, not list"),
        ("new_domain", "context", "expected an object, not str"),
    ],
)
def test_bad_contexts_name_the_field(value: object, where: str, says: str) -> None:
    with pytest.raises(InputError) as info:
        coerce_context(value)  # type: ignore[arg-type]
    err = info.value
    assert (err.code, err.where) == ("invalid_field", where)
    assert err.message.startswith("invalid context: ")
    assert says in err.message
    assert err.hint is not None
    assert '"operations"' in err.hint


# --------------------------------------------------------------------------- entry points


def test_every_entry_point_words_a_bad_context_alike() -> None:
    bad = {"operations": [{"kind": "cancel"}]}
    messages = set()
    for call in (
        lambda: icp_notify.classify(GENERIC, context=bad),
        lambda: icp_notify.analyze(GENERIC, context=bad),
        lambda: Pipeline.default().analyze_notice(icp_notify.parse(GENERIC), context=bad),
    ):
        with pytest.raises(InputError) as info:
            call()
        messages.add(str(info.value))
    assert len(messages) == 1
    assert messages.pop().startswith("context.operations.0.kind: invalid context: ")


def test_entry_points_name_their_time_field() -> None:
    with pytest.raises(InputError) as info:
        icp_notify.parse(GENERIC, received_at="yesterday")
    assert (info.value.where, info.value.message) == (
        "received_at",
        "cannot read 'yesterday' as a date and time",
    )
    with pytest.raises(InputError) as info:
        icp_notify.analyze(GENERIC, now="0001-01-01T00:00:00")
    assert info.value.where == "now"
    assert "outside the supported range" in info.value.message


def test_archive_times_take_epoch_numbers_and_empty_values() -> None:
    assert parse_time("1741050720000") == dt.datetime(2025, 3, 4, 1, 12, tzinfo=dt.UTC)
    assert parse_time(" null ") is None
    assert parse_time("") is None
    with pytest.raises(InputError) as info:
        parse_time(True)
    assert info.value.where == "received_at"


def test_epoch_seconds_in_range_take_the_short_path_with_the_same_result() -> None:
    from icp_notify import boundary

    assert boundary._EPOCH_MAX < boundary._MS_ABOVE  # an int below it is read as seconds
    first, end = int(DATETIME_MIN.timestamp()), int(DATETIME_MAX.timestamp())
    for number in (first - 1, first, first + 1, 1741050720, end - 1, end, -first, 0):
        try:
            # the general path: the number as epoch seconds, then the range rule
            expected: object = boundary.aware_in_range(
                boundary._from_epoch(number, field="t", epoch="auto")
            )
        except (ValueError, InputError):
            expected = "refused"
        try:
            got: object = coerce_time(number, field="t", epoch="auto")
        except InputError:
            got = "refused"
        assert got == expected, number
        if isinstance(got, dt.datetime):
            assert isinstance(expected, dt.datetime)
            assert got.tzinfo is SHANGHAI
            assert got.isoformat() == expected.isoformat()
    assert "not bool" in _error(True, epoch="auto").message  # a bool is not an int here
    assert "(epoch milliseconds)" in _error(first, epoch="ms").message  # ms: 1970, refused


def test_in_range_is_the_range_rule_in_asia_shanghai_and_elsewhere() -> None:
    from icp_notify.models import in_datetime_range

    def in_range_by_the_rule(when: dt.datetime) -> bool:
        return DATETIME_MIN <= when < DATETIME_MAX

    times = []
    for year in range(1986, 2102):
        for month, day, hour in ((1, 1, 0), (1, 1, 7), (1, 1, 8), (7, 1, 12), (12, 31, 23)):
            local = dt.datetime(year, month, day, hour, 59, 59, 999999)
            times += [local.replace(tzinfo=SHANGHAI), local.replace(tzinfo=dt.UTC)]
            times.append(local.replace(tzinfo=dt.timezone(dt.timedelta(hours=14))))
    times += [DATETIME_MIN, DATETIME_MAX, DATETIME_MIN - US, DATETIME_MAX - US]
    times += [t.astimezone(SHANGHAI) for t in (DATETIME_MIN, DATETIME_MAX, DATETIME_MAX - US)]
    for when in times:
        assert in_datetime_range(when) is in_range_by_the_rule(when), when
        try:
            expected: object = when if in_range_by_the_rule(when) else "refused"
            got: object = coerce_time(when, field="t")
        except InputError:
            got = "refused"
        assert got is expected or got == expected == "refused", when


def test_format_time_writes_what_strftime_writes() -> None:
    from icp_notify.advisor import format_time

    for when in (DATETIME_MIN, DATETIME_MAX - US, dt.datetime(2025, 3, 4, 1, 2, tzinfo=dt.UTC)):
        local = when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        assert format_time(when, "zh") == f"{local}（北京时间）"
        assert format_time(when, "en") == f"{local} (Beijing time, UTC+8)"
