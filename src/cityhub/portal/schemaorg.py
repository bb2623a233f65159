"""A dataset described in schema.org terms, for search engines (Google Dataset Search reads
``schema.org/Dataset`` JSON-LD embedded in the dataset's page).

It says what the page says: name and description, the publisher as creator, licence,
keywords, dates, where and when the data lies (derived from the content), what is measured,
and every bulk download as a ``DataDownload``. Google requires a name and a description of
50 to 5,000 characters; a shorter description is completed with a sentence about the
dataset's content, so a terse publisher does not cost the dataset its entry.

Only public datasets are described: a restricted one's page (seen with a token) carries no
description, and its content never appears in a public one's.
"""

from __future__ import annotations

from typing import Any

from cityhub.catalog.profile import dataset_iri
from cityhub.datasets.coverage import Coverage
from cityhub.pages import Translator
from cityhub.portal.record import Link
from cityhub.timeutil import format_instant

CONTEXT = "https://schema.org/"
#: Google's bounds for a Dataset's description, in characters.
DESCRIPTION_MIN, DESCRIPTION_MAX = 50, 5000
#: At most this many downloads are described; the page and the DCAT record list them all.
MAX_DOWNLOADS = 1000


def dataset(
    base: str, context: dict[str, Any], coverage: Coverage, t: Translator
) -> dict[str, Any] | None:
    """The ``schema.org/Dataset`` of the dataset page's ``context`` (``page_context``), or
    None for a restricted dataset."""
    found = context["dataset"]
    if found["visibility"] != "public":
        return None
    iri = dataset_iri(base, found["slug"])
    described: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Dataset",
        "@id": iri,
        "name": found["title"],
        "description": _description(context, t),
        "url": iri,
        "identifier": iri,
        "keywords": found["keywords"],
        "license": found["licence"],
        "isAccessibleForFree": True,
        "dateCreated": found["created_at"],
        "dateModified": found["modified_at"],
        "includedInDataCatalog": {
            "@type": "DataCatalog",
            "name": t("common.site"),
            "url": f"{base}/datasets",
        },
        "distribution": _downloads(context)[:MAX_DOWNLOADS],
    }
    publisher = _organization(context)
    if publisher:
        described["creator"] = described["publisher"] = publisher
    measured = sorted({d["observed"] for d in context["datastreams"] if d["observed"]})
    if measured:
        described["variableMeasured"] = measured
    if coverage.bbox is not None:
        described["spatialCoverage"] = {"@type": "Place", "geo": _geo(coverage.bbox)}
    if coverage.start is not None and coverage.end is not None:
        described["temporalCoverage"] = (
            f"{format_instant(coverage.start)}/{format_instant(coverage.end)}"
        )
    return described


def _description(context: dict[str, Any], t: Translator) -> str:
    found = context["dataset"]
    text = (found["description"] or "").strip()
    if len(text) < DESCRIPTION_MIN:
        summary = t(
            "portal.jsonld.summary",
            title=found["title"],
            collections=len(context["collections"]),
            datastreams=len(context["datastreams"]),
            licence=found["licence_title"] or found["licence"],
        )
        text = f"{text} {summary}".strip()
    if len(text) > DESCRIPTION_MAX:
        text = text[: DESCRIPTION_MAX - 1].rstrip() + "…"
    return text


def _organization(context: dict[str, Any]) -> dict[str, Any] | None:
    publisher, found = context["publisher"], context["dataset"]
    if not publisher:
        return None
    organization: dict[str, Any] = {"@type": "Organization", "name": publisher["name"]}
    if publisher["url"]:
        organization["url"] = publisher["url"]
    if publisher["email"]:
        organization["email"] = publisher["email"]
    if found["contact_name"] or found["contact_email"]:
        contact: dict[str, Any] = {"@type": "ContactPoint"}
        if found["contact_name"]:
            contact["name"] = found["contact_name"]
        if found["contact_email"]:
            contact["email"] = found["contact_email"]
        organization["contactPoint"] = contact
    return organization


def _downloads(context: dict[str, Any]) -> list[dict[str, Any]]:
    described = []
    for item, title in [
        *((c, c["title"]) for c in context["collections"]),
        *((d, d["name"]) for d in context["datastreams"]),
        *((m, m["name"]) for m in context["multi_datastreams"]),
    ]:
        link: Link
        for link in item["downloads"]:
            described.append(
                {
                    "@type": "DataDownload",
                    "name": f"{title} ({link.title})",
                    "encodingFormat": link.media_type,
                    "contentUrl": link.url,
                }
            )
    return described


def _geo(bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    """A point as coordinates, anything larger as a box ("south west north east", as
    schema.org's GeoShape writes it: latitude first)."""
    west, south, east, north = bbox
    if west == east and south == north:
        return {"@type": "GeoCoordinates", "latitude": south, "longitude": west}
    return {"@type": "GeoShape", "box": f"{south} {west} {north} {east}"}
