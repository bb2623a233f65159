"""Pegelonline: gauges as live features, water level and discharge as Datastreams."""

from __future__ import annotations

import pytest
from tests.connectors.helpers import count, features_of, live

from cityhub.connectors.base import ConnectorError
from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.pegelonline import STATIONS_URL, Pegelonline
from cityhub.store import schema

PATH = "/webservices/rest-api/v2/stations.json"
KOELN = "a6ee8177-107b-47dd-bcfd-30960ccc6e9c"
BONN = "f3dc8f07-c2bb-4b38-b510-c9f8ec7bd3a7"
CONFIG = {"pegel": {"type": "pegelonline", "waters": ["RHEIN"], "every": "15m"}}


def test_gauges_become_live_features_with_their_water_level(hub, connectors):
    hub_connectors = connectors(CONFIG)
    hub_connectors.source.serve(PATH, "pegelonline/stations.json")
    outcome = hub_connectors.run("pegel")
    assert outcome.status == "ok", outcome.error
    summary = outcome.summary
    assert (summary.places_created, summary.things_created) == (3, 3)
    # Köln: W and Q (WT is not kept by default); Düsseldorf and Bonn: W.
    assert (summary.datastreams_created, summary.observations_added) == (4, 4)

    request = hub_connectors.source.requests[0]
    assert request.url.params["waters"] == "RHEIN"
    assert request.url.params["includeCurrentMeasurement"] == "true"

    features = features_of(hub, "pegel")
    koeln = features[KOELN]
    assert koeln["properties"]["name"] == "Köln"
    assert koeln["properties"]["gaugeZero"] == {
        "unit": "m. ü. NHN",
        "value": 34.97,
        "validFrom": "2019-11-01",
    }
    assert koeln["thing_id"] is not None
    assert koeln["provenance"]["connector"] == "pegel"
    assert koeln["provenance"]["source"].startswith(STATIONS_URL)
    assert "fetched_at" in koeln["provenance"]

    thing = hub.get(
        f"/v1.1/Things({koeln['thing_id']})?$expand=Datastreams($expand=Observations)"
    ).json()
    streams = {d["properties"]["sourceKey"]: d for d in thing["Datastreams"]}
    assert set(streams) == {"W", "Q"}
    assert streams["W"]["unitOfMeasurement"]["symbol"] == "cm"
    assert streams["W"]["properties"]["gaugeZero"]["value"] == 34.97
    level = streams["W"]["Observations"][0]
    assert level["result"] == 312
    assert level["phenomenonTime"].startswith("2026-12-03T06:00:00")
    assert level["parameters"]["stateMnwMhw"] == "normal"
    assert streams["Q"]["Observations"][0]["result"] == 1890.0


def test_a_second_run_adds_nothing_and_a_later_one_marks_the_missing_gauge_gone(hub, connectors):
    hub_connectors = connectors(CONFIG)
    hub_connectors.source.serve(PATH, "pegelonline/stations.json")
    hub_connectors.run("pegel")
    observations = count(hub, schema.observations)

    again = hub_connectors.run("pegel").summary
    assert again.observations_added == 0
    assert again.observations_known == 4
    assert (again.places_created, again.places_updated, again.places_unchanged) == (0, 0, 3)
    assert not again.changed
    assert count(hub, schema.observations) == observations
    assert count(hub, schema.things) == 3

    hub_connectors.source.serve(PATH, "pegelonline/stations-later.json")
    later = hub_connectors.run("pegel").summary
    assert later.places_gone == 1
    assert later.observations_added == 3
    assert count(hub, schema.things) == 3
    features = features_of(hub, "pegel")
    assert features[BONN]["gone_at"] is not None
    assert features[KOELN]["gone_at"] is None


def test_an_html_error_page_fails_the_run_and_keeps_the_data(hub, connectors):
    hub_connectors = connectors(CONFIG)
    hub_connectors.source.serve(PATH, "pegelonline/stations.json")
    hub_connectors.run("pegel")
    page = b"<html><head><title>Wartungsarbeiten</title></head><body>Bald wieder da</body></html>"
    hub_connectors.source.answer(PATH, 200, page, "text/html")
    failed = hub_connectors.run("pegel")
    assert failed.status == "failed"
    assert "HTML page: Wartungsarbeiten" in failed.error
    assert "SourceError" in failed.error
    assert all(f["gone_at"] is None for f in features_of(hub, "pegel").values())
    assert count(hub, schema.observations) == 4

    status = hub.portal.call(hub_connectors.service.status)["pegel"]
    assert status["last_run"]["status"] == "failed"
    assert "Wartungsarbeiten" in status["last_run"]["error"]
    assert status["last_success"]["status"] == "ok"


def test_an_unchanged_source_answers_304_and_the_run_does_nothing(hub, connectors):
    hub_connectors = connectors(CONFIG)
    hub_connectors.source.etag = '"v1"'
    hub_connectors.source.serve(PATH, "pegelonline/stations.json")
    assert hub_connectors.run("pegel").summary.observations_added == 4
    second = hub_connectors.run("pegel")
    assert second.summary.source_unchanged
    assert hub_connectors.source.requests[-1].headers["If-None-Match"] == '"v1"'


def test_a_json_error_remark_is_a_failure_not_an_empty_source(hub, connectors):
    hub_connectors = connectors(CONFIG)
    hub_connectors.source.answer(PATH, 200, b'{"status": 500, "error": "database unavailable"}')
    failed = hub_connectors.run("pegel")
    assert failed.status == "failed"
    assert "database unavailable" in failed.error
    assert features_of(hub, "pegel") == {}


def test_unknown_options_are_named():
    config = ConnectorConfig.model_validate({"type": "pegelonline", "rivers": ["RHEIN"]})
    with pytest.raises(ConnectorError, match=r"connector 'pegel': invalid options: rivers"):
        Pegelonline("pegel", config)


@live
def test_pegelonline_live(hub, connectors):
    """The real service still answers in the format the connector reads."""
    config = {"type": "pegelonline", "stations": ["KÖLN"], "timeseries": ["W"]}
    outcome = connectors({"pegel": config}, live=True).run("pegel")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created == 1
    assert outcome.summary.observations_added == 1
    (koeln,) = features_of(hub, "pegel").values()
    assert koeln["properties"]["gaugeZero"]["value"] > 0
