"""Records as a DCAT-AP.de graph: the triples of the catalog, its datasets and their
distributions, with rdflib's terms and vocabularies (docs/catalog.md has the mapping).

The triples are a list, not an ``rdflib.Graph``: the serialisers in ``rdf.py`` write them
directly, which is what keeps a catalog of 1,000 datasets under a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson
from rdflib import BNode, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from cityhub.catalog.distributions import Distribution, distributions
from cityhub.catalog.profile import (
    HVD_LEGISLATION,
    PUBLIC_ACCESS,
    RESTRICTED_ACCESS,
    Profile,
    attribution_of,
    contact_of,
)
from cityhub.catalog.records import Record
from cityhub.store.access import PUBLIC

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
_IANA = "https://www.iana.org/assignments/media-types/"
_GEOJSON_LITERAL = URIRef(_IANA + "application/vnd.geo+json")
_THEMES = URIRef("http://publications.europa.eu/resource/authority/data-theme")

#: Prefixes of the serialisations.
PREFIXES: dict[str, str] = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "dcatde": str(DCATDE),
    "dcatap": str(DCATAP),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "locn": str(LOCN),
    "gsp": str(GSP),
    "hydra": str(HYDRA),
    "rdf": str(RDF),
    "xsd": str(XSD),
}

Triple = tuple[URIRef | BNode, URIRef, URIRef | BNode | Literal]


@dataclass(frozen=True)
class Paging:
    """Where a page of the catalog lies among all pages (Hydra, as ckanext-dcat writes it)."""

    url: str  # this page's URL
    total: int
    page: int
    size: int
    page_url: str  # the URL of page {page}: a format string

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


def catalog_triples(profile: Profile, records: list[Record], paging: Paging | None) -> list[Triple]:
    """The catalog with the records (one page of them when ``paging``)."""
    triples: list[Triple] = []
    add = triples.append
    catalog = URIRef(profile.catalog_iri)
    add((catalog, RDF.type, DCAT.Catalog))
    add((catalog, DCTERMS.title, Literal(profile.title)))
    add((catalog, DCTERMS.description, Literal(profile.description)))
    add((catalog, FOAF.homepage, URIRef(profile.homepage)))
    add((catalog, DCTERMS.language, URIRef(profile.language_uri)))
    add((catalog, DCTERMS.license, URIRef(profile.licence_uri)))
    add((catalog, DCAT.themeTaxonomy, _THEMES))
    if profile.geocoding_uri:
        add((catalog, DCTERMS.spatial, URIRef(profile.geocoding_uri)))
    triples += _catalog_publisher(profile, catalog)
    if records:
        add((catalog, DCTERMS.modified, _instant(max(r.modified for r in records))))
    for record in records:
        add((catalog, DCAT.dataset, URIRef(profile.dataset_iri(record.slug))))
        triples += dataset_triples(profile, record)
    if paging is not None:
        triples += _paging(paging)
    return triples


def _catalog_publisher(profile: Profile, catalog: URIRef) -> Iterator[Triple]:
    agent: URIRef | BNode = URIRef(profile.publisher_uri) if profile.publisher_uri else BNode()
    yield catalog, DCTERMS.publisher, agent
    yield agent, RDF.type, FOAF.Agent
    yield agent, FOAF.name, Literal(profile.publisher_name)


def dataset_triples(profile: Profile, record: Record) -> list[Triple]:
    """One dataset with its distributions."""
    dataset = URIRef(profile.dataset_iri(record.slug))
    triples: list[Triple] = [
        (dataset, RDF.type, DCAT.Dataset),
        (dataset, DCTERMS.identifier, Literal(str(dataset))),
        (dataset, DCTERMS.title, Literal(record.title)),
        (dataset, DCTERMS.description, Literal(record.description or record.title)),
        (dataset, DCAT.landingPage, dataset),
        (dataset, DCTERMS.issued, _instant(record.created)),
        (dataset, DCTERMS.modified, _instant(record.modified)),
        (dataset, DCTERMS.accessRights, URIRef(_access(record))),
    ]
    add = triples.append
    for keyword in record.keywords:
        add((dataset, DCAT.keyword, Literal(keyword)))
    for theme in record.themes:
        add((dataset, DCAT.theme, URIRef(theme)))
    if record.frequency:
        add((dataset, DCTERMS.accrualPeriodicity, URIRef(record.frequency)))
    if record.hvd_category:
        add((dataset, DCATAP.hvdCategory, URIRef(record.hvd_category)))
        add((dataset, DCATAP.applicableLegislation, URIRef(HVD_LEGISLATION)))
    if profile.contributor_id:
        add((dataset, DCATDE.contributorID, URIRef(profile.contributor_id)))
    if profile.geocoding_uri and profile.geocoding_level_uri:
        add((dataset, DCATDE.politicalGeocodingURI, URIRef(profile.geocoding_uri)))
        add((dataset, DCATDE.politicalGeocodingLevelURI, URIRef(profile.geocoding_level_uri)))
    triples += _publisher(profile, dataset, record)
    triples += _contact(profile, dataset, record)
    triples += _spatial(dataset, record)
    triples += _temporal(dataset, record)
    for distribution in distributions(record, profile.base):
        triples += _distribution(profile, dataset, record, distribution)
    return triples


def _access(record: Record) -> str:
    return PUBLIC_ACCESS if record.visibility == PUBLIC else RESTRICTED_ACCESS


def _publisher(profile: Profile, dataset: URIRef, record: Record) -> Iterator[Triple]:
    organization = record.organization
    agent = BNode()
    yield dataset, DCTERMS.publisher, agent
    yield agent, RDF.type, FOAF.Agent
    if organization is None:
        yield agent, FOAF.name, Literal(profile.publisher_name)
        return
    yield agent, FOAF.name, Literal(organization.name)
    if organization.url:
        yield agent, FOAF.homepage, URIRef(organization.url)
    if organization.email:
        yield agent, FOAF.mbox, URIRef(f"mailto:{organization.email}")


def _contact(profile: Profile, dataset: URIRef, record: Record) -> Iterator[Triple]:
    found = contact_of(profile, record)
    contact = BNode()
    yield dataset, DCAT.contactPoint, contact
    yield contact, RDF.type, VCARD.Organization
    yield contact, VCARD.fn, Literal(found.name)
    if found.email:
        yield contact, VCARD.hasEmail, URIRef(f"mailto:{found.email}")
    if found.url:
        yield contact, VCARD.hasURL, URIRef(found.url)


def _spatial(dataset: URIRef, record: Record) -> Iterator[Triple]:
    if record.bbox is None:
        return
    location = BNode()
    yield dataset, DCTERMS.spatial, location
    yield location, RDF.type, DCTERMS.Location
    yield location, DCAT.bbox, Literal(wkt(record.bbox), datatype=GSP.wktLiteral)
    yield location, LOCN.geometry, Literal(geojson(record.bbox), datatype=_GEOJSON_LITERAL)


def _temporal(dataset: URIRef, record: Record) -> Iterator[Triple]:
    if record.start is None and record.end is None:
        return
    period = BNode()
    yield dataset, DCTERMS.temporal, period
    yield period, RDF.type, DCTERMS.PeriodOfTime
    if record.start is not None:
        yield period, DCAT.startDate, _instant(record.start)
    if record.end is not None:
        yield period, DCAT.endDate, _instant(record.end)


def _distribution(
    profile: Profile, dataset: URIRef, record: Record, distribution: Distribution
) -> Iterator[Triple]:
    node = URIRef(f"{dataset}#{distribution.key}")
    yield dataset, DCAT.distribution, node
    yield node, RDF.type, DCAT.Distribution
    yield node, DCTERMS.title, Literal(distribution.title)
    yield node, DCTERMS.description, Literal(distribution.description)
    yield node, DCAT.accessURL, URIRef(distribution.access_url)
    if distribution.download_url:
        yield node, DCAT.downloadURL, URIRef(distribution.download_url)
    yield node, DCTERMS.format, URIRef(distribution.format_uri)
    yield node, DCAT.mediaType, URIRef(_IANA + distribution.media_type)
    yield node, DCTERMS.license, URIRef(record.licence)
    if distribution.conforms_to:
        yield node, DCTERMS.conformsTo, URIRef(distribution.conforms_to)
    if record.hvd_category:
        yield node, DCATAP.applicableLegislation, URIRef(HVD_LEGISLATION)
    attribution = attribution_of(profile, record)
    if attribution:
        yield node, DCATDE.licenseAttributionByText, Literal(attribution)


def _paging(paging: Paging) -> Iterator[Triple]:
    """The page as ckanext-dcat describes it (hydra:PagedCollection with the deprecated and
    the current Hydra names, so every harvester version finds its way to the next page)."""
    node = URIRef(paging.url)
    yield node, RDF.type, HYDRA.PagedCollection
    yield node, RDF.type, HYDRA.PartialCollectionView
    yield node, HYDRA.totalItems, Literal(paging.total)
    yield node, HYDRA.itemsPerPage, Literal(paging.size)
    links = {"first": 1, "last": paging.last}
    if paging.page > 1:
        links["previous"] = paging.page - 1
    if paging.page < paging.last:
        links["next"] = paging.page + 1
    for name, page in links.items():
        url = Literal(paging.page_url.format(page=page))
        yield node, HYDRA[name], url
        yield node, HYDRA[name + "Page"], url


def _instant(value: datetime) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.dateTime)


def wkt(box: tuple[float, float, float, float]) -> str:
    """A bounding box as a WKT polygon (GeoSPARQL, WGS 84 longitude/latitude)."""
    x0, y0, x1, y1 = box
    return f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def geojson(box: tuple[float, float, float, float]) -> str:
    """A bounding box as a GeoJSON polygon (a point where the box has no extent)."""
    x0, y0, x1, y1 = box
    if (x0, y0) == (x1, y1):
        return orjson.dumps({"type": "Point", "coordinates": [x0, y0]}).decode()
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return orjson.dumps({"type": "Polygon", "coordinates": [ring]}).decode()
