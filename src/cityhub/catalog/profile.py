"""What the catalog says of itself and of every dataset alike, from the settings: title,
publisher, homepage, language, the municipality (political geocoding) and GovData's
contributor id. Both renderings (DCAT-AP.de and CKAN) read it from here."""

from __future__ import annotations

from dataclasses import dataclass

from cityhub.catalog.records import Record
from cityhub.datasets import vocabularies
from cityhub.settings import Settings

_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
_GEOCODING = "http://dcat-ap.de/def/politicalGeocoding/"
#: ELI of the HVD implementing regulation, dcatap:applicableLegislation of a high-value dataset.
HVD_LEGISLATION = "http://data.europa.eu/eli/reg_impl/2023/138/oj"
PUBLIC_ACCESS = "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
RESTRICTED_ACCESS = "http://publications.europa.eu/resource/authority/access-right/RESTRICTED"


@dataclass(frozen=True)
class Profile:
    base: str  # the hub's public URL, no trailing slash
    title: str
    description: str
    publisher_name: str
    publisher_uri: str | None
    homepage: str
    language_uri: str
    licence_uri: str
    geocoding_uri: str | None
    geocoding_level_uri: str | None
    contributor_id: str | None

    @property
    def catalog_iri(self) -> str:
        return f"{self.base}/catalog"

    def dataset_iri(self, slug: str) -> str:
        return dataset_iri(self.base, slug)


def dataset_iri(base: str, slug: str) -> str:
    """A dataset's IRI in the catalog: the address of its portal page."""
    return f"{base}/datasets/{slug}"


def profile(settings: Settings, base: str) -> Profile:
    """The catalog profile for a hub at ``base`` (``base_url`` or the request's)."""
    city = settings.city_name
    geocoding = _geocoding(settings.municipality_key)
    return Profile(
        base=base,
        title=settings.catalog_title or (f"Offene Daten {city}" if city else "Offene Daten"),
        description=settings.catalog_description
        or f"Offene Daten{' der Stadt ' + city if city else ''}: Geodaten und Live-Sensordaten.",
        publisher_name=settings.catalog_publisher_name or city or "cityhub",
        publisher_uri=settings.catalog_publisher_uri,
        homepage=settings.catalog_homepage or f"{base}/",
        language_uri=_LANGUAGE + settings.catalog_language.upper(),
        licence_uri=vocabularies.licence_uri(settings.catalog_licence),
        geocoding_uri=geocoding[0] if geocoding else None,
        geocoding_level_uri=geocoding[1] if geocoding else None,
        contributor_id=settings.contributor_id or None,
    )


def _geocoding(key: str) -> tuple[str, str] | None:
    """The political geocoding URI and its level for a municipality key (the settings let
    through 8 digits, an Amtlicher Gemeindeschlüssel, or 12, a Regionalschlüssel: both name
    the municipality)."""
    if not key:
        return None
    kind = "municipalityKey" if len(key) == 8 else "regionalKey"
    return f"{_GEOCODING}{kind}/{key}", f"{_GEOCODING}Level/municipality"


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None
    url: str | None


def contact_of(profile: Profile, record: Record) -> Contact:
    """Whom to ask about a dataset: its contact, else its organization, else the catalog's
    publisher (DCAT-AP.de recommends a contact point on every dataset)."""
    organization = record.organization
    return Contact(
        record.contact_name or (organization.name if organization else profile.publisher_name),
        record.contact_email or (organization.email if organization else None),
        organization.url if organization else None,
    )


def publisher_of(profile: Profile, record: Record) -> str:
    return record.organization.name if record.organization else profile.publisher_name


def attribution_of(profile: Profile, record: Record) -> str | None:
    """Whom a licence requiring attribution ("Namensnennung") names; None for the others."""
    if "/dl-by-de/" not in record.licence and "/cc-by" not in record.licence:
        return None
    return publisher_of(profile, record)
