"""Ladesäulenregister: charging stations with their charge points, both CSV layouts."""

from __future__ import annotations

import httpx
import orjson
import pytest
from sqlalchemy import select
from tests.connectors.helpers import FIXTURES, count, features_of, live

from cityhub.connectors.base import SourceError
from cityhub.connectors.ladesaeulen import REGISTER_URL, decode, read_register
from cityhub.store import schema

PATH = httpx.URL(REGISTER_URL).path
CSV = "text/csv; charset=utf-8"
NRW = {"type": "ladesaeulenregister", "states": ["Nordrhein-Westfalen"], "every": "1d"}


def test_stations_become_features_with_their_charge_points(hub, connectors):
    chargers = connectors({"laden": NRW})
    chargers.source.serve(PATH, "ladesaeulen/register.csv", CSV)
    outcome = chargers.run("laden")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created == 4  # the station in Hessen is left out
    assert outcome.summary.things_created == 0

    stations = features_of(hub, "laden")
    assert set(stations) == {"40211", "40212", "40980", "51773"}
    mall = stations["40212"]["properties"]
    assert mall["name"] == "Stadtwerke Siegen, Koblenzer Straße 96-98, Siegen"
    assert mall["operator"] == "Stadtwerke Siegen GmbH"
    assert (mall["kind"], mall["powerKw"], mall["chargePointCount"]) == ("fast", 300, 4)
    assert mall["commissioned"] == "2023-10-02"
    assert mall["layout"] == "current"
    assert mall["payment"] == ["Kreditkarte", "RFID-Karte"]
    assert mall["chargePoints"][0] == {
        "plugs": ["DC Kupplung Combo", "CCS"],
        "powerKw": 150,
        "evseId": "DE*SWS*E40212*1",
    }
    assert mall["plugTypes"] == ["AC Kupplung Typ 2", "CCS", "DC CHAdeMO", "DC Kupplung Combo"]
    assert mall["maxPowerKw"] == 150
    # Six charge points (more than four), a thousands separator in the station's power.
    ionity = stations["40980"]["properties"]
    assert len(ionity["chargePoints"]) == 6
    assert ionity["powerKw"] == 1800
    # A decimal comma.
    assert stations["51773"]["properties"]["powerKw"] == 3.7
    assert stations["51773"]["properties"]["chargePoints"] == [
        {"plugs": ["AC Schuko"], "powerKw": 3.7}
    ]
    assert stations["40211"]["provenance"]["connector"] == "laden"

    assert geometries(hub)["40211"]["coordinates"] == pytest.approx([8.021457, 50.874823])


def geometries(hub) -> dict[str, dict]:
    table = schema.features
    rows = hub.store.read_blocking(lambda c: list(c.execute(select(table.c.key, table.c.geom))))
    return {key: orjson.loads(geom) for key, geom in rows if geom is not None}


def test_a_second_run_changes_nothing_and_a_later_register_updates_and_marks_gone(hub, connectors):
    chargers = connectors({"laden": NRW})
    chargers.source.serve(PATH, "ladesaeulen/register.csv", CSV)
    chargers.run("laden")
    again = chargers.run("laden").summary
    assert not again.changed
    assert again.places_unchanged == 4

    chargers.source.serve(PATH, "ladesaeulen/register-later.csv", CSV)
    later = chargers.run("laden").summary
    assert (later.places_updated, later.places_gone, later.places_unchanged) == (1, 1, 2)
    stations = features_of(hub, "laden")
    assert stations["51773"]["gone_at"] is not None
    assert len(stations["40211"]["properties"]["chargePoints"]) == 3
    assert count(hub, schema.features) == 4


def test_the_older_layout_in_windows_1252(hub, connectors):
    url = "https://example.org/r.csv?__blob=publicationFile&v=3"
    chargers = connectors({"archiv": {"type": "ladesaeulenregister", "url": url}})
    chargers.source.serve("/r.csv", "ladesaeulen/register-2021.csv", "text/csv")
    outcome = chargers.run("archiv")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created == 2  # the repeated row counts once
    assert chargers.source.requests[0].url.params["__blob"] == "publicationFile"
    stations = {f["properties"]["city"]: f for f in features_of(hub, "archiv").values()}
    arnsberg = stations["Arnsberg"]
    assert arnsberg["key"].startswith("bnetza-")
    props = arnsberg["properties"]
    assert props["layout"] == "older"
    assert props["addressSupplement"] == "Parkhaus Süd"
    assert (props["kind"], props["powerKw"], props["commissioned"]) == ("fast", 50, "2018-09-01")
    assert props["chargePoints"][0] == {"plugs": ["DC Kupplung Combo", "DC CHAdeMO"], "powerKw": 50}
    assert chargers.run("archiv").summary.places_unchanged == 2


def test_filters_by_district_postcode_and_bbox(hub, connectors):
    configs = {
        "kreis": {"type": "ladesaeulenregister", "districts": ["Kreis Olpe"]},
        "plz": {"type": "ladesaeulenregister", "postcodes": ["5707"]},
        "box": {"type": "ladesaeulenregister", "bbox": [7.8, 50.85, 8.0, 51.1]},
    }
    chargers = connectors(configs)
    chargers.source.serve(PATH, "ladesaeulen/register.csv", CSV)
    for name in configs:
        assert chargers.run(name).status == "ok"
    assert set(features_of(hub, "kreis")) == {"51773"}
    assert set(features_of(hub, "plz")) == {"40211", "40212"}
    assert set(features_of(hub, "box")) == {"40980", "51773"}


def test_an_error_page_or_an_empty_register_fails_and_keeps_the_stations(hub, connectors):
    chargers = connectors({"laden": NRW})
    chargers.source.serve(PATH, "ladesaeulen/register.csv", CSV)
    chargers.run("laden")
    page = b"<!DOCTYPE html><html><head><title>Wartung</title></head></html>"
    chargers.source.answer(PATH, 200, page, "text/html")
    failed = chargers.run("laden")
    assert failed.status == "failed"
    assert "HTML page, not the register CSV" in failed.error

    header_only = (FIXTURES / "ladesaeulen/register.csv").read_bytes().split(b"\r\n")[:10]
    chargers.source.answer(PATH, 200, b"\r\n".join(header_only) + b"\r\n", CSV)
    empty = chargers.run("laden")
    assert empty.status == "failed"
    assert "lists no charging stations" in empty.error

    chargers.source.answer(PATH, 200, b"Name;Wert\r\nA;1\r\n", CSV)
    other = chargers.run("laden")
    assert "no header line naming 'Betreiber' and 'Breitengrad'" in other.error
    assert all(s["gone_at"] is None for s in features_of(hub, "laden").values())


def test_reading_is_lazy_and_detects_the_encoding():
    content = (FIXTURES / "ladesaeulen/register-2021.csv").read_bytes()
    text = decode("r.csv", content)
    assert "Ladesäulenregister" in text
    rows = read_register("r.csv", text)
    first = next(rows)
    assert first["operator"] == "Stadtwerke Siegen GmbH"
    assert first["latitude"] == pytest.approx(50.874823)
    with pytest.raises(SourceError, match="no header"):
        next(read_register("x.csv", "a;b\n1;2\n"))


@live
def test_ladesaeulenregister_live(hub, connectors):
    """The real register still has a header the connector reads."""
    config = {"type": "ladesaeulenregister", "districts": ["Kreis Siegen-Wittgenstein"]}
    outcome = connectors({"laden": config}, live=True).run("laden")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created > 50
