"""sensor.community: air quality and climate in a bounding box; indoor sensors and saturated
readings are flagged, not published as truth."""

from __future__ import annotations

import pytest
from tests.connectors.helpers import features_of, live

from cityhub.connectors.base import ConnectorError
from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.sensor_community import SATURATION, SensorCommunity
from cityhub.datasets import create_dataset

BOX = [51.10, 6.98, 51.22, 7.16]
PATH = "/airrohr/v1/filter/box=51.1,6.98,51.22,7.16"


@pytest.fixture
def air(hub, connectors):
    hub.store.write_blocking(
        lambda c: create_dataset(c, slug="luft", title="Luftqualität", licence="cc-by/4.0")
    )

    def make(**options):
        config = {"type": "sensor-community", "dataset": "luft", "box": BOX, **options}
        made = connectors({"luft": config})
        made.source.serve(PATH, "sensor-community/box.json")
        return made

    return make


def _streams(hub, thing_id: int) -> dict[str, list]:
    thing = hub.get(
        f"/v1.1/Things({thing_id})?$expand=Datastreams($expand=Observations($orderby=phenomenonTime))"
    ).json()
    return {
        d["properties"]["valueType"]: [
            (o["result"], o.get("resultQuality")) for o in d["Observations"]
        ]
        for d in thing["Datastreams"]
    }


def test_outdoor_sensors_in_the_box_with_pm_temperature_and_humidity(hub, air):
    connector = air()
    outcome = connector.run("luft")
    assert outcome.status == "ok", outcome.error
    assert str(connector.source.requests[0].url).endswith(PATH)
    summary = outcome.summary
    assert summary.flagged == 4  # two saturated readings, two of an indoor sensor
    assert summary.observations_added == 6
    features = features_of(hub, "luft")
    assert set(features) == {"9001", "9002"}  # the indoor sensor's location is left out
    streams = _streams(hub, features["9001"]["thing_id"])
    assert streams == {
        "P1": [(13.05, None), (12.4, None)],
        "P2": [(7.48, None), (7.1, None)],
        "temperature": [(3.85, None)],
        "humidity": [(91.2, None)],
    }
    # The saturated sensor is a place, but none of its readings became an Observation.
    assert features["9002"]["thing_id"] is None
    assert connector.run("luft").summary.observations_added == 0


def test_flagged_readings_kept_on_request_carry_their_flag(hub, air):
    outcome = air(include_indoor=True, keep_flagged=True).run("luft")
    assert outcome.summary.flagged == 4
    features = features_of(hub, "luft")
    assert features["9003"]["properties"]["indoor"] is True
    saturated = _streams(hub, features["9002"]["thing_id"])["P1"]
    assert saturated == [(999.9, SATURATION)]
    indoor = _streams(hub, features["9003"]["thing_id"])["P2"]
    assert indoor[0][1].startswith("indoor sensor")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give a 'box'"),
        ({"box": [51.2, 7.0, 51.1, 7.1]}, "south must lie below north"),
        ({"box": [51.1, 7.0]}, "four numbers"),
    ],
)
def test_the_box_is_checked(options, message):
    config = ConnectorConfig.model_validate({"type": "sensor-community", **options})
    with pytest.raises(ConnectorError, match=message):
        SensorCommunity("luft", config)


def test_a_dataset_the_connector_cannot_create_is_a_clear_failure(hub, connectors):
    config = {"type": "sensor-community", "box": BOX, "dataset": "feinstaub"}
    connector = connectors({"luft": config})
    connector.source.serve(PATH, "sensor-community/box.json")
    outcome = connector.run("luft")
    assert outcome.status == "failed"
    assert "cityhub dataset create feinstaub" in outcome.error


@live
def test_sensor_community_live(hub, connectors):
    hub.store.write_blocking(
        lambda c: create_dataset(c, slug="luft", title="Luft", licence="cc-by/4.0")
    )
    config = {"type": "sensor-community", "dataset": "luft", "box": BOX}
    outcome = connectors({"luft": config}, live=True).run("luft")
    assert outcome.status == "ok", outcome.error
