"""The HTTP side of the features face: query parameters, ids, and the choice between JSON
and HTML (``f=json|html``, else the ``Accept`` header)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cityhub.digits import is_digits
from cityhub.errors import BadRequest, NotFound
from cityhub.features import crs
from cityhub.features import params as p
from cityhub.web import JSONResponse


def multi(request: Request) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        found.setdefault(name, []).append(value)
    return found


def checked_params(request: Request, allowed: frozenset[str]) -> dict[str, list[str]]:
    found = multi(request)
    p.check_known(found, allowed)
    return found


def feature_id(text: str) -> int:
    if not is_digits(text) or len(text) > 18:
        raise NotFound(f"no feature '{text}': feature ids are whole numbers")
    return int(text)


def lon_lat(params: dict[str, list[str]]) -> tuple[float, float]:
    lon, lat = p.single(params, "lon"), p.single(params, "lat")
    if lon is None or lat is None:
        raise BadRequest("nearby needs 'lon' and 'lat' (WGS 84), e.g. ?lon=7.08&lat=51.17")
    point = p.parse_point(f"{lon},{lat}", "lon/lat")
    return point.lon, point.lat


def target_crs(params: dict[str, list[str]]) -> str:
    return crs.parse_crs(p.single(params, "crs") or crs.CRS84, "crs")


def wants_html(params: dict[str, list[str]], request: Request) -> bool:
    chosen = p.single(params, "f")
    if chosen is not None:
        if chosen in ("json", "geojson"):
            return False
        if chosen == "html":
            return True
        raise BadRequest(f"unsupported 'f' {chosen!r}; use json or html")
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html") or (
        "text/html" in accept and "json" not in accept.split("text/html")[0]
    )


def respond(
    params: dict[str, list[str]],
    request: Request,
    document: dict[str, Any],
    render: Callable[[dict[str, Any]], str],
) -> Response:
    if wants_html(params, request):
        return HTMLResponse(render(document))
    return JSONResponse(document)
