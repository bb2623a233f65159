"""The DCAT-AP.de catalog at /catalog on both backends: every serialisation parses with
rdflib and says the same; the triples GovData reads; the official SHACL shapes; Hydra
paging; content negotiation; a restricted dataset nowhere."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyshacl
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF
from tests.catalog.city import BASE, CATALOG_SETTINGS, NOW, city_fixture, hub_fixture

from cityhub.settings import SettingsError, load_settings

# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

SHAPES = Path(__file__).parent / "data" / "dcat-ap-de"
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
FORMATS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}


catalog_hub = pytest.fixture(hub_fixture)
city = pytest.fixture(city_fixture)


def graph_of(response: Any, suffix: str = "ttl") -> Graph:
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.content, format=FORMATS[suffix])


def dataset(slug: str) -> URIRef:
    return URIRef(f"{BASE}/datasets/{slug}")


def _without_blank_nodes(graph: Graph) -> set[tuple[Any, Any, Any]]:
    return {t for t in graph if not any(isinstance(term, BNode) for term in t)}


def test_every_serialisation_says_the_same(catalog_hub, city):
    graphs = {}
    for suffix, media_type in (
        ("ttl", "text/turtle"),
        ("rdf", "application/rdf+xml"),
        ("jsonld", "application/ld+json"),
    ):
        # Negotiated, so that the pages' own URLs are the same in all three.
        response = catalog_hub.get("/catalog", headers={"Accept": media_type})
        assert response.headers["content-type"].startswith(media_type)
        graphs[suffix] = graph_of(response, suffix)
    assert len(graphs["ttl"]) > 100
    assert len(graphs["ttl"]) == len(graphs["rdf"]) == len(graphs["jsonld"])
    plain = _without_blank_nodes(graphs["ttl"])
    assert plain == _without_blank_nodes(graphs["rdf"]) == _without_blank_nodes(graphs["jsonld"])


@pytest.mark.parametrize(
    ("accept", "suffix"),
    [
        (None, "ttl"),
        ("text/html", "ttl"),
        ("application/ld+json", "jsonld"),
        ("application/rdf+xml;q=0.9, text/turtle;q=0.5", "rdf"),
        ("text/turtle, application/ld+json", "ttl"),
    ],
)
def test_content_negotiation(catalog_hub, city, accept, suffix):
    headers = {"Accept": accept} if accept else {}
    response = catalog_hub.get("/catalog", headers=headers)
    assert response.headers["vary"] == "Accept"
    assert (DCAT.Catalog in set(graph_of(response, suffix).objects(None, RDF.type))) is True


def test_catalog_metadata(catalog_hub, city):
    graph = graph_of(catalog_hub.get("/catalog"))
    catalog = URIRef(f"{BASE}/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    assert graph.value(catalog, DCTERMS.title) == Literal("Offene Daten Solingen")
    assert graph.value(catalog, FOAF.homepage) == URIRef(f"{BASE}/")
    assert graph.value(catalog, DCTERMS.language) == URIRef(EU + "language/DEU")
    assert graph.value(catalog, DCTERMS.license) == URIRef(
        "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
    )
    publisher = graph.value(catalog, DCTERMS.publisher)
    assert graph.value(publisher, FOAF.name) == Literal("Solingen")
    listed = set(graph.objects(catalog, DCAT.dataset))
    assert listed == {dataset("luftmessung"), dataset("parken"), dataset("toiletten")}


def test_dataset_properties(catalog_hub, city):
    graph = graph_of(catalog_hub.get("/catalog"))
    air = dataset("luftmessung")
    assert graph.value(air, DCTERMS.title) == Literal("Luftmessnetz")
    assert set(graph.objects(air, DCAT.keyword)) == {Literal("Luft"), Literal("Temperatur")}
    assert graph.value(air, DCAT.theme) == URIRef(EU + "data-theme/ENVI")
    assert graph.value(air, DCTERMS.accrualPeriodicity) == URIRef(EU + "frequency/HOURLY")
    assert graph.value(air, DCTERMS.accessRights) == URIRef(EU + "access-right/PUBLIC")
    assert graph.value(air, DCATDE.contributorID) == URIRef(CATALOG_SETTINGS["contributor_id"])
    assert graph.value(air, DCATDE.politicalGeocodingURI) == URIRef(
        "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05122000"
    )
    assert graph.value(air, DCATDE.politicalGeocodingLevelURI) == URIRef(
        "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
    )
    assert isinstance(graph.value(air, DCTERMS.issued).toPython(), datetime)
    contact = graph.value(air, DCAT.contactPoint)
    assert graph.value(contact, VCARD.fn) == Literal("Umweltamt")
    assert graph.value(contact, VCARD.hasEmail) == URIRef("mailto:umwelt@solingen.de")
    publisher = graph.value(air, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert graph.value(publisher, FOAF.name) == Literal("Stadt Solingen")
    assert graph.value(air, DCATAP.hvdCategory) is None
    # Without an organization: the catalog's publisher, and the contact falls back to it.
    parking = dataset("parken")
    assert graph.value(graph.value(parking, DCTERMS.publisher), FOAF.name) == Literal("Solingen")
    assert graph.value(graph.value(parking, DCAT.contactPoint), VCARD.fn) == Literal("Solingen")


def test_high_value_dataset(catalog_hub, city):
    graph = graph_of(catalog_hub.get("/catalog"))
    eli = URIRef("http://data.europa.eu/eli/reg_impl/2023/138/oj")
    parking = dataset("parken")
    assert graph.value(parking, DCATAP.hvdCategory) == URIRef(
        "http://data.europa.eu/bna/c_b79e35eb"
    )
    assert graph.value(parking, DCATAP.applicableLegislation) == eli
    for distribution in graph.objects(parking, DCAT.distribution):
        assert graph.value(distribution, DCATAP.applicableLegislation) == eli


def _distributions(graph: Graph, slug: str) -> dict[str, URIRef]:
    found = graph.objects(dataset(slug), DCAT.distribution)
    return {str(d).rsplit("#", 1)[1]: d for d in found}


def test_distributions_of_every_face(catalog_hub, city):
    graph = graph_of(catalog_hub.get("/catalog"))
    toilets = _distributions(graph, "toiletten")
    assert set(toilets) == {
        "features-toiletten",
        "download-toiletten-csv",
        "download-toiletten-geojson",
        "download-toiletten-parquet",
    }
    api = toilets["features-toiletten"]
    assert graph.value(api, DCAT.accessURL) == URIRef(f"{BASE}/features/collections/toiletten")
    assert graph.value(api, DCTERMS.format) == URIRef(EU + "file-type/GEOJSON")
    csv = toilets["download-toiletten-csv"]
    url = URIRef(f"{BASE}/downloads/collections/toiletten.csv")
    assert graph.value(csv, DCAT.accessURL) == graph.value(csv, DCAT.downloadURL) == url
    assert graph.value(csv, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/text/csv"
    )
    assert graph.value(csv, DCTERMS.license) == URIRef(
        "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
    )
    assert graph.value(csv, DCATDE.licenseAttributionByText) is None  # Zero: no attribution
    air = _distributions(graph, "luftmessung")
    stream = city.datastreams[0]
    assert set(air) == {"sensorthings"} | {
        f"download-datastream-{stream}-{ext}" for ext in ("csv", "geojson", "parquet")
    }
    sta = air["sensorthings"]
    assert graph.value(sta, DCAT.accessURL) == URIRef(f"{BASE}/v1.1")
    assert graph.value(sta, DCTERMS.conformsTo) == URIRef(
        "http://www.opengis.net/spec/iot_sensing/1.1"
    )
    assert graph.value(sta, DCTERMS.format) == URIRef(EU + "file-type/JSON")
    assert graph.value(sta, DCATDE.licenseAttributionByText) == Literal("Stadt Solingen")
    sta_service = URIRef(f"{BASE}/catalog#sensorthings-api")
    assert graph.value(sta, DCAT.accessService) == sta_service
    parking = _distributions(graph, "parken")
    assert {"sensorthings", "features-parkhaeuser", "download-parkhaeuser-parquet"} <= set(parking)
    multi = parking[f"download-multidatastream-{city.multi_datastream}-parquet"]
    url = URIRef(f"{BASE}/downloads/multidatastreams/{city.multi_datastream}.parquet")
    assert graph.value(multi, DCAT.accessURL) == graph.value(multi, DCAT.downloadURL) == url
    assert graph.value(multi, DCTERMS.format) == URIRef(EU + "file-type/PARQUET")
    assert graph.value(multi, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet"
    )
    assert graph.value(multi, DCTERMS.license) == URIRef("http://dcat-ap.de/def/licenses/cc-by/4.0")
    assert graph.value(multi, DCTERMS.title) == Literal("Stellplätze Mühlenplatz (Parquet)")
    for distribution in graph.subjects(RDF.type, DCAT.Distribution):
        for needed in (DCTERMS.title, DCAT.accessURL, DCTERMS.format, DCAT.mediaType):
            assert graph.value(distribution, needed) is not None, (distribution, needed)
        assert graph.value(distribution, DCTERMS.license) is not None


def test_apis_as_data_services(catalog_hub, city):
    graph = graph_of(catalog_hub.get("/catalog"))
    catalog = URIRef(f"{BASE}/catalog")
    sta, features = URIRef(f"{catalog}#sensorthings-api"), URIRef(f"{catalog}#features-api")
    assert set(graph.objects(catalog, DCAT.service)) == {sta, features}
    assert (sta, RDF.type, DCAT.DataService) in graph
    assert graph.value(sta, DCAT.endpointURL) == URIRef(f"{BASE}/v1.1")
    assert set(graph.objects(sta, DCAT.servesDataset)) == {
        dataset("luftmessung"),
        dataset("parken"),
    }
    assert graph.value(features, DCAT.endpointURL) == URIRef(f"{BASE}/features")
    assert set(graph.objects(features, DCAT.servesDataset)) == {
        dataset("parken"),
        dataset("toiletten"),
    }
    # Serving a high-value dataset: its category and the regulation.
    assert graph.value(sta, DCATAP.hvdCategory) == URIRef("http://data.europa.eu/bna/c_b79e35eb")
    assert graph.value(sta, DCATAP.applicableLegislation) is not None
    api = URIRef(f"{dataset('toiletten')}#features-toiletten")
    assert graph.value(api, DCAT.accessService) == features
    # One dataset's record names the APIs serving it.
    record = graph_of(catalog_hub.get("/catalog/datasets/toiletten"))
    assert set(record.subjects(RDF.type, DCAT.DataService)) == {features}


def test_coverage_from_the_data(catalog_hub, city):
    graph = graph_of(catalog_hub.get("/catalog"))
    location = graph.value(dataset("toiletten"), DCTERMS.spatial)
    bbox = str(graph.value(location, DCAT.bbox))
    assert bbox == "POLYGON((7.05 51.16, 7.1 51.16, 7.1 51.18, 7.05 51.18, 7.05 51.16))"
    assert '"Polygon"' in str(graph.value(location, LOCN.geometry))
    assert graph.value(dataset("toiletten"), DCTERMS.temporal) is None  # no times given
    period = graph.value(dataset("luftmessung"), DCTERMS.temporal)
    start = graph.value(period, DCAT.startDate).toPython()
    end = graph.value(period, DCAT.endDate).toPython()
    assert abs(start - (NOW - timedelta(days=3))) < timedelta(seconds=1)
    assert abs(end - (NOW - timedelta(hours=1))) < timedelta(seconds=1)
    # Features' times and Observations' times together.
    period = graph.value(dataset("parken"), DCTERMS.temporal)
    assert abs(graph.value(period, DCAT.startDate).toPython() - (NOW - timedelta(days=400))) < (
        timedelta(seconds=1)
    )
    assert abs(graph.value(period, DCAT.endDate).toPython() - (NOW - timedelta(days=2))) < (
        timedelta(seconds=1)
    )
    point = str(graph.value(graph.value(dataset("luftmessung"), DCTERMS.spatial), LOCN.geometry))
    assert '"Point"' in point
    assert "7.083" in point


def _validate(graph: Graph) -> tuple[bool, Graph, str]:
    graph.parse(SHAPES / "vocabularies-excerpt.ttl")
    shapes = Graph()
    for name in ("dcat-ap_2.1.1_shacl_shapes.ttl", "dcat-ap-spec-german-additions.ttl"):
        shapes.parse(SHAPES / name)
    return pyshacl.validate(graph, shacl_graph=shapes)


@pytest.mark.parametrize(
    "url", ["/catalog", "/catalog.rdf?page_size=2", "/catalog/datasets/parken"]
)
def test_valid_against_the_dcat_ap_de_shapes(catalog_hub, city, url):
    suffix = "rdf" if ".rdf" in url else "ttl"
    conforms, report, text = _validate(graph_of(catalog_hub.get(url), suffix))
    assert conforms, text
    results = list(report.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#ValidationResult")))
    assert results == [], text  # not even warnings


def test_the_shapes_find_what_is_wrong(catalog_hub, city):
    graph = graph_of(catalog_hub.get("/catalog"))
    graph.remove((None, DCAT.accessURL, None))
    graph.remove((dataset("parken"), DCTERMS.title, None))
    conforms, _, text = _validate(graph)
    assert not conforms
    assert "accessURL" in text
    assert "dct:title" in text or "terms/title" in text


def test_restricted_dataset_is_nowhere(catalog_hub, city):
    for suffix in ("ttl", "rdf", "jsonld"):
        body = catalog_hub.get(f"/catalog.{suffix}", headers=catalog_hub.admin).text
        assert "intern" not in body
        assert "Geheim" not in body  # its Thing's name and its keyword
        assert f"datastreams/{city.secret_datastream}." not in body
    assert catalog_hub.get("/catalog/datasets/intern").status_code == 404
    assert catalog_hub.get("/catalog/datasets/intern.jsonld").status_code == 404
    # A token that may read it sees its record, marked restricted.
    response = catalog_hub.get("/catalog/datasets/intern", headers=catalog_hub.admin)
    graph = graph_of(response)
    assert graph.value(dataset("intern"), DCTERMS.accessRights) == URIRef(
        EU + "access-right/RESTRICTED"
    )


def test_one_dataset_record(catalog_hub, city):
    for suffix in FORMATS:
        response = catalog_hub.get(f"/catalog/datasets/parken.{suffix}")
        graph = graph_of(response, suffix)
        assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {dataset("parken")}
        assert (None, RDF.type, DCAT.Catalog) not in graph
    response = catalog_hub.get(
        "/catalog/datasets/parken", headers={"Accept": "application/ld+json"}
    )
    assert response.headers["content-type"].startswith("application/ld+json")
    response = catalog_hub.get("/catalog/datasets/nope")
    assert response.status_code == 404
    assert response.json()["message"] == "no dataset 'nope'"


def test_hydra_paging(catalog_hub, city):
    first = graph_of(catalog_hub.get("/catalog?page_size=2"))
    page = URIRef(f"{BASE}/catalog?page=1&page_size=2")
    assert (page, RDF.type, HYDRA.PagedCollection) in first
    assert (page, RDF.type, HYDRA.PartialCollectionView) in first
    assert first.value(page, HYDRA.totalItems).toPython() == 3
    assert first.value(page, HYDRA.itemsPerPage).toPython() == 2
    assert str(first.value(page, HYDRA.next)) == f"{BASE}/catalog?page=2&page_size=2"
    assert str(first.value(page, HYDRA.nextPage)) == f"{BASE}/catalog?page=2&page_size=2"
    assert str(first.value(page, HYDRA.last)) == f"{BASE}/catalog?page=2&page_size=2"
    assert first.value(page, HYDRA.previous) is None
    assert len(set(first.subjects(RDF.type, DCAT.Dataset))) == 2
    second = graph_of(catalog_hub.get("/catalog.ttl?page=2&page_size=2"))
    page = URIRef(f"{BASE}/catalog.ttl?page=2&page_size=2")
    assert str(second.value(page, HYDRA.previous)) == f"{BASE}/catalog.ttl?page=1&page_size=2"
    assert second.value(page, HYDRA.next) is None
    assert set(second.subjects(RDF.type, DCAT.Dataset)) == {dataset("toiletten")}
    default = graph_of(catalog_hub.get("/catalog"))
    page = URIRef(f"{BASE}/catalog?page=1")
    assert default.value(page, HYDRA.itemsPerPage).toPython() == 100
    assert str(default.value(page, HYDRA.last)) == f"{BASE}/catalog?page=1"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/catalog?page=0", 400),
        ("/catalog?page=x", 400),
        ("/catalog?page_size=1001", 400),
        ("/catalog?page=3&page_size=2", 404),
        ("/catalog.csv", 404),
    ],
)
def test_bad_requests_are_json_errors(catalog_hub, city, url, status):
    response = catalog_hub.get(url)
    assert response.status_code == status
    assert response.json()["code"] == status


def test_empty_catalog(catalog_hub):
    graph = graph_of(catalog_hub.get("/catalog"))
    assert (URIRef(f"{BASE}/catalog"), RDF.type, DCAT.Catalog) in graph
    assert (None, RDF.type, DCAT.Dataset) not in graph


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/catalog?page=²", {}),
        ("/catalog?page_size=³", {}),
        ("/catalog?page=0", {}),
        ("/catalog?page=a%00b", {}),
        ("/catalog", {"Accept": "text/turtle;q=nan, application/ld+json;q=inf"}),
        ("/catalog", {"If-Modified-Since": "Mon, 01 Jan 99999 00:00:00 GMT"}),
        ("/catalog", {"If-Modified-Since": "\x01"}),
        ("/catalog", {"If-None-Match": ","}),
        ("/catalog/datasets/a%00b", {}),
        ("/catalog/datasets/" + "x" * 5000, {}),
    ],
)
def test_odd_requests_are_never_a_server_error(catalog_hub, url, headers):
    response = catalog_hub.get(url, headers=headers)
    assert response.status_code in (200, 304, 400, 404), response.text


@pytest.mark.parametrize("key", ["0512200", "05122000x", "０５１２２０００", " 05122000"])
def test_a_municipality_key_is_8_or_12_ascii_digits(key):
    with pytest.raises(SettingsError, match="municipality key"):
        load_settings({"municipality_key": key}, environ={})
