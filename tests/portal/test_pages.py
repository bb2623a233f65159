"""The portal's pages and search over HTTP, on both backends: content without JavaScript,
the access rule, stale values, aggregation of long ranges, 404 and 400 pages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from tests.features.helpers import add_collection, add_dataset, add_features, point

from cityhub.timeutil import format_instant

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class City:
    fresh: int  # Datastream reporting every 10 minutes, latest value 2 minutes old
    stale: int  # declares PT10M, latest value an hour old
    dense: int  # a minute apart for two weeks, once _fill has run
    secret_thing: int
    thing: int
    toilet: int


def _thing(
    hub: Any, name: str, dataset: str, streams: list[dict[str, Any]]
) -> tuple[int, list[int]]:
    body = {
        "name": name,
        "description": f"{name} am Neumarkt",
        "properties": {"dataset": dataset},
        "Locations": [
            {
                "name": name,
                "description": "Neumarkt",
                "encodingType": "application/geo+json",
                "location": point(7.0839, 51.1718),
            }
        ],
        "Datastreams": [
            {
                "name": stream["name"],
                "description": stream["name"],
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "Grad Celsius", "symbol": "°C", "definition": "x"},
                "properties": stream.get("properties", {}),
                "ObservedProperty": {"name": stream["name"], "definition": "x", "description": "x"},
                "Sensor": {
                    "name": "Fühler",
                    "description": "x",
                    "encodingType": "text/html",
                    "metadata": "x",
                },
            }
            for stream in streams
        ],
    }
    response = hub.post("/v1.1/Things", json=body)
    assert response.status_code == 201, response.text
    thing_id = int(response.headers["location"].rsplit("(", 1)[1].rstrip(")"))
    url = f"/v1.1/Things({thing_id})/Datastreams?$orderby=@iot.id"
    found = hub.get(url, headers=hub.admin).json()["value"]
    return thing_id, [d["@iot.id"] for d in found]


def _fill(hub: Any, city: City) -> None:
    """Two weeks of minute values in the dense Datastream (only where a test needs them)."""
    _observe(hub, city.dense, [NOW - timedelta(minutes=i) for i in range(14 * 24 * 60)])


def _observe(hub: Any, datastream: int, times: list[datetime], start: float = 10.0) -> None:
    rows = [[format_instant(t), start + (i % 50) / 10] for i, t in enumerate(times)]
    body = [
        {
            "Datastream": {"@iot.id": datastream},
            "components": ["phenomenonTime", "result"],
            "dataArray": rows,
        }
    ]
    response = hub.post("/v1.1/CreateObservations", json=body)
    assert response.status_code == 201, response.text


@pytest.fixture
def city(hub: Any) -> City:
    for slug, visibility in (("luft", "public"), ("intern", "restricted")):
        body = {"slug": slug, "title": f"Luftmessung {slug}", "licence": "dl-zero-de/2.0"}
        body.update(visibility=visibility, description=f"Messnetz {slug} in Solingen")
        body["update_frequency"] = "HOURLY"
        response = hub.post("/api/admin/datasets", json=body, headers=hub.admin)
        assert response.status_code == 201, response.text
    thing, (fresh, stale, dense) = _thing(
        hub,
        "Messstelle Neumarkt",
        "luft",
        [
            {"name": "Temperatur frisch"},
            {"name": "Temperatur alt", "properties": {"expectedInterval": "PT10M"}},
            {"name": "Temperatur dicht"},
        ],
    )
    _observe(hub, fresh, [NOW - timedelta(minutes=2 + 10 * i) for i in range(6)])
    _observe(hub, stale, [NOW - timedelta(minutes=60 + 10 * i) for i in range(6)])
    secret, _ = _thing(hub, "Geheime Messstelle", "intern", [{"name": "Temperatur geheim"}])
    places = add_dataset(hub, "orte")
    collection = add_collection(hub, places, "toiletten", "Öffentliche Toiletten")
    (toilet,) = add_features(
        hub,
        collection,
        [{"geometry": point(7.08, 51.17), "properties": {"name": "WC Neumarkt", "gebuehr": 0.5}}],
    )
    return City(fresh, stale, dense, secret, thing, toilet)


def test_a_dataset_page_lists_its_content_with_api_and_download_links(hub, city):
    page = hub.get("/datasets/luft")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Luftmessung luft</h1>" in html
    assert "Messnetz luft in Solingen" in html
    assert "stündlich" in html  # the update frequency, in words
    assert "Datenlizenz Deutschland" in html
    assert f'href="/datastreams/{city.fresh}"' in html
    assert f'href="/v1.1/Datastreams({city.fresh})"' in html
    assert "Geheime Messstelle" not in html
    orte = hub.get("/datasets/orte?lang=en").text
    assert 'href="/features/collections/toiletten"' in orte
    assert 'href="http://testserver/downloads/collections/toiletten.geojson"' in orte
    assert "Collections (geodata)" in orte


def test_restricted_data_is_absent_without_a_token_and_present_with_one(hub, city):
    for path in ("/datasets/intern", f"/things/{city.secret_thing}"):
        assert hub.get(path).status_code == 404
        assert hub.get(path, headers=hub.admin).status_code == 200
    assert "intern" not in hub.get("/datasets").text
    found = hub.get("/api/search?q=geheim").json()["results"]
    assert found == []
    with_token = hub.get("/api/search?q=geheim", headers=hub.admin).json()["results"]
    assert [hit["kind"] for hit in with_token] == ["thing", "thing"][: len(with_token)]
    assert with_token[0]["path"] == f"/things/{city.secret_thing}"


def test_a_thing_page_shows_current_values_and_marks_stale_ones_in_words(hub, city):
    html = hub.get(f"/things/{city.thing}").text
    rows = html.split("<tr")
    fresh = next(row for row in rows if "Temperatur frisch" in row)
    stale = next(row for row in rows if "Temperatur alt" in row)
    assert "veraltet" not in fresh
    assert "°C" in fresh
    assert 'class="stale"' in stale
    assert "veraltet" in stale
    assert "erwartet alle 10 Minuten" in stale
    card = hub.get(f"/things/{city.thing}/card?lang=en").text
    assert "<html" not in card  # a fragment for the map's popup
    assert "stale" in card.lower()
    assert "As of" in card


def test_a_feature_page_and_card_show_its_properties(hub, city):
    page = hub.get(f"/collections/toiletten/{city.toilet}")
    assert page.status_code == 200
    assert "<h1>WC Neumarkt</h1>" in page.text
    assert "gebuehr" in page.text
    assert "0,5" in page.text  # German decimal comma
    assert f"/?map=17/51.17/7.08&amp;feature=toiletten/{city.toilet}" in page.text
    assert '<link rel="canonical" href="http://testserver/collections/toiletten/' in page.text
    card = hub.get(f"/collections/toiletten/{city.toilet}/card")
    assert "WC Neumarkt" in card.text
    listing = hub.get("/collections/toiletten").text
    assert f'href="/collections/toiletten/{city.toilet}"' in listing


def test_a_day_shows_raw_values_and_a_long_range_is_aggregated_server_side(hub, city):
    day = hub.get(f"/datastreams/{city.fresh}")
    assert day.status_code == 200
    assert day.text.count('<th scope="row"><time') == 6
    assert f"/v1.1/Datastreams({city.fresh})/Observations?" in unquote(day.text)
    _fill(hub, city)
    week = hub.get(f"/datastreams/{city.dense}?range=week")
    assert week.status_code == 200
    assert "Mittel" in week.text  # buckets: mean, minimum, maximum, count
    assert "zusammengefasst je Stunde" in week.text
    assert week.text.count('<th scope="row"><time') in (168, 169)
    api = week.text.split("/v1.1/Datastreams(", 1)[1].split('"', 1)[0]
    answer = hub.get("/v1.1/Datastreams(" + api.replace("&amp;", "&"))
    assert answer.status_code == 200
    assert len(answer.json()["value"]) == week.text.count('<th scope="row"><time')


def test_a_custom_range_is_whole_local_days_and_bad_ranges_are_400_pages(hub, city):
    _fill(hub, city)
    today = NOW.date()
    query = f"range=custom&from={today - timedelta(days=2)}&to={today}"
    custom = hub.get(f"/datastreams/{city.dense}?{query}")
    assert custom.status_code == 200
    assert "zusammengefasst je 15 Minuten" in custom.text
    assert f'href="http://testserver/datastreams/{city.dense}?{query.replace("&", "&amp;")}"' in (
        custom.text
    )
    for bad in (
        "range=year",
        "range=custom&from=gestern&to=2026-01-01",
        "range=custom",
        "range=custom&from=0001-01-01&to=2026-01-01",  # no whole local day before it
        "range=custom&from=2026-01-01&to=9999-12-31",  # nor after it
    ):
        page = hub.get(f"/datastreams/{city.dense}?{bad}")
        assert page.status_code == 400
        assert "<h1>Ungültige Anfrage</h1>" in page.text
    reversed_range = hub.get(
        f"/datastreams/{city.dense}?range=custom&from=2026-02-02&to=2026-02-01"
    )
    assert reversed_range.status_code == 400


def test_search_ranks_exact_then_prefix_then_contained_names(hub, city):
    results = hub.get("/api/search?q=temperatur alt").json()["results"]
    assert results == []  # Datastreams are found through their Things
    hits = hub.get("/api/search?q=messstelle").json()["results"]
    assert hits[0] == {
        "kind": "thing",
        "name": "Messstelle Neumarkt",
        "description": "Messstelle Neumarkt am Neumarkt",
        "path": f"/things/{city.thing}",
    }
    names = [hit["name"] for hit in hub.get("/api/search?q=neumarkt").json()["results"]]
    assert names == ["Messstelle Neumarkt", "WC Neumarkt"]  # same rank: Things first
    exact = hub.get("/api/search?q=WC Neumarkt").json()["results"]
    assert exact[0]["path"] == f"/collections/toiletten/{city.toilet}"
    page = hub.get("/search?q=toiletten")
    assert "Öffentliche Toiletten" in page.text
    assert "1 Treffer" in page.text
    assert hub.get("/api/search?q=x&limit=0").status_code == 400
    assert hub.get("/api/search?q=" + "x" * 201).status_code == 400
    assert hub.get("/api/search?q=50%25_").json()["results"] == []  # LIKE wildcards are text


def test_search_ignores_case_and_accents_beyond_ascii(hub, city):
    for query in ("öffentliche", "ÖFFENTLICHE", "offentliche"):
        hits = hub.get("/api/search", params={"q": query}).json()["results"]
        assert [hit["path"] for hit in hits] == ["/collections/toiletten"], query


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/datasets/no-such", 404, "Seite nicht gefunden"),
        ("/things/999999", 404, "Seite nicht gefunden"),
        ("/things/abc", 404, "Seite nicht gefunden"),
        ("/datastreams/99999999999999999999", 404, "Seite nicht gefunden"),
        ("/collections/no-such/1", 404, "Seite nicht gefunden"),
        ("/collections/toiletten/999999", 404, "Seite nicht gefunden"),
        ("/?map=99/1/2", 400, "Ungültige Anfrage"),
        ("/?map=abc", 400, "Ungültige Anfrage"),
        ("/?feature=../etc", 400, "Ungültige Anfrage"),
        ("/datasets/no-such?lang=en", 404, "Page not found"),
        ("/datasets/a%00b", 404, "Seite nicht gefunden"),
        ("/collections/a%00b/1", 404, "Seite nicht gefunden"),
        ("/search?q=a%00b", 400, "Ungültige Anfrage"),
    ],
)
def test_unknown_or_bad_addresses_are_html_error_pages_in_the_page_language(
    hub, city, path, status, heading
):
    page = hub.get(path)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in page.text


def test_the_map_page_lists_the_layers_and_keeps_the_view_of_its_link(hub, city):
    page = hub.get("/?map=15/51.17/7.08&layers=toiletten,nope&feature=toiletten/3")
    assert page.status_code == 200
    config = json.loads(page.text.split('id="portal-config">', 1)[1].split("</script>", 1)[0])
    assert config["center"] == [51.17, 7.08]
    assert config["zoom"] == 15
    assert config["selected"] == ["toiletten"]  # an unknown layer is left out
    assert config["feature"] == "toiletten/3"
    assert config["messages"]["portal.map.loading"] == "Ebenen werden geladen …"
    assert 'id="layer-sensors"' in page.text
    assert re.search(r'id="layer-toiletten"\s+checked', page.text)
    assert not re.search(r'id="layer-sensors"\s+checked', page.text)
    everything = hub.get("/").text
    assert re.search(r'id="layer-sensors"\s+checked', everything)  # all layers by default
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in everything  # the default base map


def test_the_language_switch_keeps_the_page_query_and_replaces_only_lang(hub, city):
    html = hub.get(f"/datastreams/{city.fresh}?range=week&lang=de").text
    switch = html.split('class="language-switch"', 1)[1].split("</ul>", 1)[0]
    english = re.search(r'<a href="([^"]*)" hreflang="en"', switch)
    assert english is not None, switch
    assert english.group(1) == f"/datastreams/{city.fresh}?range=week&amp;lang=en"
    german = re.search(r'<a href="([^"]*)" hreflang="de"', switch)
    assert german is not None
    assert german.group(1).count("lang=") == 1  # replaced, not added
    sign_in = hub.get("/admin?next=%2Fadmin%2Fscreens").text  # the admin's sign-in
    assert 'href="/admin?next=%2Fadmin%2Fscreens&amp;lang=en"' in sign_in


def test_an_unknown_path_is_a_404_page_for_browsers_and_json_for_clients(sqlite_hub):
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = sqlite_hub.get("/parkhaus-alt", headers=browser)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Seite nicht gefunden" in page.text
    english = sqlite_hub.get("/parkhaus-alt?lang=en", headers=browser)
    assert "Page not found" in english.text
    client = sqlite_hub.get("/parkhaus-alt")
    assert client.status_code == 404
    assert client.json()["code"] == 404
    posted = sqlite_hub.post("/parkhaus-alt", json={}, headers=browser)
    assert posted.status_code in (404, 405)
    assert posted.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/", "/datasets", "/nearby", "/screens/nope", "/nicht-da"])
def test_every_page_forbids_inline_and_foreign_scripts(sqlite_hub, path):
    page = sqlite_hub.get(path, headers={"Accept": "text/html"})
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "<script>" not in page.text  # no inline script the policy would block


def test_a_collection_page_links_its_bulk_downloads(hub, city):
    html = hub.get("/collections/toiletten").text
    for ext, media in (("csv", "text/csv"), ("geojson", "application/geo+json")):
        url = f"http://testserver/downloads/collections/toiletten.{ext}"
        assert f'href="{url}" type="{media}"' in html
    assert 'aria-label="Öffentliche Toiletten als Parquet herunterladen"' in html
    sensors = hub.get("/collections/sensors").text
    assert 'href="http://testserver/downloads/collections/sensors.parquet"' in sensors
