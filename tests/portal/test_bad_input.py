"""Odd input on every portal route is a 4xx page or answer, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

ODD = [
    "/?map=15/nan/7",
    "/?map=99999999999999999999/1/1",
    "/?map=15/1e400/7",
    "/?feature=sensors/%C2%B2",
    "/?layers=%00",
    "/?lang=xx",
    "/?lang=%00",
    "/datasets?lang=%00",
    "/datasets/%00",
    "/datasets/" + "a" * 5000,
    "/collections/%00",
    "/collections/x/%C2%B2",
    "/collections/x/99999999999999999999999",
    "/collections/x/1/card?lang=zz",
    "/things/%C2%B2",
    "/things/%C2%B2/card",
    "/things/99999999999999999999999",
    "/things/9223372036854775807",
    "/datastreams/%C2%B2",
    "/datastreams/9223372036854775807",
    "/datastreams/1?range=%00",
    "/datastreams/1?range=custom&from=%C2%B2&to=2026-01-01",
    "/nearby?at=%00",
    "/nearby?at=nan,nan",
    "/nearby?at=1e400,1",
    "/nearby?at=%C2%B2,1",
    "/search?q=%00",
    "/search?q=a&limit=%C2%B2",
    "/search?q=a&limit=99999999999999999999999999",
    "/api/search?q=a&limit=%C2%B2",
    "/api/search?q=%25_%5C",
    "/sitemap.xml?page=%C2%B2",
    "/robots.txt?x=%00",
    "/no/such/%00",
]


@pytest.mark.parametrize("path", ODD)
def test_odd_input_is_never_a_server_error(sqlite_hub, path):
    answer = sqlite_hub.get(path, headers={"accept": "text/html"})
    assert answer.status_code < 500, answer.text[:500]


def test_a_datastream_declaring_an_absurd_interval_still_has_its_pages(sqlite_hub):
    from tests.portal.test_pages import _observe, _thing

    body = {"slug": "luft", "title": "Luft", "licence": "dl-zero-de/2.0", "visibility": "public"}
    response = sqlite_hub.post("/api/admin/datasets", json=body, headers=sqlite_hub.admin)
    assert response.status_code == 201, response.text
    stream = {"name": "Temperatur", "properties": {"expectedInterval": "P999999999D"}}
    thing, (datastream,) = _thing(sqlite_hub, "Messstelle", "luft", [stream])
    _observe(sqlite_hub, datastream, [datetime.now(UTC) - timedelta(minutes=i) for i in range(3)])
    for path in (f"/datastreams/{datastream}", f"/things/{thing}", "/datasets/luft", "/nearby"):
        assert sqlite_hub.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "query",
    [
        "range=custom&from=0001-01-02&to=0001-01-03",
        "range=custom&from=9999-12-29&to=9999-12-30",
        "range=custom&from=1990-01-01&to=2009-12-31",
        "range=custom&from=2026-01-01",
        "range=%00",
    ],
)
def test_odd_ranges_of_a_datastream_page_are_never_a_server_error(sqlite_hub, query):
    from tests.portal.test_pages import _observe, _thing

    body = {"slug": "luft", "title": "Luft", "licence": "dl-zero-de/2.0", "visibility": "public"}
    response = sqlite_hub.post("/api/admin/datasets", json=body, headers=sqlite_hub.admin)
    assert response.status_code == 201, response.text
    _, (datastream,) = _thing(sqlite_hub, "Messstelle", "luft", [{"name": "Temperatur"}])
    _observe(sqlite_hub, datastream, [datetime.now(UTC) - timedelta(minutes=i) for i in range(3)])
    assert sqlite_hub.get(f"/datastreams/{datastream}?{query}").status_code < 500


def test_a_value_at_the_calendar_s_end_still_shows_on_the_pages(sqlite_hub):
    from tests.portal.test_pages import _observe, _thing

    body = {"slug": "luft", "title": "Luft", "licence": "dl-zero-de/2.0", "visibility": "public"}
    response = sqlite_hub.post("/api/admin/datasets", json=body, headers=sqlite_hub.admin)
    assert response.status_code == 201, response.text
    thing, (datastream,) = _thing(sqlite_hub, "Messstelle", "luft", [{"name": "Temperatur"}])
    end = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    _observe(sqlite_hub, datastream, [end - timedelta(days=2), end])
    for path in (f"/datastreams/{datastream}", f"/things/{thing}", "/datasets/luft", "/nearby"):
        assert sqlite_hub.get(path).status_code == 200, path
