"""The CKAN-compatible API at /api/3/action on both backends: CKAN's envelope and error
shapes, the DCAT-AP.de extras GovData reads, search with q, fq, sort, paging and facets, a
restricted dataset in no answer — and the real ckanapi client against the served hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import ckanapi
import pytest
from tests.catalog.city import BASE, CATALOG_SETTINGS, City, city_fixture, hub_fixture
from tests.conftest import HubClient
from tests.features.test_owslib import Served

from cityhub.catalog.ckan import stable_id
from cityhub.datasets.vocabularies import LICENCES

ACTION = "/api/3/action"


catalog_hub = pytest.fixture(hub_fixture)
city = pytest.fixture(city_fixture)


def call(hub: HubClient, action: str, status: int = 200, **params: Any) -> Any:
    response = hub.get(f"{ACTION}/{action}", params=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["help"] == f"{BASE}{ACTION}/help_show?name={action}"
    assert body["success"] is (status == 200)
    return body["result"] if status == 200 else body["error"]


def post(hub: HubClient, action: str, content: str | bytes, content_type: str) -> Any:
    """A POST of ``content`` as ``content_type``, as CKAN clients send their parameters."""
    headers = {"Content-Type": content_type}
    return hub.request("POST", f"{ACTION}/{action}", content=content, headers=headers)


def extras(package: dict[str, Any]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in package["extras"]}


def test_status_show(catalog_hub):
    found = call(catalog_hub, "status_show")
    assert found["site_title"] == "Offene Daten Solingen"
    assert found["site_url"] == BASE
    assert found["ckan_version"].startswith("2.")


def test_package_list_and_show(catalog_hub, city):
    assert call(catalog_hub, "package_list") == ["luftmessung", "parken", "toiletten"]
    assert call(catalog_hub, "package_list", limit=1, offset=1) == ["parken"]
    by_name = call(catalog_hub, "package_show", id="luftmessung")
    assert by_name["id"] == stable_id("dataset", "luftmessung")
    assert call(catalog_hub, "package_show", id=by_name["id"]) == by_name
    assert by_name["title"] == "Luftmessnetz"
    assert by_name["notes"] == "Temperatur an Messstellen in der Innenstadt."
    assert by_name["url"] == f"{BASE}/datasets/luftmessung"
    assert by_name["license_id"] == "dl-by-de/2.0"
    assert by_name["license_url"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert by_name["license_title"] == LICENCES["dl-by-de/2.0"][1]
    assert by_name["maintainer"] == "Umweltamt"
    assert by_name["maintainer_email"] == "umwelt@solingen.de"
    assert by_name["organization"]["name"] == "stadt-solingen"
    assert by_name["owner_org"] == by_name["organization"]["id"]
    assert [g["name"] for g in by_name["groups"]] == ["envi"]
    assert sorted(t["name"] for t in by_name["tags"]) == ["Luft", "Temperatur"]
    assert by_name["num_tags"] == 2
    assert by_name["private"] is False
    assert by_name["metadata_modified"][:4].isdigit()


def test_resources_are_the_distributions(catalog_hub, city):
    found = call(catalog_hub, "package_show", id="toiletten")
    resources = {r["id"]: r for r in found["resources"]}
    assert found["num_resources"] == len(resources) == 4
    by_format = {(r["format"], r["resource_type"]): r for r in resources.values()}
    api = by_format[("GeoJSON", "api")]
    assert api["url"] == api["access_url"] == f"{BASE}/features/collections/toiletten"
    csv = by_format[("CSV", "download")]
    assert csv["url"] == csv["download_url"] == f"{BASE}/downloads/collections/toiletten.csv"
    assert csv["mimetype"] == "text/csv"
    assert csv["license"] == "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
    assert "licenseAttributionByText" not in csv
    assert by_format[("Parquet", "download")]["url"].endswith("/toiletten.parquet")
    assert [r["position"] for r in found["resources"]] == [0, 1, 2, 3]
    air = call(catalog_hub, "package_show", id="luftmessung")
    sta = air["resources"][0]
    assert sta["url"] == f"{BASE}/v1.1"
    assert json.loads(sta["conforms_to"]) == ["http://www.opengis.net/spec/iot_sensing/1.1"]
    assert sta["licenseAttributionByText"] == "Stadt Solingen"
    (service,) = json.loads(sta["access_services"])
    assert service["uri"] == f"{BASE}/catalog#sensorthings-api"
    assert service["endpoint_url"] == [f"{BASE}/v1.1"]
    stream = city.datastreams[0]
    urls = {r["url"] for r in air["resources"]}
    assert f"{BASE}/downloads/datastreams/{stream}.csv" in urls


def test_a_multi_datastream_is_a_download_resource(catalog_hub, city):
    multi = city.multi_datastream
    for action, params in (("package_show", {"id": "parken"}), ("package_search", {})):
        found = call(catalog_hub, action, **params)
        package = found if action == "package_show" else _by_name(found)["parken"]
        by_url = {r["url"]: r for r in package["resources"]}
        for ext, media_type in (("csv", "text/csv"), ("parquet", "application/vnd.apache.parquet")):
            url = f"{BASE}/downloads/multidatastreams/{multi}.{ext}"
            resource = by_url[url]
            assert resource["download_url"] == url
            assert resource["resource_type"] == "download"
            assert resource["mimetype"] == media_type
            assert resource["name"].startswith("Stellplätze Mühlenplatz (")
            assert resource["license"] == "http://dcat-ap.de/def/licenses/cc-by/4.0"


def _by_name(search: dict) -> dict[str, dict]:
    return {package["name"]: package for package in search["results"]}


def test_dcat_ap_de_extras(catalog_hub, city):
    parking = extras(call(catalog_hub, "package_show", id="parken"))
    assert json.loads(parking["contributorID"]) == [CATALOG_SETTINGS["contributor_id"]]
    assert json.loads(parking["politicalGeocodingURI"]) == [
        "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05122000"
    ]
    assert (
        parking["politicalGeocodingLevelURI"]
        == "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
    )
    assert parking["hvd_category"] == "http://data.europa.eu/bna/c_b79e35eb"
    assert json.loads(parking["applicable_legislation"]) == [
        "http://data.europa.eu/eli/reg_impl/2023/138/oj"
    ]
    assert parking["frequency"] == "http://publications.europa.eu/resource/authority/frequency/5MIN"
    assert parking["access_rights"].endswith("/access-right/PUBLIC")
    assert parking["uri"] == f"{BASE}/datasets/parken"
    assert json.loads(parking["spatial"])["type"] == "Point"
    assert parking["temporal_start"] < parking["temporal_end"]
    toilets = extras(call(catalog_hub, "package_show", id="toiletten"))
    assert json.loads(toilets["spatial"])["type"] == "Polygon"
    assert "temporal_start" not in toilets
    assert "hvd_category" not in toilets


def test_package_show_by_post(catalog_hub, city):
    response = catalog_hub.request("POST", f"{ACTION}/package_show", json={"id": "parken"})
    assert response.json()["result"]["name"] == "parken"
    response = post(catalog_hub, "package_show", "id=parken", "application/x-www-form-urlencoded")
    assert response.json()["result"]["name"] == "parken"


def test_errors_in_ckan_shape(catalog_hub, city):
    error = call(catalog_hub, "package_show", 404, id="nope")
    assert error["__type"] == "Not Found Error"
    error = call(catalog_hub, "package_show", 409)
    assert error["__type"] == "Validation Error"
    assert error["id"] == ["Missing value"]
    error = call(catalog_hub, "organization_show", 404, id="nope")
    assert error["__type"] == "Not Found Error"
    error = call(catalog_hub, "package_search", 409, fq="colour:red")
    assert error["__type"] == "Search Query Error"
    error = call(catalog_hub, "package_search", 409, sort="colour asc")
    assert error["__type"] == "Search Query Error"
    error = call(catalog_hub, "package_search", 409, rows="many")
    assert error["rows"] == ["Invalid integer"]
    response = catalog_hub.get("/api/action/resource_create")
    assert response.status_code == 400
    assert response.json()["error"]["__type"] == "Bad Request"
    response = post(catalog_hub, "package_show", "[1]", "application/json")
    assert response.status_code == 400


def _names(result: dict[str, Any]) -> list[str]:
    return [package["name"] for package in result["results"]]


def test_package_search(catalog_hub, city):
    everything = call(catalog_hub, "package_search")
    assert everything["count"] == 3
    assert call(catalog_hub, "package_search", q="*:*")["count"] == 3
    assert _names(call(catalog_hub, "package_search", q="toilette")) == ["toiletten"]
    assert _names(call(catalog_hub, "package_search", q="temperatur innenstadt")) == ["luftmessung"]
    assert call(catalog_hub, "package_search", q="temperatur parken")["count"] == 0
    assert _names(call(catalog_hub, "package_search", fq="tags:Parken")) == ["parken"]
    assert _names(
        call(catalog_hub, "package_search", fq="organization:stadt-solingen", sort="name asc")
    ) == ["luftmessung", "toiletten"]
    assert _names(call(catalog_hub, "package_search", fq="groups:tran")) == ["parken"]
    apis = call(catalog_hub, "package_search", fq='res_format:"JSON"', sort="name asc")
    assert _names(apis) == ["luftmessung", "parken"]
    assert _names(call(catalog_hub, "package_search", fq="license_id:cc-by/4.0")) == ["parken"]
    both = call(catalog_hub, "package_search", fq="organization:stadt-solingen +groups:soci")
    assert _names(both) == ["toiletten"]
    assert _names(call(catalog_hub, "package_search", q="tags:Luft")) == ["luftmessung"]


def test_search_sorting_paging_and_facets(catalog_hub, city):
    titles = call(catalog_hub, "package_search", sort="title_string asc")
    # By code point, as Solr sorts CKAN's title_string: "Öffentliche …" after "Parkhäuser".
    assert _names(titles) == ["luftmessung", "parken", "toiletten"]
    page = call(catalog_hub, "package_search", sort="name desc", rows=1, start=1)
    assert page["count"] == 3
    assert _names(page) == ["parken"]
    newest = call(catalog_hub, "package_search", sort="metadata_modified desc")
    assert _names(newest)[0] == "parken"
    facets = call(
        catalog_hub,
        "package_search",
        **{"facet.field": '["tags", "organization", "groups", "res_format", "license_id"]'},
    )
    assert facets["facets"]["organization"] == {"stadt-solingen": 2}
    assert facets["facets"]["tags"]["Luft"] == 1
    assert facets["facets"]["res_format"]["CSV"] == 3
    assert facets["facets"]["license_id"] == {
        "dl-zero-de/2.0": 1,
        "dl-by-de/2.0": 1,
        "cc-by/4.0": 1,
    }
    items = facets["search_facets"]["groups"]["items"]
    assert {item["name"]: item["count"] for item in items} == {"envi": 1, "soci": 1, "tran": 1}


def test_organizations_groups_licences_tags(catalog_hub, city):
    assert call(catalog_hub, "organization_list") == ["schulamt", "stadt-solingen"]
    listed = call(catalog_hub, "organization_list", all_fields="true", sort="package_count desc")
    assert [(o["name"], o["package_count"]) for o in listed] == [
        ("stadt-solingen", 2),
        ("schulamt", 0),  # its only dataset is restricted
    ]
    shown = call(catalog_hub, "organization_show", id="stadt-solingen", include_datasets="true")
    assert shown["title"] == "Stadt Solingen"
    assert sorted(p["name"] for p in shown["packages"]) == ["luftmessung", "toiletten"]
    assert (
        call(catalog_hub, "organization_show", id="schulamt", include_datasets=True)["packages"]
        == []
    )
    assert call(catalog_hub, "organization_show", id=shown["id"])["name"] == "stadt-solingen"
    groups = call(catalog_hub, "group_list", all_fields="true")
    counts = {g["name"]: g["package_count"] for g in groups}
    assert len(counts) == 13
    assert counts["tran"] == counts["envi"] == counts["soci"] == 1
    assert counts["heal"] == 0  # only the restricted dataset has it
    assert {g["title"] for g in groups} >= {"Verkehr", "Umwelt"}
    licences = {item["id"]: item for item in call(catalog_hub, "license_list")}
    assert licences["dl-by-de/2.0"]["url"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert call(catalog_hub, "tag_list") == [
        "Barrierefreiheit",
        "Luft",
        "Parken",
        "Temperatur",
        "Toiletten",
    ]
    assert call(catalog_hub, "tag_list", query="toi") == ["Toiletten"]
    assert call(catalog_hub, "tag_list", all_fields="true")[0]["name"] == "Barrierefreiheit"


def test_restricted_dataset_in_no_answer(catalog_hub, city):
    admin = catalog_hub.admin
    hidden_id = stable_id("dataset", "intern")
    for action, params in (
        ("package_list", {}),
        ("package_search", {"q": "Interne"}),
        ("package_search", {"fq": "name:intern"}),
        ("package_search", {"fq": "tags:Geheimwort"}),
        ("package_search", {"rows": "1000", "facet.field": '["tags","groups","organization"]'}),
        ("tag_list", {}),
        ("group_list", {"all_fields": "true"}),
        ("organization_list", {"all_fields": "true"}),
        ("organization_show", {"id": "schulamt", "include_datasets": "true"}),
    ):
        for headers in ({}, admin):  # listings are public, whoever asks
            response = catalog_hub.get(f"{ACTION}/{action}", params=params, headers=headers)
            assert response.status_code == 200, response.text
            text = response.text
            assert "intern" not in text.replace("international", "")
            assert "Geheimwort" not in text
            assert hidden_id not in text
            assert f"datastreams/{city.secret_datastream}." not in text
    for ref in ("intern", hidden_id):
        error = call(catalog_hub, "package_show", 404, id=ref)
        assert error["__type"] == "Not Found Error"
    shown = catalog_hub.get(f"{ACTION}/package_show", params={"id": "intern"}, headers=admin)
    assert shown.json()["result"]["private"] is True
    assert shown.json()["result"]["organization"]["name"] == "schulamt"


@pytest.fixture
def served(catalog_hub: HubClient, city: City) -> Iterator[str]:
    """The city's hub served by uvicorn: the ckanapi client speaks real HTTP."""
    settings = catalog_hub.settings
    with Served(settings) as server:
        yield server.url.removesuffix("/features")


def test_ckanapi_client(served, city):
    with ckanapi.RemoteCKAN(served, user_agent="cityhub-tests") as remote:
        assert remote.action.status_show()["site_title"] == "Offene Daten Solingen"
        assert remote.action.package_list() == ["luftmessung", "parken", "toiletten"]
        shown = remote.action.package_show(id="parken")
        assert shown["name"] == "parken"
        assert {r["format"] for r in shown["resources"]} >= {"JSON", "GeoJSON", "CSV"}
        found = remote.action.package_search(
            q="Temperatur", fq="organization:stadt-solingen", **{"facet.field": ["tags"]}
        )
        assert [p["name"] for p in found["results"]] == ["luftmessung"]
        assert found["facets"]["tags"] == {"Luft": 1, "Temperatur": 1}
        rows = remote.action.package_search(rows=1000, sort="title_string asc")
        assert rows["count"] == 3
        assert remote.action.organization_list(all_fields=True)[1]["package_count"] == 2
        assert "tran" in remote.action.group_list()
        assert "Parken" in remote.action.tag_list()
        assert remote.action.license_list()
        with pytest.raises(ckanapi.NotFound):
            remote.action.package_show(id="intern")
    with ckanapi.RemoteCKAN(served, get_only=True) as remote:
        assert remote.action.package_show(id="toiletten")["title"] == "Öffentliche Toiletten"


_ODD_VALUES: list[Any] = [
    None,
    [],
    ["tags"],
    {"a": 1},
    5,
    -1,
    2.5,
    10**30,
    True,
    "",
    "null",
    "5",
    '"tags"',
    "\x00",
    "a\x00b",
    "9" * 5000,
]
_PARAMS = (
    "id",
    "name",
    "q",
    "fq",
    "sort",
    "rows",
    "start",
    "facet.field",
    "facet.limit",
    "limit",
    "offset",
    "all_fields",
    "include_datasets",
    "query",
)


@pytest.mark.parametrize("action", ["package_show", "package_search", "organization_show"])
def test_odd_parameters_are_never_a_server_error(catalog_hub, city, action):
    for name in _PARAMS:
        for value in _ODD_VALUES:
            response = catalog_hub.request("POST", f"{ACTION}/{action}", json={name: value})
            assert response.status_code < 500, (name, value, response.text)
            assert response.json()["success"] is (response.status_code == 200)
            if isinstance(value, str):
                response = catalog_hub.get(f"{ACTION}/{action}", params={name: value})
                assert response.status_code < 500, (name, value, response.text)


@pytest.mark.parametrize(
    "action", ["package_list", "organization_list", "group_list", "tag_list", "license_list"]
)
def test_odd_listing_parameters_are_never_a_server_error(catalog_hub, city, action):
    for name in ("limit", "offset", "sort", "all_fields", "query"):
        for value in _ODD_VALUES:
            response = catalog_hub.request("POST", f"{ACTION}/{action}", json={name: value})
            assert response.status_code < 500, (name, value, response.text)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("id=a%00b&rows=1e400", "application/x-www-form-urlencoded"),
        ("\x00", "application/x-www-form-urlencoded"),
        ('{"rows": 1e400}', "application/json"),
        ('{"id": "\\u0000"}', "application/json"),
        (b"\xff\xfe", "application/json"),
        ("null", "application/json"),
        ("{", "text/plain; charset=json"),
    ],
)
def test_odd_bodies_are_never_a_server_error(catalog_hub, content, content_type):
    for action in ("package_show", "package_search"):
        response = post(catalog_hub, action, content, content_type)
        assert response.status_code < 500, response.text
        assert response.json()["success"] is (response.status_code == 200)
