"""Another SensorThings server, mirrored: the way a regional hub gathers from town hubs.

The Things the ``filter`` selects on the source, with their Locations and Datastreams, are
fetched page by page (``@iot.nextLink``); each becomes a place whose series are its
Datastreams. Observations are fetched incrementally: per Datastream only those after the
latest one already mirrored (the first run reaches back ``first_run_days``), oldest first and
at most ``max_observations`` a run, so a long backlog is caught up over several runs.

The source's ids and URLs stay with what is mirrored: the Thing's and Datastream's
``sourceId`` and ``sourceUrl`` properties, the feature's provenance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import orjson
from pydantic import Field
from sqlalchemy import Connection, select

from cityhub import datasets
from cityhub.connectors.base import (
    MEASUREMENT,
    Connector,
    Harvest,
    Options,
    Place,
    Reading,
    Series,
    SourceError,
)
from cityhub.connectors.context import RunContext
from cityhub.store import schema

#: Pages followed at most, so a source that links in circles cannot hold a run forever.
_MAX_PAGES = 1000


class MirrorOptions(Options):
    filter: str | None = Field(
        None,
        description="OData $filter selecting the source's Things, e.g. "
        "\"properties/town eq 'Olpe'\"; default: all.",
    )
    first_run_days: int = Field(
        7, ge=0, le=3650, description="How far back the first run fetches Observations."
    )
    max_observations: int = Field(
        10_000, ge=1, le=1_000_000, description="Observations fetched per Datastream and run."
    )
    page_size: int = Field(1000, ge=1, le=10_000, description="$top of each request.")


class SensorThingsMirror(Connector):
    options_model = MirrorOptions
    options: MirrorOptions
    missing_source: ClassVar[str] = (
        "give the source server's base URL as 'url', e.g. 'https://hub.example.org/v1.1'"
    )

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        base = url.rstrip("/")
        context.conditional = False  # the answers depend on what is held, not on the URL
        things = await self._things(context, base)
        held = await context.store.read(
            lambda c: _latest_held(c, context.target.dataset, context.target.connector)
        )
        since_first = context.fetched_at - timedelta(days=self.options.first_run_days)
        places = []
        for thing in things:
            place = _place(thing)
            for datastream in thing.get("Datastreams") or []:
                series = _series(datastream)
                since = held.get((place.key, series.key), since_first)
                series.readings = await self._readings(context, base, datastream, since)
                place.series.append(series)
            places.append(place)
        return Harvest(source=base, places=places)

    async def _things(self, context: RunContext, base: str) -> list[dict[str, Any]]:
        params = {
            "$expand": "Locations,Datastreams($expand=ObservedProperty)",
            "$top": str(min(self.options.page_size, 100)),
            "$orderby": "id",
        }
        if self.options.filter:
            params["$filter"] = self.options.filter
        return await _pages(context, f"{base}/Things", params, limit=None)

    async def _readings(
        self, context: RunContext, base: str, datastream: dict[str, Any], since: datetime
    ) -> list[Reading]:
        link = datastream.get("Observations@iot.navigationLink")
        url = (
            str(link)
            if link
            else f"{base}/Datastreams({_literal(datastream['@iot.id'])})/Observations"
        )
        params = {
            "$filter": f"phenomenonTime gt {_instant(since)}",
            "$orderby": "phenomenonTime asc",
            "$top": str(self.options.page_size),
            "$select": "phenomenonTime,result,resultQuality,parameters",
        }
        found = await _pages(context, url, params, limit=self.options.max_observations)
        return [reading for item in found if (reading := _reading(url, item)) is not None]


async def _pages(
    context: RunContext, url: str, params: dict[str, str] | None, limit: int | None
) -> list[dict[str, Any]]:
    """The ``value`` items of ``url`` and of every page its ``@iot.nextLink`` leads to."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(_MAX_PAGES):
        if next_url is None or (limit is not None and len(items) >= limit):
            break
        document = await context.get_json(next_url, params)
        if not isinstance(document, dict) or not isinstance(document.get("value"), list):
            raise SourceError(f"{next_url}: expected a SensorThings collection with 'value'")
        items.extend(item for item in document["value"] if isinstance(item, dict))
        link = document.get("@iot.nextLink")
        next_url, params = (str(link), None) if link else (None, None)
    return items if limit is None else items[:limit]


def _place(thing: dict[str, Any]) -> Place:
    source_id = thing.get("@iot.id")
    if source_id is None:
        raise SourceError("a Thing of the source has no @iot.id")
    properties = dict(thing.get("properties") or {})
    properties.update(sourceId=source_id, sourceUrl=thing.get("@iot.selfLink"))
    return Place(
        key=str(source_id),
        name=str(thing.get("name") or f"Thing {source_id}"),
        geometry=_geometry(thing.get("Locations") or []),
        properties=properties,
        description=str(thing.get("description") or ""),
    )


def _geometry(locations: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first Location's GeoJSON geometry (a Feature's geometry if it is one)."""
    for location in locations:
        value = location.get("location")
        if isinstance(value, dict) and value.get("type") == "Feature":
            value = value.get("geometry")
        if isinstance(value, dict) and "type" in value and "coordinates" in value:
            return value
    return None


def _series(datastream: dict[str, Any]) -> Series:
    source_id = datastream.get("@iot.id")
    if source_id is None:
        raise SourceError("a Datastream of the source has no @iot.id")
    observed = datastream.get("ObservedProperty") or {}
    name = str(datastream.get("name") or f"Datastream {source_id}")
    properties = dict(datastream.get("properties") or {})
    properties.update(sourceId=source_id, sourceUrl=datastream.get("@iot.selfLink"))
    return Series(
        key=str(source_id),
        name=name,
        unit=dict(datastream.get("unitOfMeasurement") or {}),
        observed_property={
            "name": str(observed.get("name") or name),
            "definition": str(observed.get("definition") or ""),
        },
        description=str(datastream.get("description") or ""),
        observation_type=str(datastream.get("observationType") or MEASUREMENT),
        properties=properties,
    )


def _reading(url: str, item: dict[str, Any]) -> Reading | None:
    time_text = item.get("phenomenonTime")
    if not isinstance(time_text, str):
        return None
    start = time_text.split("/")[0]
    try:
        time = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(f"{url}: '{time_text}' is not a phenomenonTime") from None
    if time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    quality = item.get("resultQuality")
    if quality is not None and not isinstance(quality, str):
        quality = orjson.dumps(quality).decode()
    parameters = item.get("parameters")
    return Reading(
        time,
        item.get("result"),
        quality=quality,
        parameters=parameters if isinstance(parameters, dict) else None,
    )


def _instant(time: datetime) -> str:
    return time.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _literal(source_id: Any) -> str:
    return (
        str(source_id)
        if isinstance(source_id, int)
        else "'" + str(source_id).replace("'", "''") + "'"
    )


def _latest_held(
    connection: Connection, dataset: str, connector: str
) -> dict[tuple[str, str], datetime]:
    """The time of the latest mirrored Observation of each (Thing key, Datastream key)."""
    found = datasets.dataset_by_slug(connection, dataset)
    if found is None:
        return {}
    things, streams = schema.things, schema.datastreams
    rows = connection.execute(
        select(
            things.c.properties.label("thing"),
            streams.c.properties,
            streams.c.latest_phenomenon_time,
        )
        .join(streams, streams.c.thing_id == things.c.id)
        .where(things.c.dataset_id == int(found["id"]))
    )
    held = {}
    for thing, properties, latest in rows:
        if not (isinstance(thing, dict) and thing.get("connector") == connector):
            continue
        if latest is None or not isinstance(properties, dict) or "sourceKey" not in properties:
            continue
        latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
        held[(str(thing["sourceKey"]), str(properties["sourceKey"]))] = latest
    return held
