"""``GET /departures?stop=ID&limit=N[&at=ISO 8601][&feed=NAME]``: the next departures.

A departure board polls this: one read transaction, two statements (``departures``). ``at``
without an offset is a local time of the feed's time zone; times in the answer carry the
offset of that zone. A stop in a restricted dataset is as unknown as a stop that does not
exist.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.routing import Route

from cityhub.auth import Authenticator
from cityhub.errors import BadRequest, NotFound
from cityhub.gtfs.departures import StopScope, find_stops, next_departures
from cityhub.store.access import Reader
from cityhub.store.database import Store
from cityhub.web import JSONResponse

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_SPACED_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)$")


class DeparturesFace:
    """The departures API over the GTFS feeds in the store."""

    def __init__(self, store: Store, auth: Authenticator) -> None:
        self.store = store
        self.auth = auth

    def routes(self) -> list[Route]:
        return [Route("/departures", self.departures, methods=["GET"])]

    async def departures(self, request: Request) -> JSONResponse:
        params = request.query_params
        stop = (params.get("stop") or "").strip()
        if not stop:
            raise BadRequest("give the stop as ?stop=ID, a stop_id of the GTFS feed")
        limit = _limit(params.get("limit"))
        at = _instant(params.get("at"))
        feed = params.get("feed") or None
        reader = (await self.auth.principal(request)).reader
        body = await self.store.read(lambda c: _answer(c, stop, feed, at, limit, reader))
        return JSONResponse(body)


def _answer(
    connection: Connection,
    stop: str,
    feed: str | None,
    at: datetime | None,
    limit: int,
    reader: Reader,
) -> dict[str, Any]:
    scopes = find_stops(connection, stop, reader, feed)
    if not scopes:
        where = f" in the feed '{feed}'" if feed else ""
        raise NotFound(f"no stop '{stop}'{where}: use a stop_id of a loaded GTFS feed")
    if len(scopes) > 1:
        names = ", ".join(sorted(s.feed for s in scopes))
        raise BadRequest(f"the stop '{stop}' is in several feeds ({names}): add &feed=NAME")
    scope = scopes[0]
    if at is None:
        at = datetime.now(UTC)
    elif at.tzinfo is None:
        at = at.replace(tzinfo=scope.timezone)
    return {
        "stop": _stop(scope),
        "at": at.astimezone(scope.timezone).isoformat(),
        "realtime_timestamp": (
            scope.realtime_timestamp.astimezone(scope.timezone).isoformat()
            if scope.realtime_timestamp
            else None
        ),
        "departures": next_departures(connection, scope, at, limit),
    }


def _stop(scope: StopScope) -> dict[str, Any]:
    stop = scope.stop
    return {
        "id": stop["stop_id"],
        "name": stop["name"],
        "feed": scope.feed,
        "timezone": str(scope.timezone),
        "location_type": stop["location_type"],
        "platforms": sorted(scope.platforms),
    }


def _limit(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_LIMIT
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}, not '{text}'")
    return value


def _instant(text: str | None) -> datetime | None:
    """``at`` as given: aware, or naive (a local time of the feed's zone, settled later)."""
    if text is None or text.strip() == "":
        return None
    value = text.strip()
    if "T" in value:  # a "+" of the offset sent unencoded arrives as a space
        value = _SPACED_OFFSET.sub(r"+\1", value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"at must be an ISO 8601 time like 2026-12-03T07:45:00+01:00 or 2026-12-03T07:45, "
            f"not '{text}'"
        ) from None


def openapi_paths() -> dict[str, Any]:
    """The departures API in the hub's OpenAPI document."""

    def query(name: str, description: str, required: bool = False, **schema: Any) -> Any:
        kind = {"type": "string", **schema}
        return {
            "name": name,
            "in": "query",
            "required": required,
            "description": description,
            "schema": kind,
        }

    return {
        "/departures": {
            "get": {
                "tags": ["transit"],
                "summary": "Next departures from a stop of a GTFS feed, with realtime updates",
                "description": "See docs/gtfs.md. Times carry the offset of the feed's time "
                "zone; `delay` is in seconds, null without realtime data.",
                "parameters": [
                    query("stop", "A stop_id; a station includes its platforms.", True),
                    query(
                        "limit",
                        "How many departures.",
                        type="integer",
                        minimum=1,
                        maximum=MAX_LIMIT,
                        default=DEFAULT_LIMIT,
                    ),
                    query(
                        "at",
                        "ISO 8601 time; without an offset, local to the feed. Default: now.",
                        format="date-time",
                    ),
                    query("feed", "The connector's name, if the stop is in several feeds."),
                ],
                "responses": {
                    "200": {"description": "The stop and its next departures."},
                    "400": {"description": "A parameter is missing or malformed."},
                    "404": {"description": "No such stop the client may see."},
                },
            }
        }
    }
