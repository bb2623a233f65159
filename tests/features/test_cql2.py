"""CQL2: both encodings parse into one tree; filters run on SQLite and PostgreSQL alike.

The features are places in Solingen (around 51.17 N, 7.08 E) of our own making, with the
properties municipal data has: numbers, strings with umlauts, nulls, times.
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import string
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from cityhub.errors import BadRequest, QuerySyntaxError
from cityhub.features.cql2 import (
    Queryable,
    conformance_classes,
    parse_json,
    parse_text,
    resolver,
    to_sql,
)
from cityhub.features.cql2.nodes import Geometry, Literal, Op, Property
from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store

F = schema.features
QUERYABLES = {
    "id": Queryable.column(F.c.id, "number"),
    "key": Queryable.column(F.c.key, "string"),
    "geometry": Queryable.geometry(F.c.geom),
    "datetime": Queryable.interval(F.c.time_start, F.c.time_end),
    **{
        name: Queryable.member(F.c.properties, name)
        for name in ("status", "plaetze", "Straße", "geprüft", "eröffnet")
    },
}
RESOLVE = resolver(QUERYABLES)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


DISTRICT = {
    "type": "Polygon",
    "coordinates": [[[7.07, 51.16], [7.10, 51.16], [7.10, 51.18], [7.07, 51.18], [7.07, 51.16]]],
}
LINE = {"type": "LineString", "coordinates": [[7.05, 51.15], [7.06, 51.16]]}
# key: (geometry, properties, time start, time end)
FEATURES: dict[str, tuple[Any, dict[str, Any], str | None, str | None]] = {
    "p1": (
        _point(7.08, 51.17),
        {"status": "frei", "plaetze": 12, "Straße": "Hauptstraße", "eröffnet": "2020-03-01"},
        "2024-05-01T08:00:00",
        None,
    ),
    "p2": (
        _point(7.083, 51.171),  # about 240 m from p1
        {"status": "belegt", "plaetze": 4, "Straße": "Kölner Straße", "geprüft": True},
        "2024-05-01T00:00:00",
        "2024-05-31T23:59:00",
    ),
    "p3": (
        _point(7.09, 51.175),  # about 890 m from p1
        {"status": "frei", "plaetze": 30.5, "Straße": "Ölmühle", "geprüft": False},
        "2023-12-24T12:00:00",
        None,
    ),
    "district": (DISTRICT, {"status": None, "plaetze": "viele"}, None, None),
    "line": (
        LINE,
        {"status": "FREI", "plaetze": 0, "Straße": "Café Straße_1", "geprüft": True},
        "2025-01-01T00:00:00",
        "2025-12-31T00:00:00",
    ),
    "nowhere": (None, {"status": "frei", "plaetze": 7}, "2024-06-01T00:00:00", None),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hub_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, int]]:
    """A migrated database of each backend holding FEATURES in a collection of their own."""
    if request.param == "postgresql":
        settings = load_settings(
            {"database_url": request.getfixturevalue("postgres_database")}, environ={}
        )
    else:
        folder = tmp_path_factory.mktemp("cql2")
        shutil.copy(request.getfixturevalue("sqlite_template"), Path(folder) / "cityhub.sqlite3")
        settings = load_settings({"data_dir": folder}, environ={})
    store = Store(settings)
    with store.write_engine.begin() as connection:
        collection = _collection(connection)
        connection.execute(insert(F), [_row(collection, key) for key in FEATURES])
    yield store, collection
    with store.write_engine.begin() as connection:  # the dataset's collection and features too
        dataset = select(schema.collections.c.dataset_id).where(
            schema.collections.c.id == collection
        )
        connection.execute(delete(schema.datasets).where(schema.datasets.c.id.in_(dataset)))
    store.close()


def _collection(connection: Any) -> int:
    now = datetime.now(UTC)
    slug = f"cql2-{uuid.uuid4().hex[:8]}"
    common = {"slug": slug, "title": "Parken", "created_at": now, "modified_at": now}
    dataset = connection.execute(
        insert(schema.datasets).returning(schema.datasets.c.id),
        {**common, "licence": "dl-de/by-2-0", "keywords": [], "themes": [], "visibility": "public"},
    ).scalar_one()
    return int(
        connection.execute(
            insert(schema.collections).returning(schema.collections.c.id),
            {**common, "dataset_id": dataset},
        ).scalar_one()
    )


def _row(collection: int, key: str) -> dict[str, Any]:
    geometry, properties, start, end = FEATURES[key]
    now = datetime.now(UTC)
    return {
        "collection_id": collection,
        "key": key,
        "properties": properties,
        "geom": None if geometry is None else orjson.dumps(geometry).decode(),
        "time_start": _time(start),
        "time_end": _time(end),
        "created_at": now,
        "modified_at": now,
    }


def matching(hub_store: tuple[Store, int], node: Any) -> set[str]:
    store, collection = hub_store
    backend = store.write_engine.dialect.name
    condition = to_sql(node, RESOLVE, backend)
    query = select(F.c.key).where(F.c.collection_id == collection, condition)
    with store.read_engine.connect() as connection:
        return {row.key for row in connection.execute(query)}


# --- the same filters in text and JSON, and the features they select -------------------------

P = {"property": "plaetze"}
S = {"property": "status"}
G = {"property": "geometry"}
T = {"property": "datetime"}
SOLINGEN = {"type": "Point", "coordinates": [7.08, 51.17]}
CASES: list[tuple[str, Any, set[str]]] = [
    ("status = 'frei'", {"op": "=", "args": [S, "frei"]}, {"p1", "p3", "nowhere"}),
    ("status <> 'frei'", {"op": "<>", "args": [S, "frei"]}, {"p2", "line"}),
    ("plaetze > 5", {"op": ">", "args": [P, 5]}, {"p1", "p3", "nowhere"}),
    ("plaetze <= 4", {"op": "<=", "args": [P, 4]}, {"p2", "line"}),
    (
        "plaetze >= 12 AND plaetze < 31",
        {"op": "and", "args": [{"op": ">=", "args": [P, 12]}, {"op": "<", "args": [P, 31]}]},
        {"p1", "p3"},
    ),
    (
        "plaetze = 4 OR status = 'frei' AND plaetze > 20",
        {
            "op": "or",
            "args": [
                {"op": "=", "args": [P, 4]},
                {
                    "op": "and",
                    "args": [{"op": "=", "args": [S, "frei"]}, {"op": ">", "args": [P, 20]}],
                },
            ],
        },
        {"p2", "p3"},
    ),
    (
        "NOT status = 'frei'",
        {"op": "not", "args": [{"op": "=", "args": [S, "frei"]}]},
        {"p2", "line"},
    ),
    ('"geprüft" = true', {"op": "=", "args": [{"property": "geprüft"}, True]}, {"p2", "line"}),
    ('"geprüft"', {"property": "geprüft"}, {"p2", "line"}),
    ("status IS NULL", {"op": "isNull", "args": [S]}, {"district"}),
    (
        '"Straße" IS NOT NULL',
        {"op": "not", "args": [{"op": "isNull", "args": [{"property": "Straße"}]}]},
        {"p1", "p2", "p3", "line"},
    ),
    (
        "\"Straße\" LIKE '%straße'",
        {"op": "like", "args": [{"property": "Straße"}, "%straße"]},
        {"p1"},
    ),
    (
        "\"Straße\" LIKE '%Straße\\__'",
        {"op": "like", "args": [{"property": "Straße"}, "%Straße\\__"]},
        {"line"},
    ),
    (
        "\"Straße\" NOT LIKE '%ß%'",
        {"op": "not", "args": [{"op": "like", "args": [{"property": "Straße"}, "%ß%"]}]},
        {"p3"},
    ),
    (
        "CASEI(\"Straße\") LIKE CASEI('%STRASSE%') OR CASEI(\"Straße\") LIKE CASEI('%STRAẞE%')",
        {
            "op": "or",
            "args": [
                {
                    "op": "like",
                    "args": [
                        {"op": "casei", "args": [{"property": "Straße"}]},
                        {"op": "casei", "args": ["%STRASSE%"]},
                    ],
                },
                {
                    "op": "like",
                    "args": [
                        {"op": "casei", "args": [{"property": "Straße"}]},
                        {"op": "casei", "args": ["%STRAẞE%"]},
                    ],
                },
            ],
        },
        {"p1", "p2", "line"},
    ),
    (
        "CASEI(status) = casei('Frei')",
        {"op": "=", "args": [{"op": "casei", "args": [S]}, {"op": "casei", "args": ["Frei"]}]},
        {"p1", "p3", "line", "nowhere"},
    ),
    (
        "ACCENTI(\"Straße\") = ACCENTI('Olmuhle')",
        {
            "op": "=",
            "args": [
                {"op": "accenti", "args": [{"property": "Straße"}]},
                {"op": "accenti", "args": ["Olmuhle"]},
            ],
        },
        {"p3"},
    ),
    (
        "CASEI(ACCENTI(\"Straße\")) LIKE 'cafe%'",
        {
            "op": "like",
            "args": [
                {"op": "casei", "args": [{"op": "accenti", "args": [{"property": "Straße"}]}]},
                "cafe%",
            ],
        },
        {"line"},
    ),
    ("plaetze BETWEEN 4 AND 12", {"op": "between", "args": [P, 4, 12]}, {"p1", "p2", "nowhere"}),
    (
        "plaetze NOT BETWEEN 4 AND 12",
        {"op": "not", "args": [{"op": "between", "args": [P, 4, 12]}]},
        {"p3", "line"},
    ),
    ("status IN ('belegt', 'FREI')", {"op": "in", "args": [S, ["belegt", "FREI"]]}, {"p2", "line"}),
    (
        "plaetze NOT IN (0, 4, 12)",
        {"op": "not", "args": [{"op": "in", "args": [P, [0, 4, 12]]}]},
        {"p3", "nowhere"},
    ),
    (
        "key IN ('p1', 'p2') AND id > 0",
        {
            "op": "and",
            "args": [
                {"op": "in", "args": [{"property": "key"}, ["p1", "p2"]]},
                {"op": ">", "args": [{"property": "id"}, 0]},
            ],
        },
        {"p1", "p2"},
    ),
    (
        "plaetze * 2 + 1 > 20",
        {"op": ">", "args": [{"op": "+", "args": [{"op": "*", "args": [P, 2]}, 1]}, 20]},
        {"p1", "p3"},
    ),
    (
        "plaetze % 5 = 2 AND plaetze div 5 >= 1",
        {
            "op": "and",
            "args": [
                {"op": "=", "args": [{"op": "%", "args": [P, 5]}, 2]},
                {"op": ">=", "args": [{"op": "div", "args": [P, 5]}, 1]},
            ],
        },
        {"p1", "nowhere"},
    ),
    (
        "plaetze ^ 2 >= 144 AND plaetze / 0 IS NULL",
        {
            "op": "and",
            "args": [
                {"op": ">=", "args": [{"op": "^", "args": [P, 2]}, 144]},
                {"op": "isNull", "args": [{"op": "/", "args": [P, 0]}]},
            ],
        },
        {"p1", "p3"},
    ),
    (
        "S_INTERSECTS(geometry, POINT(7.08 51.17))",
        {"op": "s_intersects", "args": [G, SOLINGEN]},
        {"p1", "district"},
    ),
    (
        "S_INTERSECTS(geometry, BBOX(7.075, 51.165, 7.085, 51.175))",
        {"op": "s_intersects", "args": [G, {"bbox": [7.075, 51.165, 7.085, 51.175]}]},
        {"p1", "p2", "district"},
    ),
    (
        "S_WITHIN(geometry, POLYGON((7.07 51.16, 7.10 51.16, 7.10 51.18, 7.07 51.18, 7.07 51.16)))",
        {"op": "s_within", "args": [G, DISTRICT]},
        {"p1", "p2", "p3", "district"},
    ),
    (
        "S_CONTAINS(geometry, MULTIPOINT((7.08 51.17), (7.09 51.175)))",
        {
            "op": "s_contains",
            "args": [G, {"type": "MultiPoint", "coordinates": [[7.08, 51.17], [7.09, 51.175]]}],
        },
        {"district"},
    ),
    (
        "S_DISJOINT(geometry, BBOX(7.07, 51.16, 7.10, 51.18))",
        {"op": "s_disjoint", "args": [G, {"bbox": [7.07, 51.16, 7.10, 51.18]}]},
        {"line"},
    ),
    (
        "S_EQUALS(geometry, POINT(7.083 51.171))",
        {"op": "s_equals", "args": [G, {"type": "Point", "coordinates": [7.083, 51.171]}]},
        {"p2"},
    ),
    (
        "S_TOUCHES(geometry, LINESTRING(7.10 51.17, 7.12 51.17))",
        {
            "op": "s_touches",
            "args": [G, {"type": "LineString", "coordinates": [[7.10, 51.17], [7.12, 51.17]]}],
        },
        {"district"},
    ),
    (
        "S_CROSSES(geometry, LINESTRING(7.05 51.155, 7.07 51.155))",
        {
            "op": "s_crosses",
            "args": [G, {"type": "LineString", "coordinates": [[7.05, 51.155], [7.07, 51.155]]}],
        },
        {"line"},
    ),
    (
        "S_OVERLAPS(geometry, POLYGON((7.09 51.17, 7.2 51.17, 7.2 51.2, 7.09 51.2, 7.09 51.17)))",
        {
            "op": "s_overlaps",
            "args": [
                G,
                {
                    "type": "Polygon",
                    "coordinates": [
                        [[7.09, 51.17], [7.2, 51.17], [7.2, 51.2], [7.09, 51.2], [7.09, 51.17]]
                    ],
                },
            ],
        },
        {"district"},
    ),
    (
        "status = 'frei' AND S_DWITHIN(geometry, POINT(7.08 51.17), 500, meters)",
        {
            "op": "and",
            "args": [
                {"op": "=", "args": [S, "frei"]},
                {"op": "s_dwithin", "args": [G, SOLINGEN, 500, "meters"]},
            ],
        },
        {"p1"},
    ),
    (
        "S_DWITHIN(geometry, POINT(7.08 51.17), 500, meters)",
        {"op": "s_dwithin", "args": [G, SOLINGEN, 500, "meters"]},
        {"p1", "p2", "district"},
    ),
    (
        "S_DWITHIN(geometry, POINT(7.08 51.17), 1, kilometers)",
        {"op": "s_dwithin", "args": [G, SOLINGEN, 1, "kilometers"]},
        {"p1", "p2", "p3", "district"},
    ),
    (
        "datetime > TIMESTAMP('2024-05-15T00:00:00Z')",
        {"op": ">", "args": [T, {"timestamp": "2024-05-15T00:00:00Z"}]},
        {"line", "nowhere"},
    ),
    (
        "datetime = TIMESTAMP('2024-05-01T08:00:00Z')",
        {"op": "=", "args": [T, {"timestamp": "2024-05-01T08:00:00Z"}]},
        {"p1"},
    ),
    (
        "T_INTERSECTS(datetime, INTERVAL('2024-05-10', '..'))",
        {"op": "t_intersects", "args": [T, {"interval": ["2024-05-10", ".."]}]},
        {"p2", "line", "nowhere"},
    ),
    (
        "T_INTERSECTS(datetime, DATE('2024-05-01'))",
        {"op": "t_intersects", "args": [T, {"date": "2024-05-01"}]},
        {"p1", "p2"},
    ),
    (
        "T_BEFORE(datetime, TIMESTAMP('2024-05-01T00:00:00Z'))",
        {"op": "t_before", "args": [T, {"timestamp": "2024-05-01T00:00:00Z"}]},
        {"p3"},
    ),
    (
        "T_AFTER(datetime, INTERVAL('..', '2024-05-31'))",
        {"op": "t_after", "args": [T, {"interval": ["..", "2024-05-31"]}]},
        {"line", "nowhere"},
    ),
    (
        "T_DURING(datetime, INTERVAL('2024-04-30T00:00:00Z', '2024-06-30T00:00:00Z'))",
        {
            "op": "t_during",
            "args": [T, {"interval": ["2024-04-30T00:00:00Z", "2024-06-30T00:00:00Z"]}],
        },
        {"p1", "p2", "nowhere"},
    ),
    (
        "T_CONTAINS(datetime, TIMESTAMP('2024-05-01T08:00:00Z'))",
        {"op": "t_contains", "args": [T, {"timestamp": "2024-05-01T08:00:00Z"}]},
        {"p2"},
    ),
    (
        "T_STARTS(datetime, INTERVAL('2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z'))",
        {
            "op": "t_starts",
            "args": [T, {"interval": ["2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"]}],
        },
        {"line"},
    ),
    (
        "T_DISJOINT(datetime, INTERVAL('2024-01-01', '2024-12-31'))",
        {"op": "t_disjoint", "args": [T, {"interval": ["2024-01-01", "2024-12-31"]}]},
        {"p3", "line"},
    ),
    (
        "T_EQUALS(datetime, TIMESTAMP('2023-12-24T12:00:00Z'))",
        {"op": "t_equals", "args": [T, {"timestamp": "2023-12-24T12:00:00Z"}]},
        {"p3"},
    ),
    (
        "\"eröffnet\" < DATE('2021-01-01')",
        {"op": "<", "args": [{"property": "eröffnet"}, {"date": "2021-01-01"}]},
        {"p1"},
    ),
    (
        "plaetze = plaetze AND 1 = 1",
        {"op": "and", "args": [{"op": "=", "args": [P, P]}, {"op": "=", "args": [1, 1]}]},
        set(FEATURES),
    ),
    (
        "TRUE AND NOT FALSE",
        {"op": "and", "args": [True, {"op": "not", "args": [False]}]},
        set(FEATURES),
    ),
]
IDS = [text for text, _, _ in CASES]


@pytest.mark.parametrize(("text", "document", "expected"), CASES, ids=IDS)
def test_text_and_json_give_the_same_tree(text: str, document: Any, expected: set[str]) -> None:
    assert parse_text(text) == parse_json(document)


@pytest.mark.parametrize(("text", "document", "expected"), CASES, ids=IDS)
def test_filter_selects_the_expected_features(hub_store, text, document, expected) -> None:
    assert matching(hub_store, parse_text(text)) == expected


# --- parsing -----------------------------------------------------------------------------------


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    a, b, c = (Op("=", (Property(n), Literal(1))) for n in "abc")
    assert parse_text("a = 1 OR b = 1 AND c = 1") == Op("or", (a, Op("and", (b, c))))
    assert parse_text("NOT a = 1 AND b = 1") == Op("and", (Op("not", (a,)), b))
    assert parse_text("(a = 1 OR b = 1) AND c = 1") == Op("and", (Op("or", (a, b)), c))


def test_arithmetic_precedence() -> None:
    x = Property("x")
    expected = Op("=", (x, Op("+", (Literal(1), Op("*", (Literal(2), Op("^", (x, Literal(3)))))))))
    assert parse_text("x = 1 + 2 * x ^ 3") == expected
    assert parse_text("x = -2") == Op("=", (x, Literal(-2)))


def test_keywords_are_case_insensitive_and_names_may_be_quoted() -> None:
    assert parse_text('"Straße" like \'a%\' and "Baujahr ab" is null') == Op(
        "and",
        (
            Op("like", (Property("Straße"), Literal("a%"))),
            Op("isNull", (Property("Baujahr ab"),)),
        ),
    )
    assert parse_text("Straße = 'x'") == parse_text("\"Straße\" = 'x'")


def test_strings_double_their_quotes() -> None:
    assert parse_text("name = 'Bäcker''s'") == Op("=", (Property("name"), Literal("Bäcker's")))


def test_geometry_literals_become_geojson() -> None:
    node = parse_text("S_INTERSECTS(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0))))")
    assert isinstance(node, Op)
    assert node.args[1] == Geometry(
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}
    )


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("status = ", 9, "unexpected end of filter"),
        ("status = 'frei", 9, "unterminated string"),
        ("(a = 1", 6, "expected ')'"),
        ("a = 1 b = 2", 6, "expected AND, OR or the end"),
        ("a NOT = 1", 6, "expected LIKE, BETWEEN or IN after NOT"),
        ("a IS 1", 5, "expected NULL after IS"),
        ("a BETWEEN 1 OR 2", 12, "expected AND between the bounds"),
        ("FOO(a) = 1", 0, "unknown function 'FOO'"),
        ("S_INTERSECTS(geometry)", 0, "S_INTERSECTS takes 2 arguments, got 1"),
        ("a = TIMESTAMP('gestern')", 14, "invalid"),
        ("S_WITHIN(g, POLYGON((0 0, 1 1, 0 1, 1 0, 0 0)))", 12, "invalid WKT geometry"),
        ("S_WITHIN(g, POINT(1 2)", 22, "expected ')'"),
        ("a = 12abc", 4, "invalid number"),
        ("a = 1 ; b", 6, "unexpected character ';'"),
        ("", 0, "empty filter"),
    ],
)
def test_syntax_errors_point_at_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as error:
        parse_text(text)
    assert error.value.position == position
    assert message in error.value.message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"op": "=", "args": [{"property": "a"}]}, "at /args: '=' takes 2 arguments, got 1"),
        ({"op": "and", "args": [True]}, "'and' takes 2 or more arguments"),
        ({"op": "like2", "args": []}, "at /op: unknown operator 'like2'"),
        ({"op": "=", "args": [{"property": "a"}, None]}, "at /args/1: null is no CQL2 value"),
        ({"op": "in", "args": [{"property": "a"}, 1]}, "at /args/1: the second argument of 'in'"),
        ({"op": "=", "args": [{"property": "a"}, [1]]}, "at /args/1: a list is only allowed"),
        ({"op": "t_after", "args": [{"property": "a"}, {"interval": ["x"]}]}, "/args/1/interval"),
        ({"op": "s_within", "args": [{"property": "g"}, {"type": "Point"}]}, "GeoJSON position"),
        ({"op": "=", "args": [{"property": "a"}, {"timestamp": "nie"}]}, "/args/1/timestamp"),
        ({"prop": "a"}, "at /: expected an object with 'op'"),
    ],
)
def test_json_errors_name_the_member(document: Any, message: str) -> None:
    with pytest.raises(BadRequest) as error:
        parse_json(document)
    assert message in error.value.message


# --- translation errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Strasse = 'x'", "unknown queryable 'Strasse'; the queryables are: id, key, geometry"),
        ("geometry = 5", "geometries are compared with spatial functions"),
        ("key = 5", "cannot compare a string with a number value (for '=' at position 4)"),
        ("5 LIKE 'x%'", "LIKE matches strings, got a number value"),
        ("key LIKE key", "the pattern of LIKE is a string"),
        ("S_INTERSECTS(geometry, 5)", "S_INTERSECTS compares geometries, got a number value"),
        ("S_DWITHIN(geometry, POINT(7 51), -1, meters)", "a number >= 0"),
        ("S_DWITHIN(geometry, POINT(7 51), 1, parsecs)", "one of meters"),
        ("T_AFTER(datetime, 5)", "expected a timestamp, date or interval for T_AFTER"),
        ("plaetze + 'x' > 1", "expected a number value for '+' at position 8"),
        ("CASEI(id) = 'x'", "expected a string value for CASEI"),
        ("key", "a filter is made of predicates (true or false), not a string value"),
        ("datetime > 5", "expected a timestamp, date or interval"),
    ],
)
def test_type_errors_are_bad_requests(text: str, message: str) -> None:
    for backend in ("sqlite", "postgresql"):
        with pytest.raises(BadRequest) as error:
            to_sql(parse_text(text), RESOLVE, backend)
        assert message in error.value.message


# --- nothing but a 400 for any input -----------------------------------------------------------

_WORDS = [
    "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "DIV", "CASEI",
    "ACCENTI", "S_INTERSECTS", "S_DWITHIN", "T_DURING", "TIMESTAMP", "DATE", "INTERVAL",
    "BBOX", "POINT", "POLYGON", "status", "plaetze", '"Straße"', "geometry", "datetime",
    "'frei'", "'2024-05-01'", "'..'", "12", "-3.5", "1e400", "meters", "(", ")", ",", "=",
    "<>", "<", ">=", "+", "*", "/", "^", "%", "'", '"', "\\", "\x00",
]  # fmt: skip


def _random_text(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "".join(rng.choice(string.printable + "äöüß\x00") for _ in range(rng.randint(0, 30)))
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 14)))


_LEAVES: list[Any] = [
    None, True, 1, -2.5, float("nan"), 10**30, "frei", "..", "", "\x00", [], {},
    {"timestamp": "2024-05-01T00:00:00Z"}, {"date": "2024-13-01"}, {"bbox": [1, 2]},
    {"interval": ["2024-01-01", ".."]}, SOLINGEN, {"type": "Polygon", "coordinates": 1},
]  # fmt: skip
_OPS: list[Any] = [
    "and", "or", "not", "=", "<", "like", "between", "in", "isNull", "casei", "accenti", "+",
    "^", "%", "div", "s_intersects", "s_dwithin", "t_intersects", "t_before", "nope", 3,
]  # fmt: skip


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.random()
    if depth > 4 or choice < 0.35:
        name = rng.choice(["status", "plaetze", "geometry", "datetime", "x"])
        return rng.choice([*_LEAVES, {"property": name}])
    if choice < 0.45:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    op = rng.choice(_OPS)
    return {"op": op, "args": [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]}


def _translate_everywhere(node: Any) -> None:
    for backend, dialect in (("sqlite", sqlite.dialect()), ("postgresql", postgresql.dialect())):
        select(F.c.id).where(to_sql(node, RESOLVE, backend)).compile(dialect=dialect)


@pytest.mark.parametrize("seed", range(4))
def test_random_input_gives_a_tree_or_a_bad_request(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        for parse, document in ((parse_text, _random_text(rng)), (parse_json, _random_json(rng))):
            with contextlib.suppress(BadRequest):
                _translate_everywhere(parse(document))  # type: ignore[operator]


def test_deep_nesting_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_text("(" * 5000 + "a = 1" + ")" * 5000)
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_text("NOT " * 5000 + "a = 1")
    document: Any = {"op": "=", "args": [{"property": "a"}, 1]}
    for _ in range(5000):
        document = {"op": "not", "args": [document]}
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_json(document)


def test_random_filters_run_alike_on_both_backends(hub_store) -> None:
    """Well-formed random filters: whatever they select, they do not fail."""
    rng = random.Random(7)
    for _ in range(60):
        try:
            node = parse_json(_random_json(rng))
            to_sql(node, RESOLVE, "sqlite")
        except BadRequest:
            continue
        matching(hub_store, node)


def test_conformance_classes() -> None:
    classes = conformance_classes()
    assert "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in classes
    assert all(uri.startswith("http://www.opengis.net/spec/cql2/1.0/conf/") for uri in classes)


def test_the_documented_examples_parse() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "cql2.md").read_text()
    rows = re.findall(r"^\| [^|`]+ \| `([^`]+)` \|$", docs, re.M)
    assert len(rows) == 9
    for text in rows:
        to_sql(parse_text(text), resolver(_AnyMember()), "postgresql")
    first = re.search(r"```\n(.*?)\n```", docs, re.S)
    assert first is not None
    block = re.search(r"```json\n(.*?)```", docs, re.S)
    assert block is not None
    assert parse_text(first.group(1)) == parse_json(orjson.loads(block.group(1)))


class _AnyMember(dict[str, Queryable]):
    """Queryables of documentation examples: every name is a member, but these."""

    def get(self, name: str, default: Any = None) -> Queryable:  # type: ignore[override]
        return QUERYABLES.get(name) or Queryable.member(F.c.properties, name)
