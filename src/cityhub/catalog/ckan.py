"""Records as CKAN dictionaries: packages with their resources, organizations, groups
(the EU data themes), licences — the shapes CKAN 2.10 answers with, carrying the extras
GovData's DCAT-AP.de harvester (ckanext-dcatde over ckanext-dcat) reads and writes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from cityhub.catalog import dcat
from cityhub.catalog.distributions import Distribution, Service, distributions
from cityhub.catalog.profile import (
    HVD_LEGISLATION,
    PUBLIC_ACCESS,
    RESTRICTED_ACCESS,
    Profile,
    attribution_of,
    contact_of,
    publisher_of,
)
from cityhub.catalog.records import Organization, Record
from cityhub.datasets.vocabularies import LICENCES, THEMES, licence_title
from cityhub.pages import DEFAULT_LANGUAGE, messages
from cityhub.store.access import PUBLIC

_THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
_NAMESPACE = uuid.UUID("6f0b2b1e-5c3a-4d2e-9a51-0c1d7e3f4a20")


def stable_id(*parts: str) -> str:
    """A CKAN id (a UUID) that stays the same for the same thing across requests and hosts."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def ckan_time(value: datetime) -> str:
    """CKAN's timestamps: UTC without a zone suffix, with microseconds."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def licence_id(uri: str) -> str:
    return next((key for key, (known, _) in LICENCES.items() if known == uri), uri)


def group_name(theme_uri: str) -> str:
    """A theme's group: its EU code in lower case (``tran``), as ckanext-dcatde makes it."""
    return theme_uri.removeprefix(_THEME_BASE).lower()


def package(profile: Profile, record: Record) -> dict[str, Any]:
    package_id = stable_id("dataset", record.slug)
    resources = [
        resource(profile, package_id, record, position, found)
        for position, found in enumerate(distributions(record, profile.base))
    ]
    tags = [tag(keyword) for keyword in record.keywords]
    contact = contact_of(profile, record)
    return {
        "id": package_id,
        "name": record.slug,
        "title": record.title,
        "notes": record.description,
        "url": profile.dataset_iri(record.slug),
        "type": "dataset",
        "state": "active",
        "private": record.visibility != PUBLIC,
        "isopen": True,
        "license_id": licence_id(record.licence),
        "license_title": licence_title(record.licence) or record.licence,
        "license_url": record.licence,
        "author": None,
        "author_email": None,
        "maintainer": contact.name,
        "maintainer_email": contact.email,
        "version": None,
        "metadata_created": ckan_time(record.created),
        "metadata_modified": ckan_time(record.modified),
        "creator_user_id": None,
        "owner_org": stable_id("organization", record.organization.slug)
        if record.organization
        else None,
        "organization": organization(record.organization) if record.organization else None,
        "groups": [group(theme) for theme in record.themes],
        "tags": tags,
        "num_tags": len(tags),
        "resources": resources,
        "num_resources": len(resources),
        "extras": _extras(profile, record),
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def _extras(profile: Profile, record: Record) -> list[dict[str, str]]:
    """The DCAT-AP.de metadata beyond CKAN's core fields, under the keys of ckanext-dcat and
    ckanext-dcatde (lists as JSON text, as they store them)."""
    values: dict[str, str | None] = {
        "uri": profile.dataset_iri(record.slug),
        "identifier": profile.dataset_iri(record.slug),
        "metadata_original_html": profile.dataset_iri(record.slug),
        "issued": record.created.astimezone(UTC).isoformat(),
        "modified": record.modified.astimezone(UTC).isoformat(),
        "access_rights": PUBLIC_ACCESS if record.visibility == PUBLIC else RESTRICTED_ACCESS,
        "frequency": record.frequency,
        "theme": _json(record.themes) if record.themes else None,
        "language": _json([profile.language_uri]),
        "publisher_name": publisher_of(profile, record),
        "publisher_url": record.organization.url if record.organization else None,
        "publisher_email": record.organization.email if record.organization else None,
        "contact_name": contact_of(profile, record).name,
        "contact_email": contact_of(profile, record).email,
        "contributorID": _json([profile.contributor_id]) if profile.contributor_id else None,
        "politicalGeocodingURI": _json([profile.geocoding_uri]) if profile.geocoding_uri else None,
        "politicalGeocodingLevelURI": profile.geocoding_level_uri,
        "hvd_category": record.hvd_category,
        "applicable_legislation": _json([HVD_LEGISLATION]) if record.hvd_category else None,
        "spatial": dcat.geojson(record.bbox) if record.bbox else None,
        "temporal_start": record.start.astimezone(UTC).isoformat() if record.start else None,
        "temporal_end": record.end.astimezone(UTC).isoformat() if record.end else None,
    }
    return [{"key": key, "value": value} for key, value in values.items() if value]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def resource(
    profile: Profile, package_id: str, record: Record, position: int, distribution: Distribution
) -> dict[str, Any]:
    service = distribution.service
    found = {
        "id": stable_id("dataset", record.slug, distribution.key),
        "package_id": package_id,
        "position": position,
        "name": distribution.title,
        "description": distribution.description,
        "url": distribution.download_url or distribution.access_url,
        "format": distribution.format,
        "mimetype": distribution.media_type,
        "resource_type": "api" if distribution.service else "download",
        "state": "active",
        "created": ckan_time(record.created),
        "last_modified": None,
        "url_type": None,
        "access_url": distribution.access_url,
        "download_url": distribution.download_url,
        "license": record.licence,
        "conforms_to": _json([service.conforms_to]) if service else None,
        "access_services": _json([_access_service(profile, service)]) if service else None,
        "distribution_ref": f"{profile.dataset_iri(record.slug)}#{distribution.key}",
    }
    attribution = attribution_of(profile, record)
    if attribution:
        found["licenseAttributionByText"] = attribution
    return found


def _access_service(profile: Profile, service: Service) -> dict[str, Any]:
    """The API a resource is part of, as ckanext-dcat keeps it (``access_services``)."""
    return {
        "uri": f"{profile.catalog_iri}#{service.key}",
        "title": service.title,
        "endpoint_url": [profile.base + service.path],
        "conforms_to": [service.conforms_to],
    }


def tag(name: str) -> dict[str, Any]:
    return {
        "id": stable_id("tag", name),
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": None,
    }


def organization(found: Organization, package_count: int | None = None) -> dict[str, Any]:
    id_ = stable_id("organization", found.slug)
    return _holder(id_, found.slug, found.name, found.description or "", True, package_count)


def group(theme_uri: str, package_count: int | None = None) -> dict[str, Any]:
    name = group_name(theme_uri)
    # German, as GovData names its groups: the portal's titles of the EU data themes.
    title = messages(DEFAULT_LANGUAGE).get(f"portal.theme.{name.upper()}", name)
    return _holder(name, name, title, theme_uri, False, package_count)


def _holder(
    id_: str, name: str, title: str, description: str, is_organization: bool, count: int | None
) -> dict[str, Any]:
    """An organization or a group (CKAN's two kinds of holders of datasets)."""
    shown: dict[str, Any] = {
        "id": id_,
        "name": name,
        "title": title,
        "display_name": title,
        "description": description,
        "image_url": "",
        "type": "organization" if is_organization else "group",
        "is_organization": is_organization,
        "state": "active",
        "approval_status": "approved",
    }
    if count is not None:
        shown["package_count"] = count
    return shown


def all_groups() -> list[str]:
    """Every theme URI, as groups exist whether or not a dataset is in them."""
    return list(THEMES.values())


def licence(key: str) -> dict[str, Any]:
    uri, title = LICENCES[key]
    return {
        "id": key,
        "title": title,
        "url": uri,
        "status": "active",
        "maintainer": "",
        "family": "",
        "is_generic": False,
        "is_okd_compliant": True,
        "is_osi_compliant": False,
        "od_conformance": "approved",
        "osd_conformance": "not reviewed",
        "domain_content": False,
        "domain_data": True,
        "domain_software": False,
    }
