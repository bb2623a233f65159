"""Loading the Solingen demo dataset through the same write path as any client.

Loading twice adds nothing: Things already present (by their demo key) are skipped.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from cityhub import datasets
from cityhub.demo_data import DEMO_DAYS, DEMO_MARKER, demo_observations, demo_things
from cityhub.demo_places import COLLECTIONS, demo_places
from cityhub.features.write import FeatureRecord, ensure_collection, write_features
from cityhub.screens.demo import ensure_demo_screen
from cityhub.sensorthings import derived, writes
from cityhub.sensorthings.model import BY_NAME
from cityhub.sensorthings.values import result_columns
from cityhub.store import schema
from cityhub.store.database import Store


@dataclass(frozen=True)
class DemoSummary:
    things: int
    observations: int
    skipped: int


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
    ensure_demo_screen(connection)
    return DemoSummary(len(new), len(rows), len(bodies) - len(new))


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
