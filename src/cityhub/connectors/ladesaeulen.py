"""The Bundesnetzagentur's Ladesäulenregister: public EV charging stations as features.

The register is a semicolon CSV (Windows-1252 in older files, UTF-8 in newer ones), with
title lines above the header, decimal commas and one row per charging station
(*Ladeeinrichtung*) with its charge points (*Ladepunkte*) in numbered column groups. Two
layouts exist, told apart by the header:

- current: ``Ladeeinrichtungs-ID;Betreiber;Anzeigename (Karte);Status;…;Steckertypen1;
  Nennleistung Stecker1;EVSE-ID1;Public Key1;…`` — the station has an id;
- older (still in archives): ``Betreiber;Straße;…;Breitengrad;Längengrad;
  Inbetriebnahmedatum;Anschlussleistung;Art der Ladeeinrichung;Anzahl Ladepunkte;
  Steckertypen1;P1 [kW];Public Key1;…`` — no id, so the key is derived from what
  identifies the station (operator, place, commissioning date).

Rows are read one at a time from the decoded text; nothing but the rows kept is held.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, ClassVar

import anyio
from pydantic import Field

from cityhub.connectors.base import (
    Connector,
    Harvest,
    Options,
    Place,
    RunSummary,
    SourceError,
)
from cityhub.connectors.context import RunContext
from cityhub.cycles import no_cycle_collection
from cityhub.digits import is_digits

REGISTER_URL = (
    "https://data.bundesnetzagentur.de/Bundesnetzagentur/SharedDocs/Downloads/DE/Sachgebiete/"
    "Energie/Unternehmen_Institutionen/E_Mobilitaet/Ladesaeulenregister.csv"
)
#: How far down the header may be (title lines and notes above it).
_HEADER_SEARCH_LINES = 60
_GROUP = re.compile(
    r"^(?P<field>Steckertypen|Nennleistung Stecker|P|EVSE-ID|Public Key)\s*(?P<n>\d+)(\s*\[kW\])?$"
)
_GROUP_FIELDS = {
    "Steckertypen": "plugs",
    "Nennleistung Stecker": "powerKw",
    "P": "powerKw",
    "EVSE-ID": "evseId",
    "Public Key": "publicKey",
}
#: Station columns: header name(s) in either layout → property.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("Ladeeinrichtungs-ID",),
    "operator": ("Betreiber",),
    "displayName": ("Anzeigename (Karte)",),
    "status": ("Status",),
    "kind": ("Art der Ladeeinrichtung", "Art der Ladeeinrichung"),
    "chargePointCount": ("Anzahl Ladepunkte",),
    "powerKw": ("Nennleistung Ladeeinrichtung [kW]", "Anschlussleistung"),
    "commissioned": ("Inbetriebnahmedatum",),
    "street": ("Straße",),
    "houseNumber": ("Hausnummer",),
    "addressSupplement": ("Adresszusatz",),
    "postcode": ("Postleitzahl",),
    "city": ("Ort",),
    "district": ("Kreis/kreisfreie Stadt",),
    "state": ("Bundesland",),
    "latitude": ("Breitengrad",),
    "longitude": ("Längengrad",),
    "locationName": ("Standortbezeichnung",),
    "parking": ("Informationen zum Parkraum",),
    "payment": ("Bezahlsysteme",),
    "openingHours": ("Öffnungszeiten",),
    "openingDays": ("Öffnungszeiten: Wochentage",),
    "openingTimes": ("Öffnungszeiten: Tageszeiten",),
}
_NUMBERS = ("chargePointCount", "powerKw")
_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")
_KINDS = {"normalladeeinrichtung": "normal", "schnellladeeinrichtung": "fast"}


class LadesaeulenOptions(Options):
    states: list[str] = Field(
        default_factory=list, description="Only stations in these Länder, e.g. ['Hessen']."
    )
    districts: list[str] = Field(
        default_factory=list,
        description="Only stations in these districts (column 'Kreis/kreisfreie Stadt'), "
        "e.g. ['Kreis Siegen-Wittgenstein'].",
    )
    postcodes: list[str] = Field(
        default_factory=list, description="Only postcodes starting with one of these."
    )
    bbox: tuple[float, float, float, float] | None = Field(
        None, description="Only stations in [min lon, min lat, max lon, max lat] (WGS 84)."
    )


class Ladesaeulenregister(Connector):
    default_url = REGISTER_URL
    options_model = LadesaeulenOptions
    options: LadesaeulenOptions
    dataset_defaults: ClassVar[dict[str, Any]] = {
        "title": "Ladesäulen (Ladesäulenregister der Bundesnetzagentur)",
        "description": "Public charging stations for electric vehicles with their charge points, "
        "power and plug types, from the Ladesäulenregister of the Bundesnetzagentur.",
        "licence": "cc-by/4.0",
        "keywords": ["Ladesäulen", "Elektromobilität", "Ladeinfrastruktur"],
        "themes": ["ENER", "TRAN"],
        "hvd_category": "mobility",
        "update_frequency": "MONTHLY",
    }
    collection_title: ClassVar[str | None] = "Ladesäulen"

    async def run(self, context: RunContext) -> RunSummary:
        with no_cycle_collection():
            return await super().run(context)

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        response = await context.get(url)
        if response is None:
            return None
        context.progress("reading the register")
        content_type = response.headers.get("Content-Type", "")
        # A whole register takes seconds to read: off the event loop, so the hub keeps serving.
        places = await anyio.to_thread.run_sync(self._read, url, response.content, content_type)
        return Harvest(source=url, places=places)

    def _read(self, url: str, content: bytes, content_type: str) -> list[Place]:
        wanted = _Filter(self.options)
        text = decode(url, content, content_type)
        return [_place(station) for station in read_register(url, text) if wanted(station)]


def decode(url: str, content: bytes, content_type: str = "") -> str:
    """The register as text: UTF-8 (with or without BOM), else Windows-1252. An HTML page
    where the CSV should be is a ``SourceError``."""
    start = content[:512].lstrip().lower()
    if "html" in content_type or start.startswith((b"<!doctype", b"<html", b"<?xml")):
        raise SourceError(f"{url} answered an HTML page, not the register CSV")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


@dataclass(slots=True)
class _Layout:
    """Where each field is in a row of one layout: (field, column) pairs."""

    name: str
    width: int
    columns: list[tuple[str, int]]
    groups: list[list[tuple[str, int]]]


def read_register(url: str, text: str) -> Iterator[dict[str, Any]]:
    """The stations of the register, one dict each (properties, ``latitude``/``longitude``
    as floats, ``chargePoints``). ``SourceError`` when there is no header or no station."""
    rows = csv.reader(io.StringIO(text), delimiter=";")
    layout = _find_header(url, rows)
    found = 0
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        found += 1
        yield _station(layout, row)
    if not found:
        raise SourceError(f"{url}: the register lists no charging stations")


def _find_header(url: str, rows: Iterator[list[str]]) -> _Layout:
    for number, row in enumerate(rows, start=1):
        names = [cell.strip().lstrip("\ufeff") for cell in row]
        if "Betreiber" in names and "Breitengrad" in names:
            return _layout(names)
        if number >= _HEADER_SEARCH_LINES:
            break
    raise SourceError(
        f"{url}: no header line naming 'Betreiber' and 'Breitengrad' in the first "
        f"{_HEADER_SEARCH_LINES} lines; is it the Ladesäulenregister CSV?"
    )


def _layout(names: list[str]) -> _Layout:
    index = {name: i for i, name in enumerate(names)}
    columns = [
        (field, next(index[h] for h in headers if h in index))
        for field, headers in _COLUMNS.items()
        if any(h in index for h in headers)
    ]
    groups: dict[int, list[tuple[str, int]]] = {}
    for i, name in enumerate(names):
        match = _GROUP.match(name)
        if match:
            groups.setdefault(int(match["n"]), []).append((_GROUP_FIELDS[match["field"]], i))
    layout = "current" if any(field == "id" for field, _ in columns) else "older"
    return _Layout(layout, len(names), columns, [groups[n] for n in sorted(groups)])


def _station(layout: _Layout, row: list[str]) -> dict[str, Any]:
    if len(row) < layout.width:
        row = row + [""] * (layout.width - len(row))
    station: dict[str, Any] = {"layout": layout.name}
    for field, i in layout.columns:
        value = row[i]
        if value and (value := value.strip()):
            station[field] = value
    for field in _NUMBERS:
        if field in station:
            station[field] = _number(station[field])
    if "kind" in station:
        station["kind"] = _KINDS.get(station["kind"].lower(), station["kind"])
    if "commissioned" in station:
        station["commissioned"] = _date(station["commissioned"])
    if "payment" in station:
        station["payment"] = list(_listed(station["payment"]))
    points = []
    plugs: set[str] = set()
    for group in layout.groups:
        point: dict[str, Any] = {}
        for field, i in group:
            value = row[i]
            if value and (value := value.strip()):
                point[field] = value
        if point:
            if "plugs" in point:
                listed = _listed(point["plugs"])
                plugs.update(listed)
                point["plugs"] = list(listed)
            if "powerKw" in point:
                point["powerKw"] = _number(point["powerKw"])
            points.append(point)
    station["chargePoints"] = points
    station["plugTypes"] = sorted(plugs)
    station["latitude"] = _coordinate(station.get("latitude"), 90)
    station["longitude"] = _coordinate(station.get("longitude"), 180)
    return station


@lru_cache(maxsize=4096)
def _listed(text: str) -> tuple[str, ...]:
    """``"AC Steckdose Typ 2, AC Schuko"`` as its parts (the same few texts recur)."""
    return tuple(part for part in (piece.strip() for piece in text.split(",")) if part)


@lru_cache(maxsize=4096)
def _number(text: str) -> float | int | str:
    """``22``, ``3,7``, ``1.800`` or ``1.000,5`` as a number (German separators; a lone dot
    before other than three digits is a decimal point); text that is none stays text."""
    if is_digits(text):
        return int(text)
    cleaned = text.replace(" ", "")
    if "," in cleaned or _THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _coordinate(text: str | None, limit: int) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        return None
    return value if -limit <= value <= limit else None


@lru_cache(maxsize=8192)
def _date(text: str) -> str:
    """``25.01.2021``, ``11.01.20`` or ``2021-01-25`` as ISO 8601; anything else as is."""
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})", text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        year += 2000 if year < 100 else 0
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text
    return text[:10] if re.match(r"\d{4}-\d{2}-\d{2}", text) else text


class _Filter:
    """The stations a city wants: by Land, district, postcode prefix and bounding box."""

    def __init__(self, options: LadesaeulenOptions) -> None:
        self.states = {s.casefold() for s in options.states}
        self.districts = {d.casefold() for d in options.districts}
        self.postcodes = tuple(options.postcodes)
        self.bbox = options.bbox

    def __call__(self, station: dict[str, Any]) -> bool:
        if self.states and str(station.get("state", "")).casefold() not in self.states:
            return False
        if self.districts and str(station.get("district", "")).casefold() not in self.districts:
            return False
        if self.postcodes and not str(station.get("postcode", "")).startswith(self.postcodes):
            return False
        if self.bbox is not None:
            lon, lat = station["longitude"], station["latitude"]
            if lon is None or lat is None:
                return False
            west, south, east, north = self.bbox
            return west <= lon <= east and south <= lat <= north
        return True


def _place(station: dict[str, Any]) -> Place:
    """The station as a place; ``station`` itself becomes its properties (no copy: a
    register has a hundred thousand of them)."""
    key = str(station.get("id") or _derived_key(station))
    name = _name(station)
    lon, lat = station.pop("longitude"), station.pop("latitude")
    station.pop("id", None)
    geometry = None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}
    powers = [
        power
        for point in station["chargePoints"]
        if isinstance(power := point.get("powerKw"), int | float)
    ]
    if powers:
        station["maxPowerKw"] = max(powers)
    return Place(key=key, name=name, geometry=geometry, properties=station)


def _name(station: dict[str, Any]) -> str:
    who = station.get("displayName") or station.get("operator") or "Ladeeinrichtung"
    where = " ".join(str(station[k]) for k in ("street", "houseNumber") if k in station)
    city = station.get("city")
    return ", ".join(part for part in (who, where, city) if part)


def _derived_key(station: dict[str, Any]) -> str:
    """An id for a station of the older layout, which has none: what identifies it."""
    fields = ("operator", "street", "houseNumber", "postcode", "latitude", "longitude")
    text = "|".join(str(station.get(f, "")) for f in (*fields, "commissioned"))
    return "bnetza-" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
