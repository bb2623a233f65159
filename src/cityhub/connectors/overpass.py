"""OpenStreetMap points of interest through the Overpass API.

One Overpass QL query per run, POSTed to the configured interpreter: the elements carrying the
configured tags (``amenity=toilets``, ``amenity=charging_station``, …) in a bounding box or in
a named area. Nodes are points; ways and relations become the point Overpass gives as their
``center``. Each element is a place keyed ``node/123``, its tags its properties.

Overpass answers 200 with whatever it found before a timeout or memory limit, and says so only
in a ``remark``: such an answer is a failed run, never a shorter list that would mark the rest
gone.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import httpx
from pydantic import Field, field_validator, model_validator

from cityhub.connectors.base import Connector, Harvest, Options, Place, SourceError
from cityhub.connectors.context import RunContext, parse_json

INTERPRETER_URL = "https://overpass-api.de/api/interpreter"
OSM_URL = "https://www.openstreetmap.org/"
_SELECTOR = re.compile(r"^\s*(?P<key>[^=!~\s]+)\s*(?:(?P<op>!=|=)\s*(?P<value>.+?))?\s*$")
#: A property the framework sets itself; a tag of that name is kept with an ``osm:`` prefix.
_RESERVED = ("id",)


class OverpassOptions(Options):
    tags: list[str] = Field(
        min_length=1,
        description="Tag selectors, each 'key=value', 'key!=value' or 'key' (present); "
        "an element must match all of them, e.g. ['amenity=toilets'].",
    )
    bbox: tuple[float, float, float, float] | None = Field(
        None, description="[min lon, min lat, max lon, max lat] in WGS 84."
    )
    area: str | None = Field(
        None, description="Name of an OSM area (boundary) instead of a box, e.g. 'Siegen'."
    )
    admin_level: int | None = Field(
        None, ge=1, le=11, description="The area's admin_level, when its name is ambiguous."
    )
    types: list[str] = Field(
        default_factory=lambda: ["node", "way", "relation"],
        description="OSM element types fetched.",
    )
    timeout: int = Field(120, ge=5, le=900, description="Overpass query timeout, in seconds.")

    @field_validator("tags")
    @classmethod
    def _selectors(cls, value: list[str]) -> list[str]:
        for selector in value:
            if not _SELECTOR.match(selector):
                raise ValueError(f"'{selector}' is not 'key=value', 'key!=value' or 'key'")
        return value

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in ("node", "way", "relation")]
        if unknown or not value:
            raise ValueError("use one or more of 'node', 'way', 'relation'")
        return value

    @model_validator(mode="after")
    def _one_area(self) -> OverpassOptions:
        if (self.bbox is None) == (self.area is None):
            raise ValueError("give either 'bbox' or 'area'")
        return self


def overpass_query(options: OverpassOptions) -> str:
    """The Overpass QL query of the options: JSON out, tags and centres only."""
    filters = "".join(_filter(selector) for selector in options.tags)
    lines = [f"[out:json][timeout:{options.timeout}];"]
    if options.bbox is not None:
        west, south, east, north = options.bbox
        scope = f"({south},{west},{north},{east})"
    else:
        level = f'["admin_level"="{options.admin_level}"]' if options.admin_level else ""
        lines.append(f'area["name"={_quoted(options.area or "")}]{level}->.searchArea;')
        scope = "(area.searchArea)"
    lines.append("(")
    lines.extend(f"  {kind}{filters}{scope};" for kind in options.types)
    lines.append(");")
    lines.append("out tags center qt;")
    return "\n".join(lines)


def _filter(selector: str) -> str:
    match = _SELECTOR.match(selector)
    assert match is not None  # checked with the options
    key, op, value = match["key"], match["op"], match["value"]
    if op is None:
        return f"[{_quoted(key)}]"
    return f"[{_quoted(key)}{op}{_quoted(value)}]"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Overpass(Connector):
    default_url = INTERPRETER_URL
    options_model = OverpassOptions
    options: OverpassOptions
    dataset_defaults: ClassVar[dict[str, Any]] = {
        "description": "Points of interest from OpenStreetMap (© OpenStreetMap contributors), "
        "selected through the Overpass API.",
        "licence": "odbl",
        "keywords": ["OpenStreetMap"],
        "update_frequency": "DAILY",
    }

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        query = overpass_query(self.options)
        context.progress(f"querying {url}")
        try:
            response = await context.client.post(url, data={"data": query})
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: no answer ({type(exc).__name__}: {exc})") from exc
        if response.status_code >= 400:
            raise SourceError(
                f"{url} answered {response.status_code} {response.reason_phrase}: "
                f"{_answer_text(response)}"
            )
        document = parse_json(url, response)
        elements = _elements(url, document)
        places = [place for element in elements if (place := _place(element)) is not None]
        return Harvest(source=url, places=places)


def _elements(url: str, document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or not isinstance(document.get("elements"), list):
        raise SourceError(f"{url}: the answer has no 'elements' list")
    remark = document.get("remark")
    if remark:
        raise SourceError(f"{url} answered with a remark, the result is incomplete: {remark}")
    return [e for e in document["elements"] if isinstance(e, dict)]


def _answer_text(response: httpx.Response) -> str:
    """Overpass explains a bad query in an HTML page: its text, shortened."""
    text = re.sub(r"<[^>]+>", " ", response.text)
    text = " ".join(text.split())
    return text[:300] + ("…" if len(text) > 300 else "")


def _place(element: dict[str, Any]) -> Place | None:
    kind, osm_id = element.get("type"), element.get("id")
    point = element if kind == "node" else element.get("center") or {}
    lat, lon = point.get("lat"), point.get("lon")
    if kind not in ("node", "way", "relation") or not isinstance(osm_id, int):
        return None
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    tags = element.get("tags") or {}
    key = f"{kind}/{osm_id}"
    properties = {(f"osm:{tag}" if tag in _RESERVED else tag): value for tag, value in tags.items()}
    properties.update(osmType=kind, osmId=osm_id, osmUrl=OSM_URL + key)
    return Place(
        key=key,
        name=str(tags.get("name") or _describe(tags) or key),
        geometry={"type": "Point", "coordinates": [lon, lat]},
        properties=properties,
    )


def _describe(tags: dict[str, Any]) -> str | None:
    """A name for an element without one: what it is, e.g. ``toilets``."""
    for key in ("amenity", "leisure", "tourism", "shop", "highway", "man_made"):
        if key in tags:
            return str(tags[key]).replace("_", " ")
    return None
