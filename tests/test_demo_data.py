"""The Solingen demo dataset must be loadable, self-consistent and plausible."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from cityhub.demo_data import DEMO_DAYS, DEMO_MARKER, demo_observations, demo_things

OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
END = datetime(2025, 11, 27, 9, 7, 30, tzinfo=UTC)
START = END - timedelta(days=DEMO_DAYS)


@pytest.fixture(scope="module")
def things() -> list[dict]:
    return demo_things()


@pytest.fixture(scope="module")
def datastreams(things: list[dict]) -> dict[str, dict]:
    return {ds["properties"]["demoKey"]: ds for thing in things for ds in thing["Datastreams"]}


@pytest.fixture(scope="module")
def observations() -> list[tuple[str, datetime, object]]:
    return list(demo_observations(START, END))


@pytest.fixture(scope="module")
def by_stream(observations: list[tuple[str, datetime, object]]) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for key, moment, result in observations:
        grouped[key].append((moment, result))
    return grouped


def test_things_carry_marker_and_unique_keys(things: list[dict]) -> None:
    assert len(things) == 10
    keys = [thing["properties"]["demoKey"] for thing in things]
    assert all(thing["properties"]["demo"] == DEMO_MARKER for thing in things)
    assert len(set(keys)) == len(keys)
    assert all(isinstance(key, str) and key for key in keys)


def test_thing_bodies_are_deep_inserts_without_observations(things: list[dict]) -> None:
    for thing in things:
        assert thing["name"]
        assert thing["description"]
        assert len(thing["Locations"]) == 1
        location = thing["Locations"][0]
        assert location["encodingType"] == "application/geo+json"
        assert location["location"]["type"] == "Point"
        assert thing["Datastreams"]
        for ds in thing["Datastreams"]:
            assert "Observations" not in ds
            assert ds["observationType"].startswith(OM)
            assert set(ds["unitOfMeasurement"]) == {"name", "symbol", "definition"}
            assert ds["Sensor"]["encodingType"] in {"application/pdf", "text/html"}
            assert ds["Sensor"]["metadata"].startswith("https://")
            assert ds["ObservedProperty"]["definition"].startswith("http")


def test_datastream_keys_are_unique(things: list[dict], datastreams: dict[str, dict]) -> None:
    total = sum(len(thing["Datastreams"]) for thing in things)
    assert total == 24
    assert len(datastreams) == total


def test_shared_entities_are_identical_by_name(things: list[dict]) -> None:
    for entity in ("Sensor", "ObservedProperty"):
        seen: dict[str, dict] = {}
        for thing in things:
            for ds in thing["Datastreams"]:
                body = ds[entity]
                assert seen.setdefault(body["name"], body) == body
        assert len(seen) < 24


def test_parking_occupancy_is_a_truth_observation(datastreams: dict[str, dict]) -> None:
    occupancy = [ds for key, ds in datastreams.items() if key.endswith(":occupancy")]
    assert len(occupancy) == 6
    assert all(ds["observationType"] == OM + "OM_TruthObservation" for ds in occupancy)


def test_coordinates_are_in_solingen(things: list[dict]) -> None:
    for thing in things:
        lon, lat = thing["Locations"][0]["location"]["coordinates"]
        assert 6.98 <= lon <= 7.20, thing["name"]
        assert 51.10 <= lat <= 51.23, thing["name"]


def test_every_stream_has_observations_and_keys_are_known(
    datastreams: dict[str, dict], by_stream: dict[str, list]
) -> None:
    assert set(by_stream) == set(datastreams)


def test_results_match_observation_type(
    datastreams: dict[str, dict], observations: list[tuple[str, datetime, object]]
) -> None:
    for key, _moment, result in observations:
        kind = datastreams[key]["observationType"].removeprefix(OM)
        if kind == "OM_TruthObservation":
            assert isinstance(result, bool), key
        elif kind == "OM_CountObservation":
            assert isinstance(result, int), key
            assert not isinstance(result, bool), key
        else:
            assert isinstance(result, int | float), key
            assert not isinstance(result, bool), key


def test_observations_are_deterministic() -> None:
    first = list(demo_observations(START, END))
    second = list(demo_observations(START, END))
    assert first
    assert first == second


def test_overlapping_windows_agree(observations: list[tuple[str, datetime, object]]) -> None:
    later = list(demo_observations(START + timedelta(hours=7), END))
    expected = {(key, moment): result for key, moment, result in observations}
    assert later
    for key, moment, result in later:
        if key.endswith(":battery"):  # declines from the requested start
            continue
        assert expected[(key, moment)] == result


def test_times_are_aware_utc_within_window(
    observations: list[tuple[str, datetime, object]],
) -> None:
    for _key, moment, _result in observations:
        assert moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)
        assert START <= moment < END


def test_times_are_aligned_to_intervals(by_stream: dict[str, list]) -> None:
    expected_minutes = {
        ":occupancy": 15,
        ":battery": 360,
        ":air-temperature": 10,
        ":uv-index": 15,
        ":water-level": 15,
        ":pm10": 30,
    }
    for suffix, minutes in expected_minutes.items():
        streams = [readings for key, readings in by_stream.items() if key.endswith(suffix)]
        assert streams, suffix
        for readings in streams:
            step = timedelta(minutes=minutes)
            times = [moment for moment, _ in readings]
            assert all(b - a == step for a, b in pairwise(times))
            assert all((t.hour * 60 + t.minute) % minutes == 0 and t.second == 0 for t in times)
            assert len(times) == DEMO_DAYS * 24 * 60 // minutes


def test_other_time_zones_are_accepted() -> None:
    cet = timezone(timedelta(hours=1))
    local = list(demo_observations(START.astimezone(cet), END.astimezone(cet)))
    assert local == list(demo_observations(START, END))


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        list(demo_observations(START.replace(tzinfo=None), END))


def test_empty_window_yields_nothing() -> None:
    assert list(demo_observations(END, START)) == []


def test_uv_is_zero_at_night_and_low_in_november(by_stream: dict[str, list]) -> None:
    readings = by_stream["lamp-clemens-galerien:uv-index"]
    night = [value for moment, value in readings if moment.hour >= 17 or moment.hour < 6]
    day = [value for moment, value in readings if 10 <= moment.hour < 13]
    assert night
    assert all(value == 0 for value in night)
    assert max(day) > 0
    assert max(day) <= 2


def test_lamp_is_on_at_night_and_off_at_noon(by_stream: dict[str, list]) -> None:
    readings = by_stream["lamp-clemens-galerien:brightness"]
    assert all(value > 0 for moment, value in readings if moment.hour >= 18 or moment.hour < 6)
    assert all(value == 0 for moment, value in readings if 10 <= moment.hour < 14)


def test_water_level_stays_plausible(by_stream: dict[str, list]) -> None:
    levels = [value for _, value in by_stream["gauge-wupper-glueder:water-level"]]
    assert all(50 <= level <= 100 for level in levels)
    steps = [abs(b - a) for a, b in pairwise(levels)]
    assert max(steps) < 5  # a river gauge moves smoothly between 15-minute readings


def test_weather_is_late_november_like(by_stream: dict[str, list]) -> None:
    temperatures = [value for _, value in by_stream["weather-rathaus:air-temperature"]]
    assert 1 <= min(temperatures) < max(temperatures) <= 10
    humidity = [value for _, value in by_stream["weather-rathaus:relative-humidity"]]
    assert all(40 <= value <= 100 for value in humidity)
    pressure = [value for _, value in by_stream["weather-rathaus:air-pressure"]]
    assert all(980 <= value <= 1045 for value in pressure)
    rain = [value for _, value in by_stream["weather-rathaus:precipitation"]]
    assert all(value >= 0 for value in rain)


def test_parking_is_busier_by_day_than_at_night(by_stream: dict[str, list]) -> None:
    day = night = day_taken = night_taken = 0
    for key, readings in by_stream.items():
        if not key.endswith(":occupancy"):
            continue
        for moment, occupied in readings:
            if 10 <= moment.hour < 16:
                day += 1
                day_taken += occupied
            elif moment.hour < 4:
                night += 1
                night_taken += occupied
    assert day_taken / day > night_taken / night + 0.3


def test_battery_voltage_declines_slowly(by_stream: dict[str, list]) -> None:
    for key, readings in by_stream.items():
        if not key.endswith(":battery"):
            continue
        values = [value for _, value in readings]
        assert len(values) == DEMO_DAYS * 4
        assert all(3.3 <= value <= 3.65 for value in values)
        assert values[-1] < values[0]


def test_air_quality_is_in_urban_range(by_stream: dict[str, list]) -> None:
    for suffix, upper in ((":pm10", 80), (":pm2p5", 50), (":no2", 120)):
        values = [value for _, value in by_stream["air-schlagbaum" + suffix]]
        assert all(0 < value <= upper for value in values), suffix


def test_three_days_are_fast() -> None:
    began = time.perf_counter()
    count = sum(1 for _ in demo_observations(START, END))
    assert count > 3000
    assert time.perf_counter() - began < 1.0
