"""Loading the Solingen demo dataset through the same write path as any client.

Besides the sensors and places, the demo has car parks and a weather forecast shaped and saved
as the ParkAPI and Bright Sky connectors would, and a timetable loaded as the GTFS connector
loads one, so every tile of the portal and the screens has data (``demo_identifiers``).

Loading twice adds nothing: Things already present (by their demo key) are skipped, the car
parks and the forecast are skipped once their datasets hold Things, and the timetable is
loaded only when the store does not hold this very feed (by its digest).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, func, select

from cityhub import datasets
from cityhub.connectors import parkapi
from cityhub.connectors.base import Harvest, RunSummary
from cityhub.connectors.gtfs import Gtfs, save_timetable
from cityhub.connectors.parkapi import ParkApi
from cityhub.connectors.saving import Target, save_harvests
from cityhub.demo_data import DEMO_DAYS, DEMO_MARKER, demo_observations, demo_things
from cityhub.demo_parking import COLLECTION as PARKING_COLLECTION
from cityhub.demo_parking import GARAGES, parking_harvest
from cityhub.demo_places import COLLECTIONS, demo_places
from cityhub.demo_transit import FEED_NAME, GRAF_WILHELM_PLATZ, STOPS, feed_zip
from cityhub.demo_weather import COLLECTION as FORECAST_COLLECTION
from cityhub.demo_weather import CONNECTOR as FORECAST_CONNECTOR
from cityhub.demo_weather import NAME as FORECAST_THING
from cityhub.demo_weather import PARAMETERS as FORECAST_PARAMETERS
from cityhub.demo_weather import forecast_harvest
from cityhub.features.write import FeatureRecord, ensure_collection, write_features
from cityhub.gtfs.load import FeedSource, feed_row
from cityhub.screens.demo import DEMO_SLUG, ensure_demo_screen
from cityhub.sensorthings import derived, writes
from cityhub.sensorthings.model import BY_NAME
from cityhub.sensorthings.values import result_columns
from cityhub.settings import Settings
from cityhub.store import schema
from cityhub.store.database import Store


@dataclass(frozen=True)
class DemoSummary:
    """What a load added: Things (sensors and car parks), Observations, Things already there,
    and whether the demo timetable was loaded."""

    things: int
    observations: int
    skipped: int
    timetable: bool = False


#: Settings the demo implies when the hub's configuration leaves them unset: the city's name
#: (titles, the catalog), its Gemeindeschlüssel (the catalog's political geocoding) and the
#: screen whose tiles the portal shows as today's figures.
DEMO_SETTINGS: dict[str, str] = {
    "city_name": "Solingen",
    "municipality_key": "05122000",
    "portal_screen": DEMO_SLUG,
}


def with_demo_settings(settings: Settings) -> Settings:
    """``settings`` with the demo's where they are unset (``serve --demo``)."""
    unset = {name: value for name, value in DEMO_SETTINGS.items() if not getattr(settings, name)}
    return settings.model_copy(update=unset)


def load_demo(store: Store, now: datetime | None = None) -> DemoSummary:
    """Create the demo Things and the last ``DEMO_DAYS`` days of their observations."""
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % 15)
    start = end - timedelta(days=DEMO_DAYS)
    return store.write_blocking(lambda connection: _load(connection, store, start, end))


#: Where the demo's Things are published: a public dataset of a demo organization.
DEMO_ORGANIZATION = {"slug": "stadt-solingen-demo", "name": "Stadt Solingen (Demo)"}
DEMO_DATASET = {
    "slug": "solingen-sensoren",
    "title": "Sensoren in Solingen (Demo)",
    "description": "Invented measurements of weather, air, water, parking and street lamps "
    "around Solingen, to try the hub with.",
    "organization": DEMO_ORGANIZATION["slug"],
    "licence": "dl-zero-de/2.0",
    "keywords": ["Demo", "Sensoren", "Umwelt", "Verkehr"],
    "themes": ["ENVI", "TRAN", "REGI"],
    "update_frequency": "15MIN",
}


def _ensure_dataset(connection: Connection) -> None:
    if datasets.dataset_by_slug(connection, DEMO_DATASET["slug"]) is not None:
        return
    organizations = {o["slug"] for o in datasets.list_organizations(connection)}
    if DEMO_ORGANIZATION["slug"] not in organizations:
        datasets.create_organization(connection, **DEMO_ORGANIZATION)
    datasets.create_dataset(connection, **DEMO_DATASET)


def _load(connection: Connection, store: Store, start: datetime, end: datetime) -> DemoSummary:
    _ensure_dataset(connection)
    _load_places(connection)
    bodies = demo_things()
    for body in bodies:
        body["properties"]["dataset"] = DEMO_DATASET["slug"]
    present = _loaded_keys(connection, [b["name"] for b in bodies])
    new = [b for b in bodies if b["properties"]["demoKey"] not in present]
    thing_ids = [writes.create(connection, BY_NAME["Thing"], _share(connection, b)) for b in new]
    streams = _datastreams_by_key(connection, thing_ids)
    rows = []
    features: dict[int, int] = {}
    # Include the quarter hour that ends at ``end``: the newest values are "now".
    for key, time, result in demo_observations(start, end + timedelta(seconds=1)):
        stream = streams.get(key)
        if stream is None:
            continue
        datastream_id, thing_id = stream
        if thing_id not in features:
            features[thing_id] = derived.feature_from_location(connection, thing_id)
        rows.append(
            {
                "datastream_id": datastream_id,
                "phenomenon_time_start": time,
                "phenomenon_time_end": None,
                "result_time": time,
                "feature_of_interest_id": features[thing_id],
                **result_columns(result),
            }
        )
    if rows:
        store.bulk_insert(connection, schema.observations, rows)
        derived.recompute_datastream_extents(connection, {s[0] for s in streams.values()})
    parking = _load_parking(connection, start, end)
    forecast = _load_forecast(connection, end)
    timetable = _load_timetable(connection, end)
    ensure_demo_screen(connection, demo_identifiers())
    harvested = parking.things_created + forecast.things_created
    return DemoSummary(
        len(new) + harvested,
        len(rows) + parking.observations_added + forecast.observations_added,
        len(bodies) - len(new) + len(GARAGES) + 1 - harvested,
        timetable,
    )


#: Where the demo's places (districts, toilets) are published.
DEMO_PLACES_DATASET = {
    "slug": "solingen-orte",
    "title": "Orte in Solingen (Demo)",
    "description": "Invented districts and public toilets of Solingen, to try the features "
    "API with: what is near me, what lies in this district.",
    "organization": DEMO_ORGANIZATION["slug"],
    "licence": "dl-zero-de/2.0",
    "keywords": ["Demo", "Stadtbezirke", "Toiletten"],
    "themes": ["REGI", "SOCI"],
    "update_frequency": "IRREG",
}


def _load_places(connection: Connection) -> None:
    """The demo's feature collections, upserted by key (a second load changes nothing)."""
    found = datasets.dataset_by_slug(connection, DEMO_PLACES_DATASET["slug"])
    dataset_id = (
        found["id"] if found else datasets.create_dataset(connection, **DEMO_PLACES_DATASET)
    )
    for slug, places in demo_places().items():
        title, description, key_property = COLLECTIONS[slug]
        collection = ensure_collection(
            connection,
            dataset_id,
            slug,
            title=title,
            description=description,
            key_property=key_property,
        )
        records = [FeatureRecord(props, geometry, key) for key, props, geometry in places]
        write_features(connection, collection, records, provenance={"source": "cityhub demo"})


def _loaded_keys(connection: Connection, names: list[str]) -> set[str]:
    things = schema.things
    rows = connection.execute(select(things.c.properties).where(things.c.name.in_(names)))
    return {
        p.get("demoKey") for (p,) in rows if isinstance(p, dict) and p.get("demo") == DEMO_MARKER
    }


def _share(connection: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """Link Sensors and ObservedProperties that exist already instead of creating them twice."""
    body = copy.deepcopy(body)
    tables = {"Sensor": schema.sensors, "ObservedProperty": schema.observed_properties}
    for datastream in body.get("Datastreams", []):
        for relation, table in tables.items():
            name = datastream[relation]["name"]
            existing = connection.scalar(select(table.c.id).where(table.c.name == name).limit(1))
            if existing is not None:
                datastream[relation] = {"@iot.id": existing}
    return body


def _datastreams_by_key(connection: Connection, thing_ids: list[int]) -> dict[str, tuple[int, int]]:
    datastreams = schema.datastreams
    rows = connection.execute(
        select(datastreams.c.id, datastreams.c.thing_id, datastreams.c.properties).where(
            datastreams.c.thing_id.in_(thing_ids)
        )
    )
    return {
        props["demoKey"]: (ds_id, thing_id)
        for ds_id, thing_id, props in rows
        if isinstance(props, dict) and "demoKey" in props
    }


#: Where the demo's car parks are published (a ParkAPI-shaped source of their own).
DEMO_PARKING_DATASET = {
    "slug": "solingen-parken",
    "title": "Parkhäuser in Solingen (Demo)",
    "description": "Invented car parks of Solingen with their free and total spaces, "
    "shaped as the ParkAPI connector delivers them.",
    "organization": DEMO_ORGANIZATION["slug"],
    "licence": "dl-zero-de/2.0",
    "keywords": ["Demo", "Parken", "Parkhaus", "Stellplätze"],
    "themes": ["TRAN"],
    "update_frequency": "15MIN",
}
#: The connector name the demo's car parks carry (``properties.connector`` of their Things).
DEMO_PARKING_CONNECTOR = "demo-parkhaeuser"


def _load_parking(connection: Connection, start: datetime, end: datetime) -> RunSummary:
    """The car parks through the connectors' own saving path, unless loaded before."""
    target = Target(
        DEMO_PARKING_CONNECTOR,
        "parkapi",
        DEMO_PARKING_DATASET["slug"],
        PARKING_COLLECTION,
        {},
        ParkApi.collection_title,
    )
    harvest = partial(parking_harvest, start, end)
    return _save_once(connection, DEMO_PARKING_DATASET, target, harvest, end)


#: Where the demo's weather forecast is published (shaped as the Bright Sky connector's).
DEMO_WEATHER_DATASET = {
    "slug": "solingen-wetter",
    "title": "Wettervorhersage für Solingen (Demo)",
    "description": "An invented hourly forecast for the next two days, shaped as the Bright "
    "Sky connector delivers the DWD's MOSMIX forecasts.",
    "organization": DEMO_ORGANIZATION["slug"],
    "licence": "dl-zero-de/2.0",
    "keywords": ["Demo", "Wetter", "Vorhersage"],
    "themes": ["ENVI"],
    "update_frequency": "HOURLY",
}


def _load_forecast(connection: Connection, end: datetime) -> RunSummary:
    """The forecast through the connectors' own saving path, unless loaded before."""
    target = Target(
        FORECAST_CONNECTOR,
        "brightsky",
        DEMO_WEATHER_DATASET["slug"],
        FORECAST_COLLECTION,
        {},
        "Wettervorhersage",
    )
    harvest = partial(forecast_harvest, end)
    return _save_once(connection, DEMO_WEATHER_DATASET, target, harvest, end)


def _save_once(
    connection: Connection,
    dataset: dict[str, Any],
    target: Target,
    harvest: Callable[[], Harvest],
    end: datetime,
) -> RunSummary:
    """Save a connector-shaped harvest (made only when needed) into its own demo dataset, as
    fetched at ``end``, unless that dataset holds Things already."""
    found = datasets.dataset_by_slug(connection, dataset["slug"])
    if found is None:
        datasets.create_dataset(connection, **dataset)
    elif connection.scalar(select(func.count()).where(schema.things.c.dataset_id == found["id"])):
        return RunSummary()
    return save_harvests(connection, target, [harvest()], fetched_at=end)


#: Where the demo timetable is published; its stops become features of ``haltestellen``.
DEMO_TRANSIT_DATASET = {
    "slug": "solingen-fahrplan",
    "title": "Fahrplan und Haltestellen in Solingen (Demo)",
    "description": "An invented timetable of three bus and trolleybus lines in Solingen "
    "(GTFS), with its stops, for trying departure boards.",
    "organization": DEMO_ORGANIZATION["slug"],
    "licence": "dl-zero-de/2.0",
    "keywords": ["Demo", "ÖPNV", "Haltestellen", "Fahrplan", "GTFS"],
    "themes": ["TRAN"],
    "update_frequency": "IRREG",
}
DEMO_STOPS_COLLECTION = "haltestellen"


def _load_timetable(connection: Connection, now: datetime) -> bool:
    """The demo GTFS feed through the GTFS connector's loading path; False if already held."""
    content = feed_zip()
    digest = hashlib.sha256(content).hexdigest()
    feed = feed_row(connection, FEED_NAME)
    if feed is not None and feed["digest"] == digest:
        return False
    found = datasets.dataset_by_slug(connection, DEMO_TRANSIT_DATASET["slug"])
    dataset_id = (
        found["id"] if found else datasets.create_dataset(connection, **DEMO_TRANSIT_DATASET)
    )
    source = FeedSource(FEED_NAME, dataset_id, "cityhub demo timetable", digest)
    save_timetable(connection, source, content, DEMO_STOPS_COLLECTION, now, Gtfs.collection_title)
    return True


# --------------------------------------------------------------------------------------------
# What a portal or a screen configures itself with
# --------------------------------------------------------------------------------------------

#: Datastreams a screen shows, by role: the ``properties.demoKey`` of each (stable across
#: databases, unlike ``@iot.id``; find one with ``$filter=properties/demoKey eq '…'``).
DEMO_STREAM_KEYS = {
    "uv-index": "lamp-clemens-galerien:uv-index",
    "air-temperature": "weather-rathaus:air-temperature",
    "water-level": "gauge-wupper-glueder:water-level",
    "pm10": "air-schlagbaum:pm10",
    "pm2p5": "air-schlagbaum:pm2p5",
}


@dataclass(frozen=True)
class DemoStream:
    """A demo Datastream: its demo key, its name and its Thing's name."""

    key: str
    name: str
    thing: str


@dataclass(frozen=True)
class DemoIdentifiers:
    """The names and keys by which a demo screen or the portal finds its data."""

    feed: str  # the GTFS feed's name
    stop: str  # stop_id of "Solingen Graf-Wilhelm-Platz", for /departures?stop=
    stops: dict[str, str]  # stop_id -> stop name, every stop of the demo feed
    stops_collection: str  # the stops as features
    parking_collection: str  # the car parks as live features
    parking_keys: tuple[str, ...]  # feature keys (property ``id``) of the car parks
    parking_free: str  # live property with the free spaces (ParkAPI's name)
    parking_total: str  # live property with the total spaces
    streams: dict[str, DemoStream]  # by role: uv-index, air-temperature, water-level, …
    forecast_thing: str  # name of the Thing with the hourly forecast (Bright Sky's shape)
    forecast_keys: tuple[str, ...]  # its Datastreams' ``properties.sourceKey``


def demo_identifiers() -> DemoIdentifiers:
    """Everything a demo screen needs to be configured, without asking the store."""
    named = {
        stream["properties"]["demoKey"]: DemoStream(
            stream["properties"]["demoKey"], stream["name"], body["name"]
        )
        for body in demo_things()
        for stream in body["Datastreams"]
    }
    return DemoIdentifiers(
        feed=FEED_NAME,
        stop=GRAF_WILHELM_PLATZ,
        stops={stop_id: name for stop_id, (name, _lon, _lat) in STOPS.items()},
        stops_collection=DEMO_STOPS_COLLECTION,
        parking_collection=PARKING_COLLECTION,
        parking_keys=tuple(garage.key for garage in GARAGES),
        parking_free=parkapi.FREE["name"],
        parking_total=parkapi.TOTAL["name"],
        streams={role: named[key] for role, key in DEMO_STREAM_KEYS.items()},
        forecast_thing=FORECAST_THING,
        forecast_keys=tuple(f"{parameter}:forecast" for parameter in FORECAST_PARAMETERS),
    )
