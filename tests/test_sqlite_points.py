"""SQLite's GeoJSON normalisation takes a short cut for plain points: same text, same box."""

from __future__ import annotations

import orjson
import pytest
from shapely.geometry import mapping, shape

from cityhub.store import dialects

POINTS = [
    '{"type":"Point","coordinates":[8,52]}',
    '{"type": "Point", "coordinates": [8.021457, 50.874823]}',
    '{"coordinates":[-0.000001,-89.99999999],"type":"Point"}',
    '{"type":"Point","coordinates":[1e-7,12345.678901234]}',
]


@pytest.mark.parametrize("text", POINTS)
def test_a_plain_point_is_normalised_as_shapely_would(text):
    assert dialects._plain_point(text) is not None
    slow = orjson.dumps(mapping(shape(orjson.loads(text)))).decode()
    assert dialects._normalise_geojson(text) == slow
    bounds = tuple(float(b) for b in shape(orjson.loads(text)).bounds)
    assert tuple(dialects._bound(i)(text) for i in range(4)) == bounds


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"Point","coordinates":[8,52,300]}',
        '{"type":"Point","coordinates":[8,52],"bbox":[8,52,8,52]}',
        '{"type":"Point","coordinates":["8","52"]}',
        '{"type":"MultiPoint","coordinates":[[8,52]]}',
        '{"type":"Point","coordinates":[true,52]}',
    ],
)
def test_anything_else_takes_the_long_way(text):
    assert dialects._plain_point(text) is None
