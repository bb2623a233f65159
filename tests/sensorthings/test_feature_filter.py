"""``cityhub.feature('collection', key-or-id)`` in SensorThings ``$filter``: sensors in a
district of an OGC API – Features collection, with the access rule, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects import sqlite
from tests.features.helpers import add_dataset, box

from cityhub.auth import create_token
from cityhub.features.write import FeatureRecord, ensure_collection, write_features
from cityhub.sensorthings.filters import Translator
from cityhub.sensorthings.model import BY_SET
from cityhub.sensorthings.odata import Call, Literal, Path, parse_expression
from cityhub.sensorthings.options import parse_query_options
from cityhub.sensorthings.places import resolve_places
from cityhub.store.access import NOTHING_HIDDEN

from .helpers import V, create_thing, datastream_body, location_body, observation

OHLIGS = "cityhub.feature('stadtbezirke', '17')"
MITTE = "cityhub.feature('stadtbezirke', '10')"


@pytest.fixture
def city(hub) -> dict[str, Any]:
    """Districts 17 (Ohligs, west) and 10 (Mitte, east), a gone district 99 over both, a
    restricted collection 'sperrzonen' over everything; a sensor in each district and one
    far away, each with one Observation (its FeatureOfInterest made from its Location)."""
    public = add_dataset(hub, "stadt")
    secret = add_dataset(hub, "intern", "restricted")

    def write(connection: Any) -> dict[str, Any]:
        districts = ensure_collection(connection, public, "stadtbezirke", key_property="nr")
        records = [
            FeatureRecord({"nr": "17", "name": "Ohligs"}, box(7.0, 51.15, 7.05, 51.2), "17"),
            FeatureRecord({"nr": "10", "name": "Mitte"}, box(7.05, 51.15, 7.1, 51.2), "10"),
            FeatureRecord({"nr": "99", "name": "Alt"}, box(6.9, 51.1, 7.2, 51.3), "99"),
        ]
        write_features(connection, districts, records)
        write_features(connection, districts, records[:2], mark_missing_gone=True)
        zones = ensure_collection(connection, secret, "sperrzonen", key_property="nr")
        write_features(connection, zones, [FeatureRecord({"nr": "1"}, box(0, 0, 10, 60), "1")])
        return {"admin": create_token(connection, "admin", "admin")}

    made = hub.store.write_blocking(write)
    ids = {}
    for name, where in (("ohligs", (7.02, 51.17)), ("mitte", (7.08, 51.17)), ("fern", (8, 52))):
        stream = datastream_body(f"t-{name}", [observation(1.5, "2026-12-01T10:00:00Z")])
        ids[name] = create_thing(hub, name, [stream], location_body(name, where))
    features = hub.get("/features/collections/stadtbezirke/items").json()["features"]
    return {
        "admin": {"Authorization": f"Bearer {made['admin']}"},
        "ids": ids,
        "district": {f["properties"]["nr"]: f["id"] for f in features},
    }


def _names(hub, entity_set: str, filter_: str, **params: str) -> list[str]:
    headers = params.pop("headers", None)
    query = {"$filter": filter_, "$orderby": "id", **params}
    answer = hub.get(f"{V}/{entity_set}", params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    return [item.get("name", item.get("@iot.id")) for item in answer.json()["value"]]


def test_things_in_a_district_by_key_and_by_id(hub, city):
    assert _names(hub, "Things", f"st_within(Locations/location, {OHLIGS})") == ["ohligs"]
    by_id = f"cityhub.feature('stadtbezirke', {city['district']['10']})"
    assert _names(hub, "Things", f"st_within(Locations/location, {by_id})") == ["mitte"]
    either = f"st_within(Locations/location, {OHLIGS}) or st_within(Locations/location, {MITTE})"
    assert _names(hub, "Things", either) == ["ohligs", "mitte"]
    outside = f"not st_intersects(Locations/location, {OHLIGS})"
    assert _names(hub, "Things", outside) == ["mitte", "fern"]


def test_every_geo_function_takes_a_feature(hub, city):
    assert _names(hub, "Locations", f"st_contains({MITTE}, location)") == ["mitte"]
    assert _names(hub, "Locations", f"geo.intersects(location, {MITTE})") == ["mitte"]
    assert _names(hub, "Locations", f"geo.distance(location, {OHLIGS}) lt 0.1") == [
        "ohligs",
        "mitte",
    ]
    nearest = _names(hub, "Locations", "true", **{"$orderby": f"geo.distance(location, {MITTE})"})
    assert nearest[0] == "mitte"
    assert nearest[-1] == "fern"
    filter_ = f"st_within(Thing/Locations/location, {OHLIGS})"
    assert _names(hub, "Datastreams", filter_) == ["t-ohligs"]


def test_observations_by_their_feature_of_interest(hub, city):
    within = f"st_within(FeatureOfInterest/feature, {MITTE})"
    answer = hub.get(f"{V}/Observations", params={"$filter": within, "$expand": "Datastream"})
    assert answer.status_code == 200, answer.text
    assert [o["Datastream"]["name"] for o in answer.json()["value"]] == ["t-mitte"]
    inner = f"Observations($filter=st_within(FeatureOfInterest/feature, {OHLIGS}))"
    streams = hub.get(f"{V}/Datastreams", params={"$expand": inner, "$orderby": "id"}).json()
    assert [len(d["Observations"]) for d in streams["value"]] == [1, 0, 0]


@pytest.mark.parametrize(
    "reference",
    [
        "cityhub.feature('stadtbezirke', '42')",  # no such key
        "cityhub.feature('stadtbezirke', '99')",  # gone
        "cityhub.feature('stadtbezirke', 123456)",  # no such id
        "cityhub.feature('gibtsnicht', '17')",  # no such collection
        "cityhub.feature('sperrzonen', '1')",  # restricted
    ],
)
def test_what_the_reader_cannot_see_matches_nothing(hub, city, reference):
    assert _names(hub, "Things", f"st_within(Locations/location, {reference})") == []
    assert _names(hub, "Locations", f"not st_within(location, {reference})") == []
    assert _names(hub, "Locations", f"geo.distance(location, {reference}) ge 0") == []
    # It is no geometry, as one that does not exist: every answer is the same as for that.
    nowhere = "cityhub.feature('stadtbezirke', 'nirgends')"
    negated = "not st_within(Locations/location, {})"
    assert _names(hub, "Things", negated.format(reference)) == _names(
        hub, "Things", negated.format(nowhere)
    )


def test_a_token_that_may_read_it_sees_the_restricted_feature(hub, city):
    filter_ = "st_within(Locations/location, cityhub.feature('sperrzonen', '1'))"
    assert _names(hub, "Things", filter_, headers=city["admin"]) == ["ohligs", "mitte", "fern"]


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("st_within(location, cityhub.feature(name, '17'))", "first argument"),
        ("st_within(location, cityhub.feature('stadtbezirke', 1.5))", "second argument"),
        ("st_within(location, cityhub.feature('stadtbezirke', true))", "second argument"),
        ("st_within(location, cityhub.feature('stadtbezirke'))", "takes 2 arguments"),
        ("cityhub.feature('stadtbezirke', '17') eq 1", "geometries are compared"),
    ],
)
def test_malformed_references_are_400(sqlite_hub, expression, says):
    answer = sqlite_hub.get(f"{V}/Locations", params={"$filter": expression})
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["message"]


def test_the_parser_reads_the_function():
    node = parse_expression("st_within(Thing/Locations/location, cityhub.feature('b', '17'))")
    assert isinstance(node, Call)
    assert node.args[0] == Path(("Thing", "Locations", "location"))
    assert node.args[1] == Call("cityhub.feature", (Literal("b"), Literal("17")))
    by_id = parse_expression("geo.distance(location, CityHub.Feature('b', 17)) lt 1")
    assert by_id.left.args[1] == Call("cityhub.feature", (Literal("b"), Literal(17)))


def test_on_sqlite_the_rtree_finds_the_candidates(sqlite_hub):
    hub = sqlite_hub
    dataset = add_dataset(hub, "stadt")

    def write(connection: Any) -> None:
        districts = ensure_collection(connection, dataset, "stadtbezirke", key_property="nr")
        write_features(connection, districts, [FeatureRecord({}, box(7, 51, 7.1, 51.2), "17")])

    hub.store.write_blocking(write)
    options = parse_query_options([("$filter", f"st_within(location, {OHLIGS})")])
    resolved = hub.store.read_blocking(lambda c: resolve_places(c, options, NOTHING_HIDDEN))
    locations = BY_SET["Locations"]
    condition = Translator(locations, locations.table, "sqlite").condition(resolved.filter)
    sql = str(condition.compile(dialect=sqlite.dialect()))
    assert "locations_geom_rtree" in sql
    untouched = parse_query_options([("$filter", "name eq 'x'")])
    assert hub.store.read_blocking(lambda c: resolve_places(c, untouched, NOTHING_HIDDEN)) is (
        untouched
    )
