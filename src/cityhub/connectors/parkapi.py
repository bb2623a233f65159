"""ParkAPI: parking sites with their free and total spaces, in both of its formats.

v3 (``/api/public/v3/parking-sites``, e.g. MobiData BW) lists sites with ``lat``/``lon``
(often as decimal strings), ``capacity`` and, where there is live data,
``realtime_free_capacity``, ``realtime_capacity`` and ``realtime_data_updated_at``. v1 (the
ParkenDD API, ``/<city>``) has ``lots`` with ``coords``, ``free``, ``total`` (``count`` in
old servers) and one ``last_updated`` in UTC without a zone. Each site is a place; its free
and total spaces are series, where the source has live numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from cityhub.connectors.base import Connector, Harvest, Options, Place, Reading, Series, SourceError
from cityhub.connectors.context import RunContext

SPACES = {
    "name": "parking spaces",
    "symbol": "{spaces}",
    "definition": "http://qudt.org/vocab/unit/NUM",
}
FREE = {"name": "Freie Stellplätze (free parking spaces)", "definition": "https://parkapi.de/free"}
TOTAL = {
    "name": "Stellplätze gesamt (total parking spaces)",
    "definition": "https://parkapi.de/total",
}
_NO_DATA_STATES = frozenset({"nodata", "unknown"})


class ParkApiOptions(Options):
    version: Literal["auto", "v3", "v1"] = Field(
        "auto", description="The source's format; auto tells them apart by their shape."
    )
    source_uid: str | None = Field(None, description="v3: only the sites of this source.")


class ParkApi(Connector):
    options_model = ParkApiOptions
    options: ParkApiOptions
    dataset_defaults: ClassVar[dict[str, Any]] = {
        "title": "Parken: freie Stellplätze",
        "description": "Parking sites with their free and total spaces, from ParkAPI.",
        "licence": "dl-by-de/2.0",
        "keywords": ["Parken", "Parkhaus", "Stellplätze"],
        "themes": ["TRAN"],
        "update_frequency": "5MIN",
    }
    collection_title: ClassVar[str | None] = "Parkhäuser und Parkplätze"

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        params = {"source_uid": self.options.source_uid} if self.options.source_uid else None
        document = await context.get_json(url, params)
        if document is None:
            return None
        version = self.options.version
        if version == "auto":
            version = "v1" if isinstance(document, dict) and "lots" in document else "v3"
        places = _v1_places(url, document) if version == "v1" else _v3_places(url, document)
        return Harvest(source=url, places=places)


# --- v3 ------------------------------------------------------------------------------------


def _v3_places(url: str, document: Any) -> list[Place]:
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise SourceError(f"{url}: expected a list of parking sites (or {{'items': [...]}})")
    return [_v3_place(site) for site in items if isinstance(site, dict) and "id" in site]


def _v3_place(site: dict[str, Any]) -> Place:
    properties = {
        key: site[key]
        for key in (
            "address",
            "type",
            "purpose",
            "capacity",
            "operator_name",
            "public_url",
            "has_fee",
            "opening_hours",
            "realtime_opening_status",
            "source_id",
            "original_uid",
        )
        if site.get(key) is not None
    }
    series = []
    updated = site.get("realtime_data_updated_at")
    if site.get("has_realtime_data") and updated:
        time = _time(str(updated))
        status = {"openingStatus": site.get("realtime_opening_status")}
        free = site.get("realtime_free_capacity")
        total = site.get("realtime_capacity", site.get("capacity"))
        series = _spaces(time, free, total, status)
    return Place(
        key=str(site["id"]),
        name=str(site.get("name") or site["id"]),
        geometry=_point(site.get("lon"), site.get("lat")),
        properties=properties,
        series=series,
    )


# --- v1 ------------------------------------------------------------------------------------


def _v1_places(url: str, document: Any) -> list[Place]:
    if not isinstance(document, dict) or not isinstance(document.get("lots"), list):
        raise SourceError(f"{url}: expected {{'lots': [...]}} (ParkAPI v1)")
    updated = document.get("last_updated")
    time = _time(str(updated)) if updated else None
    return [_v1_place(lot, time) for lot in document["lots"] if isinstance(lot, dict)]


def _v1_place(lot: dict[str, Any], time: datetime | None) -> Place:
    coords = lot.get("coords") or {}
    total = lot.get("total", lot.get("count"))
    properties = {
        "address": lot.get("address"),
        "region": lot.get("region"),
        "type": lot.get("lot_type"),
        "capacity": total,
        "state": lot.get("state"),
        "forecast": lot.get("forecast"),
    }
    series = []
    if time is not None and lot.get("state") not in _NO_DATA_STATES:
        series = _spaces(time, lot.get("free"), total, {"state": lot.get("state")})
    return Place(
        key=str(lot.get("id") or lot.get("name")),
        name=str(lot.get("name") or lot.get("id")),
        geometry=_point(coords.get("lng", coords.get("lon")), coords.get("lat")),
        properties={k: v for k, v in properties.items() if v is not None},
        series=series,
    )


# --- both ----------------------------------------------------------------------------------


def _spaces(time: datetime, free: Any, total: Any, parameters: dict[str, Any]) -> list[Series]:
    series = []
    for key, value, observed in (("free", free, FREE), ("total", total, TOTAL)):
        if isinstance(value, int) and not isinstance(value, bool):
            reading = Reading(time, value, parameters=parameters)
            series.append(Series(key, observed["name"], SPACES, observed, readings=[reading]))
    return series


def _point(lon: Any, lat: Any) -> dict[str, Any] | None:
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    return {"type": "Point", "coordinates": [x, y]}


def _time(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is UTC, as both ParkAPI versions write them."""
    time = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return time if time.tzinfo else time.replace(tzinfo=UTC)
