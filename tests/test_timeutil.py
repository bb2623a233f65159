from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cityhub.errors import BadRequest
from cityhub.timeutil import (
    TimeValue,
    format_instant,
    format_time,
    parse_date,
    parse_duration,
    parse_instant,
    parse_time,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02t03:04:05z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04Z", datetime(2024, 1, 2, 3, 4, tzinfo=UTC)),
        ("2024-01-02T03:04:05+01:00", datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05+0130", datetime(2024, 1, 2, 1, 34, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05-02", datetime(2024, 1, 2, 5, 4, 5, tzinfo=UTC)),
        ("2024-01-01T00:30:00+01:00", datetime(2023, 12, 31, 23, 30, tzinfo=UTC)),
        ("2024-01-02T03:04:05.5Z", datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
        ("2024-01-02T03:04:05,25Z", datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)),
        ("2024-01-02T03:04:05.123456Z", datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2024-01-02T03:04:05.1234569Z", datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("  2024-01-02T03:04:05Z ", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_parse_instant(text, expected):
    value = parse_instant(text)
    assert value == expected
    assert value.utcoffset() == timedelta(0)


def test_parse_instant_returns_utc_tzinfo():
    assert parse_instant("2024-06-01T12:00:00+02:00").tzinfo is UTC


def test_parse_instant_requires_offset():
    with pytest.raises(BadRequest, match="time zone offset required") as info:
        parse_instant("2024-01-02T03:04:05")
    assert "'2024-01-02T03:04:05'" in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-01-02",
        "yesterday",
        "2024-13-02T03:04:05Z",
        "2024-02-30T03:04:05Z",
        "2024-01-02T24:00:00Z",
        "2024-01-02T03:60:00Z",
        "2024-01-02T03:04:05+24:00",
        "2024-01-02T03:04:05+01:60",
        "2024-01-02T03:04:05.Z",
        "2024-01-02 03:04:05Z",
        "0001-01-01T00:00:00+01:00",
    ],
)
def test_parse_instant_rejects(text):
    with pytest.raises(BadRequest, match=r"date-time|offset"):
        parse_instant(text)


def test_parse_date():
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    with pytest.raises(BadRequest, match="'2023-02-29'"):
        parse_date("2023-02-29")
    with pytest.raises(BadRequest, match="YYYY-MM-DD"):
        parse_date("2024-01-02T00:00:00Z")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P1D", timedelta(days=1)),
        ("PT1H", timedelta(hours=1)),
        ("PT90M", timedelta(minutes=90)),
        ("PT1.5S", timedelta(seconds=1.5)),
        ("P2W", timedelta(weeks=2)),
        ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("-PT1H", timedelta(hours=-1)),
        ("P0D", timedelta(0)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "1D", "P1H", "PT1D", "P1.5D", "-P", ""])
def test_parse_duration_rejects_malformed(text):
    with pytest.raises(BadRequest, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P1Y", "P2M", "P1Y2M3D"])
def test_parse_duration_rejects_calendar_units(text):
    with pytest.raises(BadRequest, match="years and months"):
        parse_duration(text)


def test_parse_time_instant():
    value = parse_time("2024-01-02T03:04:05+01:00")
    assert value == TimeValue(datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC))
    assert not value.is_interval
    assert value.end is None


def test_parse_time_interval():
    value = parse_time("2024-01-01T00:00:00Z/2024-01-02T00:00:00+01:00")
    assert value.is_interval
    assert value.start == datetime(2024, 1, 1, tzinfo=UTC)
    assert value.end == datetime(2024, 1, 1, 23, tzinfo=UTC)


def test_parse_time_empty_interval_is_allowed():
    value = parse_time("2024-01-01T00:00:00Z/2024-01-01T00:00:00Z")
    assert value.is_interval
    assert value.start == value.end


def test_parse_time_start_and_duration():
    value = parse_time("2024-01-01T00:00:00Z/PT1H30M")
    assert value == TimeValue(
        datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 1, 30, tzinfo=UTC)
    )


def test_parse_time_duration_and_end():
    value = parse_time("P1D/2024-01-02T00:00:00Z")
    assert value == TimeValue(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-01-02T00:00:00Z/2024-01-01T00:00:00Z", "end is before start"),
        ("2024-01-02T00:00:00Z/", "expected start/end"),
        ("/2024-01-02T00:00:00Z", "expected start/end"),
        ("a/b/c", "expected start/end"),
        ("P1D/PT1H", "at most one end"),
        ("2024-01-02T00:00:00Z/-PT1H", "must not be negative"),
        ("2024-01-02T00:00:00Z/P1M", "years and months"),
        ("2024-01-02T00:00:00/2024-01-03T00:00:00Z", "time zone offset required"),
    ],
)
def test_parse_time_rejects(text, message):
    with pytest.raises(BadRequest, match=message):
        parse_time(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC), "2024-01-02T03:04:05.12Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=UTC), "2024-01-02T03:04:05.000001Z"),
        (
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-02T01:04:05Z",
        ),
        (datetime(99, 1, 2, 3, 4, 5, tzinfo=UTC), "0099-01-02T03:04:05Z"),
    ],
)
def test_format_instant(value, expected):
    assert format_instant(value) == expected


def test_format_instant_rejects_naive():
    with pytest.raises(ValueError, match="aware"):
        format_instant(datetime(2024, 1, 2))


def test_format_instant_round_trips():
    text = "2024-05-06T07:08:09.654321Z"
    assert format_instant(parse_instant(text)) == text


def test_format_time():
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime(2024, 1, 2, 0, 0, 0, 500000, tzinfo=UTC)
    assert format_time(start) == "2024-01-01T00:00:00Z"
    assert format_time(start, None) == "2024-01-01T00:00:00Z"
    assert format_time(start, end) == "2024-01-01T00:00:00Z/2024-01-02T00:00:00.5Z"
