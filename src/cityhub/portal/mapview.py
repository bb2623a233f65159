"""The map's view in a URL, so every view can be linked and put in a QR code:
``/?map=ZOOM/LAT/LON&layers=a,b&feature=COLLECTION/ID`` (``layers=`` empty: none shown)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cityhub.errors import BadRequest

_FEATURE = re.compile(r"[a-z0-9][a-z0-9_-]*/[0-9]{1,18}")


@dataclass(frozen=True)
class MapView:
    zoom: int | None = None
    centre: tuple[float, float] | None = None  # latitude, longitude
    layers: list[str] | None = None  # None: the default (all)
    feature: str | None = None

    @classmethod
    def parse(cls, params: Any) -> MapView:
        zoom, centre = _view(params.get("map"))
        given = params.getlist("layers")  # layers=a,b from a link, or one per checkbox
        chosen = None
        if given:
            chosen = [slug for value in given for slug in value.split(",") if slug]
        feature = params.get("feature") or None
        if feature is not None and not _FEATURE.fullmatch(feature):
            raise BadRequest(f"feature must be COLLECTION/ID, e.g. sensors/3, not '{feature}'")
        return cls(zoom, centre, chosen, feature)


def _view(text: str | None) -> tuple[int | None, tuple[float, float] | None]:
    if not text:
        return None, None
    parts = text.split("/")
    try:
        zoom, lat, lon = int(parts[0]), float(parts[1]), float(parts[2])
        if len(parts) != 3 or not (1 <= zoom <= 19 and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError
    except (ValueError, IndexError):
        raise BadRequest(
            f"map must be ZOOM/LATITUDE/LONGITUDE, e.g. 15/51.1712/7.0845, not '{text}'"
        ) from None
    return zoom, (lat, lon)


def badges(titles: list[str]) -> list[str]:
    """A short distinct label per layer (its initial, else two letters, else with a number),
    drawn on its markers and in the legend, so layers differ by more than colour."""
    taken: set[str] = set()
    found = []
    for index, title in enumerate(titles):
        letters = [c for c in title.upper() if c.isalnum()] or ["?"]
        for label in (letters[0], "".join(letters[:2]), f"{letters[0]}{index + 1}"):
            if label not in taken:
                break
        taken.add(label)
        found.append(label)
    return found


def centre_of(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    """The middle of a geometry's bounding box as (latitude, longitude), for a map link."""
    if not geometry:
        return None
    points: list[tuple[float, float]] = []

    def walk(value: Any) -> None:
        if isinstance(value, list) and value and isinstance(value[0], (int, float)):
            points.append((float(value[0]), float(value[1])))
        elif isinstance(value, list):
            for member in value:
                walk(member)

    walk(geometry.get("coordinates"))
    for member in geometry.get("geometries") or []:
        walk(member.get("coordinates"))
    if not points:
        return None
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return (round((min(lats) + max(lats)) / 2, 6), round((min(lons) + max(lons)) / 2, 6))
