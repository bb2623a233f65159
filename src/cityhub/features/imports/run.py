"""An import: a reader's rows written into a collection in one transaction.

Rows that cannot be imported are collected with their line numbers; without ``strict`` the
others are written, with ``strict`` one bad row fails the import and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy import Connection, select

from cityhub.cycles import no_cycle_collection
from cityhub.datasets import dataset_id_of
from cityhub.datasets.fields import check_slug
from cityhub.errors import BadRequest
from cityhub.features.imports.crs import axis_warning, swapped_points
from cityhub.features.imports.rows import Reader, Rejected, SourceRow
from cityhub.features.write import (
    FeatureRecord,
    GeometryError,
    WriteSummary,
    check_geometry,
    ensure_collection,
    write_features,
)
from cityhub.geometry import enclosing_box
from cityhub.store import schema

# Rows listed in a result; the count of rejected rows is always complete.
MAX_LISTED = 1000
# Rejected rows named in the message of a failed strict import.
LISTED_IN_MESSAGE = 20


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """Where an import goes and how features are identified there."""

    dataset: str
    collection: str
    title: str | None = None
    key: str | None = None  # None: the collection's key property, if it has one
    strict: bool = False
    source: str | None = None  # the file name or URL, kept as the features' provenance


@dataclass
class ImportResult:
    """What an import read and wrote; ``rejected`` lists the rows left out and why."""

    collection: str
    read_as: str
    key: str | None
    summary: WriteSummary = field(default_factory=WriteSummary)
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "read_as": self.read_as,
            "key": self.key,
            "created": self.summary.created,
            "updated": self.summary.updated,
            "unchanged": self.summary.unchanged,
            "rejected": len(self.rejected),
            "rejected_rows": [r.as_json() for r in self.rejected[:MAX_LISTED]],
            "warnings": self.warnings,
        }


class StrictImportFailed(ValueError):
    """``strict`` and at least one row could not be imported; nothing was written."""

    def __init__(self, result: ImportResult) -> None:
        count = len(result.rejected)
        first = "; ".join(r.describe() for r in result.rejected[:LISTED_IN_MESSAGE])
        more = f" (and {count - LISTED_IN_MESSAGE} more)" if count > LISTED_IN_MESSAGE else ""
        super().__init__(
            f"{count} row{'s' if count != 1 else ''} cannot be imported, so nothing was "
            f"imported: {first}{more}"
        )
        self.result = result


def import_features(
    connection: Connection,
    reader: Reader,
    target: ImportTarget,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write the reader's rows into the target collection, in the caller's transaction."""
    dataset_id = dataset_id_of(connection, target.dataset)
    try:
        check_slug(target.collection)
        collection_id = ensure_collection(
            connection, dataset_id, target.collection, title=target.title, key_property=target.key
        )
    except ValueError as exc:
        raise BadRequest(f"collection: {exc}") from None
    key = target.key or _key_property(connection, collection_id)
    description = reader.description
    result = _Records(reader, key, progress)
    with no_cycle_collection():  # every row is kept until the write
        records = result.collect()
        summary = write_features(
            connection, collection_id, records, provenance=_provenance(target, description)
        )
    outcome = ImportResult(target.collection, description, key, summary, result.rejected)
    warning = axis_warning(_bounds(records))
    if warning:
        outcome.warnings.append(warning)
    if target.strict and outcome.rejected:
        raise StrictImportFailed(outcome)
    return outcome


def _key_property(connection: Connection, collection_id: int) -> str | None:
    collections = schema.collections
    return connection.scalar(
        select(collections.c.key_property).where(collections.c.id == collection_id)
    )


def _provenance(target: ImportTarget, description: str) -> dict[str, Any]:
    return {
        "import": target.source or "upload",
        "read_as": description,
        "imported_at": datetime.now(UTC).isoformat(),
    }


class _Records:
    """The reader's rows as FeatureRecords; what cannot be one is kept in ``rejected``."""

    def __init__(
        self, reader: Reader, key: str | None, progress: Callable[[int], None] | None
    ) -> None:
        self._reader = reader
        self._key = key
        self._progress = progress
        self._keys: dict[str, int] = {}
        self.rejected: list[Rejected] = []

    def collect(self) -> list[FeatureRecord]:
        """Every record that can be imported; points with swapped axes among the rejected."""
        lines: list[int] = []
        records: list[FeatureRecord] = []
        for count, item in enumerate(self._reader, start=1):
            if self._progress is not None and count % 1000 == 0:
                self._progress(1000)
            record = self._record(item) if isinstance(item, SourceRow) else item
            if isinstance(record, Rejected):
                self.rejected.append(record)
            else:
                records.append(record)
                lines.append(item.line)
        return self._without_swapped(records, lines)

    def _without_swapped(
        self, records: list[FeatureRecord], lines: list[int]
    ) -> list[FeatureRecord]:
        points = [(i, r.geometry) for i, r in enumerate(records) if _is_point(r.geometry)]
        swapped = {points[i][0] for i in swapped_points([p["coordinates"] for _, p in points])}
        if not swapped:
            return records
        for index in sorted(swapped):
            lon, lat = records[index].geometry["coordinates"]  # type: ignore[index]
            reason = (
                f"({lon:g}, {lat:g}) lies far from the other points; with longitude and "
                "latitude swapped it would lie among them"
            )
            self.rejected.append(Rejected(lines[index], reason, self._reader.unit))
        self.rejected.sort(key=lambda r: r.line)
        return [r for i, r in enumerate(records) if i not in swapped]

    def _record(self, row: SourceRow) -> FeatureRecord | Rejected:
        unit = self._reader.unit
        try:
            geometry = None if row.geometry is None else check_geometry(row.geometry)
        except GeometryError as exc:
            return Rejected(row.line, f"the geometry {exc}", unit)
        key = None
        if self._key is not None:
            key = self._key_of(row)
            if key is None:
                return Rejected(row.line, f"no value in the key field '{self._key}'", unit)
            if key in self._keys:
                first = self._keys[key]
                return Rejected(row.line, f"key '{key}' already used on {unit} {first}", unit)
            self._keys[key] = row.line
        return FeatureRecord(properties=row.properties, geometry=geometry, key=key)

    def _key_of(self, row: SourceRow) -> str | None:
        value = row.properties.get(self._key) if self._key else None
        if value is None and self._key == "id":
            value = row.source_id
        if value is None or value == "":
            return None
        return str(value)


def _is_point(geometry: dict[str, Any] | None) -> bool:
    return geometry is not None and geometry["type"] == "Point"


def _bounds(records: list[FeatureRecord]) -> tuple[float, float, float, float] | None:
    """The bounding box of the records' geometries, None without any."""
    return enclosing_box(_box(r.geometry) for r in records if r.geometry is not None)


def _box(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    if geometry["type"] == "Point":
        lon, lat = geometry["coordinates"][:2]
        return lon, lat, lon, lat
    west, south, east, north = shape(geometry).bounds
    return west, south, east, north
