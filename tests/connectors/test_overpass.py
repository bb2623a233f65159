"""OpenStreetMap via Overpass: POIs by tag in an area, tags as properties, key osm type/id."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from tests.connectors.helpers import features_of, live

from cityhub.connectors.base import ConnectorError
from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.overpass import Overpass, OverpassOptions, overpass_query

PATH = "/api/interpreter"
TOILETS = {
    "type": "overpass",
    "tags": ["amenity=toilets"],
    "bbox": [7.95, 50.83, 8.1, 50.92],
    "every": "1d",
}


def sent_query(request) -> str:
    return parse_qs(request.content.decode())["data"][0]


def test_pois_become_features_keyed_by_osm_type_and_id(hub, connectors):
    osm = connectors({"toiletten": TOILETS})
    osm.source.serve(PATH, "overpass/toilets.json")
    outcome = osm.run("toiletten")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created == 5
    assert outcome.summary.things_created == 0
    made = hub.get("/api/admin/datasets/toiletten", headers=hub.admin).json()
    assert made["licence"] == "http://dcat-ap.de/def/licenses/odbl"

    request = osm.source.requests[0]
    assert request.method == "POST"
    query = sent_query(request)
    assert "[out:json][timeout:120];" in query
    assert 'node["amenity"="toilets"](50.83,7.95,50.92,8.1);' in query
    assert 'way["amenity"="toilets"](50.83,7.95,50.92,8.1);' in query
    assert query.endswith("out tags center qt;")

    places = features_of(hub, "toiletten")
    assert set(places) == {
        "node/2871043151",
        "node/5092218733",
        "node/9912345001",
        "way/401223871",
        "relation/13377001",
    }
    market = places["node/2871043151"]["properties"]
    assert market["wheelchair"] == "yes"
    assert market["opening_hours"] == "Mo-Sa 07:00-20:00"
    assert market["osmUrl"] == "https://www.openstreetmap.org/node/2871043151"
    assert market["name"] == "toilets"  # no name tag: what it is
    park = places["way/401223871"]["properties"]
    assert park["name"] == "Toilettenhaus Schlosspark"
    assert park["osmType"] == "way"
    # A tag named like the key property is kept beside it.
    station = places["node/9912345001"]["properties"]
    assert (station["id"], station["osm:id"]) == ("node/9912345001", "SI-WC-07")
    assert (
        places["way/401223871"]["provenance"]["source"] == "https://overpass-api.de/api/interpreter"
    )

    served = hub.get("/features/collections/toiletten/items?wheelchair=yes")
    assert served.status_code == 200, served.text
    (item,) = served.json()["features"]
    assert item["properties"]["osmUrl"].endswith("/node/2871043151")
    assert item["geometry"]["coordinates"] == [8.0233472, 50.8747521]


def test_a_second_run_changes_nothing_and_a_later_one_updates_and_marks_gone(hub, connectors):
    osm = connectors({"toiletten": TOILETS})
    osm.source.serve(PATH, "overpass/toilets.json")
    osm.run("toiletten")
    again = osm.run("toiletten").summary
    assert not again.changed
    assert again.places_unchanged == 5

    osm.source.serve(PATH, "overpass/toilets-later.json")
    later = osm.run("toiletten").summary
    assert (later.places_updated, later.places_gone, later.places_unchanged) == (1, 1, 3)
    places = features_of(hub, "toiletten")
    assert places["node/5092218733"]["gone_at"] is not None
    assert places["node/2871043151"]["properties"]["opening_hours"] == "24/7"


def test_a_timeout_remark_or_a_query_error_fails_and_keeps_the_pois(hub, connectors):
    osm = connectors({"toiletten": TOILETS})
    osm.source.serve(PATH, "overpass/toilets.json")
    osm.run("toiletten")
    osm.source.serve(PATH, "overpass/timeout.json")
    failed = osm.run("toiletten")
    assert failed.status == "failed"
    assert "the result is incomplete: runtime error: Query timed out" in failed.error
    assert all(p["gone_at"] is None for p in features_of(hub, "toiletten").values())

    page = (
        b'<?xml version="1.0" encoding="UTF-8"?><html><body><p><strong>Error</strong>: '
        b"line 3: parse error: Key expected - '=' found.</p></body></html>"
    )
    osm.source.answer(PATH, 400, page, "text/html")
    bad = osm.run("toiletten")
    assert bad.status == "failed"
    assert "400 Bad Request: Error : line 3: parse error" in bad.error


def test_an_area_by_name_and_several_selectors():
    options = OverpassOptions.model_validate(
        {
            "tags": ["amenity=charging_station", "access!=private", "capacity"],
            "area": 'Olpe "Stadt"',
            "admin_level": 8,
            "types": ["node"],
        }
    )
    assert overpass_query(options) == (
        "[out:json][timeout:120];\n"
        'area["name"="Olpe \\"Stadt\\""]["admin_level"="8"]->.searchArea;\n'
        "(\n"
        '  node["amenity"="charging_station"]["access"!="private"]["capacity"]'
        "(area.searchArea);\n"
        ");\n"
        "out tags center qt;"
    )


def test_options_are_checked():
    both = ConnectorConfig.model_validate({**TOILETS, "area": "Siegen"})
    with pytest.raises(ConnectorError, match="give either 'bbox' or 'area'"):
        Overpass("osm", both)
    bad = ConnectorConfig.model_validate({**TOILETS, "tags": ["amenity~toilets"]})
    with pytest.raises(ConnectorError, match="is not 'key=value'"):
        Overpass("osm", bad)


@live
def test_overpass_live(hub, connectors):
    """The real interpreter still answers in the format the connector reads."""
    config = {**TOILETS, "bbox": [8.01, 50.87, 8.03, 50.88]}
    outcome = connectors({"toiletten": config}, live=True).run("toiletten")
    assert outcome.status == "ok", outcome.error
    assert all(
        key.split("/")[0] in ("node", "way", "relation") for key in features_of(hub, "toiletten")
    )
