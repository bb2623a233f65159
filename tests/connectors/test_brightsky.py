"""Bright Sky: DWD observations appended, forecasts replaced, the two kept apart."""

from __future__ import annotations

import pytest
from tests.connectors.helpers import count, features_of, live

from cityhub.connectors.base import ConnectorError
from cityhub.connectors.brightsky import BrightSky
from cityhub.connectors.config import ConnectorConfig
from cityhub.store import schema

PATH = "/weather"
SIEGEN = {"type": "brightsky", "lat": 50.8749, "lon": 8.0243, "place": "Siegen", "every": "1h"}
CONFIG = {"wetter": SIEGEN}


def streams(hub, thing_id: int) -> dict[str, dict]:
    """The Thing's Datastreams by key, each with its Observations as {time: result}."""
    query = "$expand=Datastreams($expand=Observations($orderby=phenomenonTime;$top=100))"
    thing = hub.get(f"/v1.1/Things({thing_id})?{query}").json()
    return {
        d["properties"]["sourceKey"]: {
            **d,
            "values": {o["phenomenonTime"][11:16]: o["result"] for o in d["Observations"]},
        }
        for d in thing["Datastreams"]
    }


def test_observations_and_forecasts_become_separate_datastreams(hub, connectors):
    weather = connectors(CONFIG)
    weather.source.serve(PATH, "brightsky/weather.json")
    outcome = weather.run("wetter")
    assert outcome.status == "ok", outcome.error
    summary = outcome.summary
    assert (summary.places_created, summary.things_created, summary.datastreams_created) == (
        1,
        1,
        16,
    )
    # 3 observed hours × 8 parameters, less one missing precipitation; 3 forecast hours × 8.
    assert summary.observations_added == 23 + 24

    params = weather.source.requests[0].url.params
    assert (params["lat"], params["lon"], params["tz"]) == ("50.8749", "8.0243", "Etc/UTC")
    assert params["date"] < params["last_date"]

    (place,) = features_of(hub, "wetter").values()
    assert place["properties"]["name"] == "Siegen"
    assert place["properties"]["observationStation"]["station_name"] == "Siegen"
    assert place["properties"]["forecastStation"]["wmo_station_id"] == "10520"
    assert place["provenance"]["source"] == "https://api.brightsky.dev/weather"

    found = streams(hub, place["thing_id"])
    observed, forecast = found["temperature"], found["temperature/forecast"]
    assert observed["properties"]["kind"] == "observation"
    assert forecast["properties"]["kind"] == "forecast"
    assert observed["unitOfMeasurement"]["symbol"] == "°C"
    assert observed["values"] == {"04:00": 2.4, "05:00": 2.1, "06:00": 1.9}
    assert forecast["values"] == {"07:00": 1.8, "08:00": 2.3, "09:00": 3.4}
    assert found["precipitation"]["values"] == {"04:00": 0.0, "05:00": 0.2}
    assert found["wind_speed"]["unitOfMeasurement"]["symbol"] == "km/h"


def test_a_second_run_changes_nothing(hub, connectors):
    weather = connectors(CONFIG)
    weather.source.serve(PATH, "brightsky/weather.json")
    weather.run("wetter")
    observations = count(hub, schema.observations)
    again = weather.run("wetter").summary
    assert not again.changed
    assert again.observations_known == 47
    assert count(hub, schema.observations) == observations


def test_forecasts_are_replaced_as_revised_and_observations_appended(hub, connectors):
    weather = connectors(CONFIG)
    weather.source.serve(PATH, "brightsky/weather.json")
    weather.run("wetter")
    weather.source.serve(PATH, "brightsky/weather-later.json")
    later = weather.run("wetter")
    assert later.status == "ok", later.error
    (place,) = features_of(hub, "wetter").values()
    found = streams(hub, place["thing_id"])
    # The observation of 07:00 is appended; the earlier ones stay.
    assert found["temperature"]["values"] == {
        "04:00": 2.4,
        "05:00": 2.1,
        "06:00": 1.9,
        "07:00": 1.6,
    }
    # 08:00 revised, 09:00 as it was, 10:00 new; 07:00 stays as last forecast.
    assert found["temperature/forecast"]["values"] == {
        "07:00": 1.8,
        "08:00": 2.0,
        "09:00": 3.4,
        "10:00": 4.2,
    }
    assert found["sunshine/forecast"]["values"]["08:00"] == 0
    assert later.summary.datastreams_created == 0

    settled = weather.run("wetter").summary
    assert not settled.changed


def test_an_error_answer_is_a_failure_and_keeps_the_weather(hub, connectors):
    weather = connectors(CONFIG)
    weather.source.serve(PATH, "brightsky/weather.json")
    weather.run("wetter")
    observations = count(hub, schema.observations)
    body = b'{"title": "Service Unavailable", "description": "Database is being updated"}'
    weather.source.answer(PATH, 200, body)
    failed = weather.run("wetter")
    assert failed.status == "failed"
    assert "no 'weather' list: Service Unavailable; Database is being updated" in failed.error
    assert count(hub, schema.observations) == observations

    weather.source.answer(PATH, 404, b'{"title": "Not Found", "description": "No sources"}')
    missing = weather.run("wetter")
    assert missing.status == "failed"
    assert "404" in missing.error


def test_options_are_checked():
    config = ConnectorConfig.model_validate({**SIEGEN, "parameters": ["temperature", "ozone"]})
    with pytest.raises(ConnectorError, match=r"parameters: Value error, unknown \['ozone'\]"):
        BrightSky("wetter", config)
    without_point = ConnectorConfig.model_validate({"type": "brightsky"})
    with pytest.raises(ConnectorError, match="lat: Field required"):
        BrightSky("wetter", without_point)


@live
def test_brightsky_live(hub, connectors):
    """The real service still answers in the format the connector reads."""
    config = {**SIEGEN, "parameters": ["temperature"], "past_hours": 3, "forecast_hours": 3}
    outcome = connectors({"wetter": config}, live=True).run("wetter")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.datastreams_created == 2
    assert outcome.summary.observations_added >= 4
