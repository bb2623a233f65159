"""Column-wise conversion means what the per-value functions mean, on every path."""

from __future__ import annotations

import pytest

from cityhub.errors import BadRequest
from cityhub.sensorthings import columns
from cityhub.store import schema
from cityhub.timeutil import parse_instant, parse_time

TIMES = [
    "2026-11-26T10:00:00Z",
    "2026-11-26T10:00:00.123456789Z",
    "2026-11-26T10:00:00,5Z",
    "2026-11-26T10:00:00.25+01:30",
    "2010-12-23T10:20:00-0700",
    "2026-11-26T10:00:00+05",
    "2026-11-26T10:00Z",
    "2026-11-26t10:00:00z",
    " 2026-11-26T10:00:00Z ",
    "2026-11-26T10:00:00Z/2026-11-26T11:00:00Z",
    "2026-11-26T10:00:00Z/PT1H",
    "P1D/2026-11-26T10:00:00Z",
    # rejected by parse_time, though fromisoformat takes some of them
    "2026-11-26T11:00:00Z/2026-11-26T10:00:00Z",
    "2026-11-26 10:00:00Z",
    "20261126T100000Z",
    "2026-W48-4T10:00:00Z",
    "2026-11-26T10:00:00+05:00:30",
    "2026-11-26T10:00:00",
    "2026-11-26",
    "2026-11-26T24:00:00Z",
    "2026-11-26T10:00:00+24:00",
    "yesterday",
    "",
]


def _expected(parse, text):
    try:
        return parse(text)
    except BadRequest:
        return None


@pytest.mark.parametrize("text", TIMES)
def test_times_mean_what_parse_time_means(text):
    expected = _expected(parse_time, text)
    # Alone (the column's fast path when it applies), and beside a null (the per-value path).
    for column in ([text], [text, None]):
        starts, ends, rejected = columns.times(column)
        if expected is None:
            assert rejected == {0}
        else:
            assert rejected == set()
            assert (starts[0], ends[0]) == (expected.start, expected.end)
            assert starts[0].tzinfo is not None


@pytest.mark.parametrize("text", TIMES)
def test_instants_mean_what_parse_instant_means(text):
    expected = _expected(parse_instant, text)
    for column in ([text], [text, None]):
        values, rejected = columns.instants(column, nullable=True)
        assert values[0] == expected
        assert rejected == (set() if expected is not None else {0})


def test_valid_time_must_be_an_interval():
    starts, ends, rejected = columns.times(
        ["2026-11-26T10:00:00Z", "2026-11-26T10:00:00Z/2026-11-26T11:00:00Z", None],
        interval_only=True,
    )
    assert rejected == {0}
    assert ends[1] is not None
    assert (starts[2], ends[2]) == (None, None)


@pytest.mark.parametrize(
    ("values", "types", "rejected"),
    [
        ([1.5, 2.5], [schema.RESULT_FLOAT] * 2, set()),
        ([1, 2], [schema.RESULT_INTEGER] * 2, set()),
        (["a", "b"], [schema.RESULT_STRING] * 2, set()),
        (
            [1, 2.5, True],
            [schema.RESULT_INTEGER, schema.RESULT_FLOAT, schema.RESULT_BOOLEAN],
            set(),
        ),
        ([2**60, 1], [schema.RESULT_JSON, schema.RESULT_INTEGER], set()),
        ([{"a": 1}, [1]], [schema.RESULT_JSON] * 2, set()),
        (["ok", "bad\x00"], [schema.RESULT_STRING, schema.RESULT_NULL], {1}),
        ([1.0, None], [schema.RESULT_FLOAT, schema.RESULT_NULL], {1}),
        ([float("inf"), 1.0], [schema.RESULT_NULL, schema.RESULT_FLOAT], {0}),
    ],
)
def test_results_fill_the_typed_columns(values, types, rejected):
    typed, found = columns.results(values)
    assert typed["result_type"] == types
    assert found == rejected


def test_references_take_ids_and_digit_strings_in_range():
    def holds(i):
        return 0 < i < 100

    ids, rejected = columns.references([1, "2", None, 0, 100, "x", True, 2.0], holds)
    assert ids[:3] == [1, 2, None]
    assert rejected == {3, 4, 5, 6, 7}
    assert columns.references([5, 6], holds) == ([5, 6], set())
