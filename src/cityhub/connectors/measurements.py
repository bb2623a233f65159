"""Writing the measurements of a harvest: one Thing per place, one Datastream per series,
Observations deduplicated by (Datastream, phenomenonTime).

Things and Datastreams are found again by what they carry in their properties (the
connector's name and the place's or series' key), so a second run creates nothing. Runs
inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from cityhub.connectors.base import Place, Reading, RunSummary, Series
from cityhub.sensorthings import writes
from cityhub.sensorthings.ingest import ObservationColumns, load_observations
from cityhub.sensorthings.model import BY_NAME
from cityhub.sensorthings.values import result_columns
from cityhub.store import schema

GEOJSON = "application/geo+json"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who writes (the connector's name and type) and from where."""

    connector: str
    type: str
    source: str


class MeasurementWriter:
    """Things, Datastreams and Observations of one connector in one dataset."""

    def __init__(self, connection: Connection, dataset_id: int, origin: Origin) -> None:
        self.connection = connection
        self.dataset_id = dataset_id
        self.origin = origin
        self.things = _things_of(connection, dataset_id, origin.connector)
        self._sensor_id: int | None = None

    def write(self, place: Place, summary: RunSummary) -> int:
        """The id of the place's Thing (created or brought up to date), its readings added."""
        thing_id = self.things.get(place.key)
        if thing_id is None:
            thing_id = self._create_thing(place)
            self.things[place.key] = thing_id
            summary.things_created += 1
        else:
            self._update_properties(schema.things, thing_id, self._thing_properties(place))
        streams = _datastreams_of(self.connection, thing_id)
        for series in place.series:
            datastream_id = streams.get(series.key)
            if datastream_id is None:
                datastream_id = self._create_datastream(thing_id, place, series)
                summary.datastreams_created += 1
            else:
                properties = {"sourceKey": series.key, **series.properties}
                self._update_properties(schema.datastreams, datastream_id, properties)
            added, known = self._add_readings(datastream_id, series.readings)
            summary.observations_added += added
            summary.observations_known += known
            if series.revisable:
                summary.observations_revised += self._revise(datastream_id, series.readings)
        return thing_id

    def _thing_properties(self, place: Place) -> dict[str, Any]:
        origin = {"connector": self.origin.connector, "sourceKey": place.key}
        return {**place.properties, **origin, "source": self.origin.source}

    def _create_thing(self, place: Place) -> int:
        body: dict[str, Any] = {
            "name": place.name,
            "description": place.description or place.name,
            "properties": self._thing_properties(place),
        }
        if place.geometry is not None:
            location = {
                "name": place.name,
                "description": place.description or place.name,
                "encodingType": GEOJSON,
                "location": place.geometry,
            }
            body["Locations"] = [location]
        thing_id = writes.create(self.connection, BY_NAME["Thing"], body)
        table = schema.things
        self.connection.execute(
            update(table).where(table.c.id == thing_id).values(dataset_id=self.dataset_id)
        )
        return thing_id

    def _create_datastream(self, thing_id: int, place: Place, series: Series) -> int:
        body = {
            "name": f"{place.name}: {series.name}",
            "description": series.description or f"{series.name} at {place.name}",
            "unitOfMeasurement": series.unit,
            "observationType": series.observation_type,
            "properties": {"sourceKey": series.key, **series.properties},
            "Thing": {"@iot.id": thing_id},
            "Sensor": {"@iot.id": self._sensor()},
            "ObservedProperty": {"@iot.id": self._observed_property(series.observed_property)},
        }
        return writes.create(self.connection, BY_NAME["Datastream"], body)

    def _sensor(self) -> int:
        """One Sensor per connector: the source as the procedure behind every value."""
        if self._sensor_id is None:
            name = f"{self.origin.type} connector {self.origin.connector}"
            table = schema.sensors
            found = self.connection.scalar(select(table.c.id).where(table.c.name == name).limit(1))
            self._sensor_id = found or writes.create(
                self.connection,
                BY_NAME["Sensor"],
                {
                    "name": name,
                    "description": f"Values harvested from {self.origin.source}",
                    "encodingType": "text/html",
                    "metadata": self.origin.source,
                },
            )
        return self._sensor_id

    def _observed_property(self, described: dict[str, str]) -> int:
        table = schema.observed_properties
        found = self.connection.scalar(
            select(table.c.id)
            .where(table.c.definition == described["definition"])
            .where(table.c.name == described["name"])
            .limit(1)
        )
        if found is not None:
            return int(found)
        body = {"description": described["name"], **described}
        return writes.create(self.connection, BY_NAME["ObservedProperty"], body)

    def _update_properties(self, table: Any, row_id: int, wanted: dict[str, Any]) -> None:
        current = self.connection.scalar(select(table.c.properties).where(table.c.id == row_id))
        if current != wanted:
            self.connection.execute(
                update(table).where(table.c.id == row_id).values(properties=wanted)
            )

    def _add_readings(self, datastream_id: int, readings: list[Reading]) -> tuple[int, int]:
        """Add the readings whose time the Datastream does not hold yet: (added, known)."""
        unique = list({_utc(r.time): r for r in readings}.values())
        if not unique:
            return 0, 0
        held = _times_held(self.connection, datastream_id, [_utc(r.time) for r in unique])
        new = [r for r in unique if _utc(r.time) not in held]
        if new:
            load_observations(self.connection, [_columns(datastream_id, new)])
        return len(new), len(readings) - len(new)

    def _revise(self, datastream_id: int, readings: list[Reading]) -> int:
        """Replace held results the source now gives differently; how many changed."""
        wanted = {_utc(r.time): r for r in readings}
        table = schema.observations
        rows = self.connection.execute(
            select(table.c.id, table.c.phenomenon_time_start, table.c.result_number)
            .where(table.c.datastream_id == datastream_id)
            .where(table.c.phenomenon_time_start.in_(list(wanted)))
        )
        revised = 0
        for observation_id, time, number in rows:
            reading = wanted.get(_utc(time))
            if reading is None or not isinstance(reading.value, int | float):
                continue
            if number is not None and float(number) == float(reading.value):
                continue
            values = {**result_columns(reading.value), "result_quality": reading.quality}
            self.connection.execute(
                update(table).where(table.c.id == observation_id).values(values)
            )
            revised += 1
        return revised


def _utc(time: datetime) -> datetime:
    if time.tzinfo is None:
        raise ValueError(f"reading time {time.isoformat()} has no time zone")
    return time.astimezone(UTC)


def _columns(datastream_id: int, readings: list[Reading]) -> ObservationColumns:
    results = [result_columns(r.value) for r in readings]
    times = [_utc(r.time) for r in readings]
    columns: dict[str, list[Any]] = {
        "phenomenon_time_start": times,
        "result_time": times,
        "result_quality": [r.quality for r in readings],
        "parameters": [r.parameters for r in readings],
    }
    for name in ("result_type", "result_number", "result_string", "result_json"):
        columns[name] = [result[name] for result in results]
    return ObservationColumns(datastream_id, len(readings), columns)


def _times_held(connection: Connection, datastream_id: int, times: list[datetime]) -> set[datetime]:
    table = schema.observations
    rows = connection.scalars(
        select(table.c.phenomenon_time_start)
        .where(table.c.datastream_id == datastream_id)
        .where(table.c.phenomenon_time_start.in_(times))
    )
    return {_utc(time) for time in rows}


def _things_of(connection: Connection, dataset_id: int, connector: str) -> dict[str, int]:
    """The Things this connector made in the dataset, by their place's key."""
    table = schema.things
    rows = connection.execute(
        select(table.c.id, table.c.properties).where(table.c.dataset_id == dataset_id)
    )
    return {
        str(properties["sourceKey"]): thing_id
        for thing_id, properties in rows
        if isinstance(properties, dict) and properties.get("connector") == connector
    }


def _datastreams_of(connection: Connection, thing_id: int) -> dict[str, int]:
    table = schema.datastreams
    rows = connection.execute(
        select(table.c.id, table.c.properties).where(table.c.thing_id == thing_id)
    )
    return {
        str(properties["sourceKey"]): datastream_id
        for datastream_id, properties in rows
        if isinstance(properties, dict) and "sourceKey" in properties
    }
