"""Bright Sky (DWD): observed and forecast weather for a point, kept apart; revised values
replace the ones held."""

from __future__ import annotations

from tests.connectors.helpers import features_of, live

PATH = "/weather"
CONFIG = {
    "wetter": {
        "type": "brightsky",
        "lat": 51.1657,
        "lon": 7.0671,
        "name": "Wetter Solingen",
        "parameters": ["temperature", "precipitation", "wind_speed"],
        "every": "1h",
    }
}


def _series(hub, thing_id: int) -> dict[str, list]:
    thing = hub.get(
        f"/v1.1/Things({thing_id})?$expand=Datastreams("
        "$expand=Observations($orderby=phenomenonTime;$select=phenomenonTime,result))"
    ).json()
    return {
        d["properties"]["sourceKey"]: [
            (o["phenomenonTime"][11:16], o["result"]) for o in d["Observations"]
        ]
        for d in thing["Datastreams"]
    }


def test_observations_and_forecasts_are_separate_datastreams(hub, connectors):
    weather = connectors(CONFIG)
    weather.source.serve(PATH, "brightsky/weather.json")
    outcome = weather.run("wetter")
    assert outcome.status == "ok", outcome.error
    params = weather.source.requests[0].url.params
    assert (params["lat"], params["lon"]) == ("51.1657", "7.0671")
    assert "date" in params
    assert "last_date" in params

    (place,) = features_of(hub, "wetter").values()
    assert place["properties"]["name"] == "Wetter Solingen"
    assert place["properties"]["stations"] == {"observed": "Düsseldorf", "forecast": "DUESSELDORF"}
    series = _series(hub, place["thing_id"])
    assert series["temperature"] == [("04:00", 3.1), ("05:00", 3.4), ("06:00", 3.6)]
    assert series["temperature:forecast"] == [("07:00", 3.9), ("08:00", 4.6)]
    assert set(series) == {
        "temperature",
        "temperature:forecast",
        "precipitation",
        "precipitation:forecast",
        "wind_speed",
        "wind_speed:forecast",
    }
    assert weather.run("wetter").summary.observations_added == 0


def test_a_newer_forecast_replaces_the_older_and_observations_follow(hub, connectors):
    weather = connectors(CONFIG)
    weather.source.serve(PATH, "brightsky/weather.json")
    weather.run("wetter")
    weather.source.serve(PATH, "brightsky/weather-later.json")
    summary = weather.run("wetter").summary
    # 07:00 is observed now (3 values), 09:00 forecast anew (3); 08:00's temperature revised.
    assert summary.observations_added == 6
    assert summary.observations_revised == 1
    (place,) = features_of(hub, "wetter").values()
    series = _series(hub, place["thing_id"])
    assert series["temperature"][-1] == ("07:00", 3.7)
    assert series["temperature:forecast"] == [("07:00", 3.9), ("08:00", 4.9), ("09:00", 5.3)]


@live
def test_brightsky_live(hub, connectors):
    outcome = connectors(CONFIG, live=True).run("wetter")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.observations_added > 0
