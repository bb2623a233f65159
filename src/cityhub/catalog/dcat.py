"""Records as a DCAT-AP.de graph: the triples of the catalog, its datasets and their
distributions (docs/catalog.md has the mapping).

The triples are a list of plain terms, not an ``rdflib.Graph``: the serialisers in ``rdf.py``
write them directly, which is what keeps a catalog of 1,000 datasets under a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import orjson

from cityhub.catalog.distributions import Distribution, Service, distributions, services_of
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


class Iri(str):
    """An IRI. Terms are plain strings, not rdflib's: rdflib hashes and compares its terms in
    Python, which made grouping the ~150,000 triples of a 1,000-dataset catalog cost seconds;
    ``rdf.py`` hands them to rdflib where rdflib writes (RDF/XML)."""

    __slots__ = ()


class Blank(str):
    """A blank node, by its label."""

    __slots__ = ()


class Lit(NamedTuple):
    """A literal: its lexical form and, for a typed one, its datatype IRI."""

    value: str
    datatype: str | None = None


class Terms:
    """A vocabulary whose terms are made once: rdflib's namespaces make a new term on every
    attribute access, 0.2 s of the ~150,000 triples of a catalog of 1,000 datasets."""

    def __init__(self, iri: str) -> None:
        self._iri = iri

    def __str__(self) -> str:
        return self._iri

    def __getattr__(self, name: str) -> Iri:
        term = Iri(self._iri + name)
        setattr(self, name, term)
        return term

    def __getitem__(self, name: str) -> Iri:
        return getattr(self, name)  # type: ignore[no-any-return]


DCAT = Terms("http://www.w3.org/ns/dcat#")
DCTERMS = Terms("http://purl.org/dc/terms/")
FOAF = Terms("http://xmlns.com/foaf/0.1/")
RDF = Terms("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
XSD = Terms("http://www.w3.org/2001/XMLSchema#")
DCATDE = Terms("http://dcat-ap.de/def/dcatde/")
DCATAP = Terms("http://data.europa.eu/r5r/")
VCARD = Terms("http://www.w3.org/2006/vcard/ns#")
LOCN = Terms("http://www.w3.org/ns/locn#")
GSP = Terms("http://www.opengis.net/ont/geosparql#")
HYDRA = Terms("http://www.w3.org/ns/hydra/core#")
_IANA = "https://www.iana.org/assignments/media-types/"
_GEOJSON_LITERAL = Iri(_IANA + "application/vnd.geo+json")
_THEMES = Iri("http://publications.europa.eu/resource/authority/data-theme")

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

Triple = tuple[Iri | Blank, Iri, Iri | Blank | Lit]


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
    catalog = Iri(profile.catalog_iri)
    add((catalog, RDF.type, DCAT.Catalog))
    add((catalog, DCTERMS.title, Lit(profile.title)))
    add((catalog, DCTERMS.description, Lit(profile.description)))
    add((catalog, FOAF.homepage, Iri(profile.homepage)))
    add((catalog, DCTERMS.language, Iri(profile.language_uri)))
    add((catalog, DCTERMS.license, Iri(profile.licence_uri)))
    add((catalog, DCAT.themeTaxonomy, _THEMES))
    if profile.geocoding_uri:
        add((catalog, DCTERMS.spatial, Iri(profile.geocoding_uri)))
    triples += _catalog_publisher(profile, catalog)
    if records:
        add((catalog, DCTERMS.modified, _instant(max(r.modified for r in records))))
    for record in records:
        add((catalog, DCAT.dataset, Iri(profile.dataset_iri(record.slug))))
        triples += dataset_triples(profile, record)
    for service, served in _services(records).items():
        add((catalog, DCAT.service, _service_iri(profile, service)))
        triples += _service(profile, service, served)
    if paging is not None:
        triples += _paging(paging)
    return triples


def _catalog_publisher(profile: Profile, catalog: Iri) -> Iterator[Triple]:
    agent = Iri(profile.publisher_uri) if profile.publisher_uri else Blank("catalog-publisher")
    yield catalog, DCTERMS.publisher, agent
    yield agent, RDF.type, FOAF.Agent
    yield agent, FOAF.name, Lit(profile.publisher_name)


def record_triples(profile: Profile, record: Record) -> list[Triple]:
    """One dataset's record: the dataset, its distributions and the APIs serving it."""
    triples = dataset_triples(profile, record)
    for service, served in _services([record]).items():
        triples += _service(profile, service, served)
    return triples


def _services(records: list[Record]) -> dict[Service, list[Record]]:
    served: dict[Service, list[Record]] = {}
    for record in records:
        for service in services_of(record):
            served.setdefault(service, []).append(record)
    return served


def _service_iri(profile: Profile, service: Service) -> Iri:
    return Iri(f"{profile.catalog_iri}#{service.key}")


def _service(profile: Profile, service: Service, served: list[Record]) -> Iterator[Triple]:
    """An API as a data service: its endpoint, its standard, the datasets it serves (of this
    page), and — serving high-value datasets — their categories and the HVD regulation."""
    node = _service_iri(profile, service)
    yield node, RDF.type, DCAT.DataService
    yield node, DCTERMS.title, Lit(service.title)
    yield node, DCAT.endpointURL, Iri(profile.base + service.path)
    yield node, DCTERMS.conformsTo, Iri(service.conforms_to)
    yield node, DCTERMS.accessRights, Iri(PUBLIC_ACCESS)
    for record in served:
        yield node, DCAT.servesDataset, Iri(profile.dataset_iri(record.slug))
    categories = sorted({r.hvd_category for r in served if r.hvd_category})
    for category in categories:
        yield node, DCATAP.hvdCategory, Iri(category)
    if categories:
        yield node, DCATAP.applicableLegislation, Iri(HVD_LEGISLATION)


def dataset_triples(profile: Profile, record: Record) -> list[Triple]:
    """One dataset with its distributions."""
    dataset = Iri(profile.dataset_iri(record.slug))
    triples: list[Triple] = [
        (dataset, RDF.type, DCAT.Dataset),
        (dataset, DCTERMS.identifier, Lit(str(dataset))),
        (dataset, DCTERMS.title, Lit(record.title)),
        (dataset, DCTERMS.description, Lit(record.description or record.title)),
        (dataset, DCAT.landingPage, dataset),
        (dataset, DCTERMS.issued, _instant(record.created)),
        (dataset, DCTERMS.modified, _instant(record.modified)),
        (dataset, DCTERMS.accessRights, Iri(_access(record))),
    ]
    add = triples.append
    for keyword in record.keywords:
        add((dataset, DCAT.keyword, Lit(keyword)))
    for theme in record.themes:
        add((dataset, DCAT.theme, Iri(theme)))
    if record.frequency:
        add((dataset, DCTERMS.accrualPeriodicity, Iri(record.frequency)))
    if record.hvd_category:
        add((dataset, DCATAP.hvdCategory, Iri(record.hvd_category)))
        add((dataset, DCATAP.applicableLegislation, Iri(HVD_LEGISLATION)))
    if profile.contributor_id:
        add((dataset, DCATDE.contributorID, Iri(profile.contributor_id)))
    if profile.geocoding_uri and profile.geocoding_level_uri:
        add((dataset, DCATDE.politicalGeocodingURI, Iri(profile.geocoding_uri)))
        add((dataset, DCATDE.politicalGeocodingLevelURI, Iri(profile.geocoding_level_uri)))
    triples += _publisher(profile, dataset, record)
    triples += _contact(profile, dataset, record)
    triples += _spatial(dataset, record)
    triples += _temporal(dataset, record)
    for distribution in distributions(record, profile.base):
        triples += _distribution(profile, dataset, record, distribution)
    return triples


def _node(record: Record, part: str) -> Blank:
    """A blank node named after its dataset: stable output, and no UUID made per node."""
    return Blank(f"d-{record.slug}-{part}")


def _access(record: Record) -> str:
    return PUBLIC_ACCESS if record.visibility == PUBLIC else RESTRICTED_ACCESS


def _publisher(profile: Profile, dataset: Iri, record: Record) -> Iterator[Triple]:
    organization = record.organization
    agent = _node(record, "publisher")
    yield dataset, DCTERMS.publisher, agent
    yield agent, RDF.type, FOAF.Agent
    if organization is None:
        yield agent, FOAF.name, Lit(profile.publisher_name)
        return
    yield agent, FOAF.name, Lit(organization.name)
    if organization.url:
        yield agent, FOAF.homepage, Iri(organization.url)
    if organization.email:
        yield agent, FOAF.mbox, Iri(f"mailto:{organization.email}")


def _contact(profile: Profile, dataset: Iri, record: Record) -> Iterator[Triple]:
    found = contact_of(profile, record)
    contact = _node(record, "contact")
    yield dataset, DCAT.contactPoint, contact
    yield contact, RDF.type, VCARD.Organization
    yield contact, VCARD.fn, Lit(found.name)
    if found.email:
        yield contact, VCARD.hasEmail, Iri(f"mailto:{found.email}")
    if found.url:
        yield contact, VCARD.hasURL, Iri(found.url)


def _spatial(dataset: Iri, record: Record) -> Iterator[Triple]:
    if record.bbox is None:
        return
    location = _node(record, "spatial")
    yield dataset, DCTERMS.spatial, location
    yield location, RDF.type, DCTERMS.Location
    yield location, DCAT.bbox, Lit(wkt(record.bbox), GSP.wktLiteral)
    yield location, LOCN.geometry, Lit(geojson(record.bbox), _GEOJSON_LITERAL)


def _temporal(dataset: Iri, record: Record) -> Iterator[Triple]:
    if record.start is None and record.end is None:
        return
    period = _node(record, "temporal")
    yield dataset, DCTERMS.temporal, period
    yield period, RDF.type, DCTERMS.PeriodOfTime
    if record.start is not None:
        yield period, DCAT.startDate, _instant(record.start)
    if record.end is not None:
        yield period, DCAT.endDate, _instant(record.end)


def _distribution(
    profile: Profile, dataset: Iri, record: Record, distribution: Distribution
) -> Iterator[Triple]:
    node = Iri(f"{dataset}#{distribution.key}")
    yield dataset, DCAT.distribution, node
    yield node, RDF.type, DCAT.Distribution
    yield node, DCTERMS.title, Lit(distribution.title)
    yield node, DCTERMS.description, Lit(distribution.description)
    yield node, DCAT.accessURL, Iri(distribution.access_url)
    if distribution.download_url:
        yield node, DCAT.downloadURL, Iri(distribution.download_url)
    yield node, DCTERMS.format, Iri(distribution.format_uri)
    yield node, DCAT.mediaType, Iri(_IANA + distribution.media_type)
    yield node, DCTERMS.license, Iri(record.licence)
    if distribution.service:
        yield node, DCTERMS.conformsTo, Iri(distribution.service.conforms_to)
        yield node, DCAT.accessService, _service_iri(profile, distribution.service)
    if record.hvd_category:
        yield node, DCATAP.applicableLegislation, Iri(HVD_LEGISLATION)
    attribution = attribution_of(profile, record)
    if attribution:
        yield node, DCATDE.licenseAttributionByText, Lit(attribution)


def _paging(paging: Paging) -> Iterator[Triple]:
    """The page as ckanext-dcat describes it (hydra:PagedCollection with the deprecated and
    the current Hydra names, so every harvester version finds its way to the next page)."""
    node = Iri(paging.url)
    yield node, RDF.type, HYDRA.PagedCollection
    yield node, RDF.type, HYDRA.PartialCollectionView
    yield node, HYDRA.totalItems, Lit(str(paging.total), XSD.integer)
    yield node, HYDRA.itemsPerPage, Lit(str(paging.size), XSD.integer)
    links = {"first": 1, "last": paging.last}
    if paging.page > 1:
        links["previous"] = paging.page - 1
    if paging.page < paging.last:
        links["next"] = paging.page + 1
    for name, page in links.items():
        url = Lit(paging.page_url.format(page=page))
        yield node, HYDRA[name], url
        yield node, HYDRA[name + "Page"], url


def _instant(value: datetime) -> Lit:
    return Lit(value.isoformat(), XSD.dateTime)


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
