"""An import: a reader's rows written into a collection in one transaction.

Rows that cannot be imported are collected with their line numbers; without ``strict`` the
others are written, with ``strict`` one bad row fails the import and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy import Connection, select

from cityhub.datasets import dataset_id_of
from cityhub.datasets.fields import check_slug
from cityhub.errors import BadRequest
from cityhub.features.imports.crs import axis_warning
from cityhub.features.imports.rows import Reader, Rejected, SourceRow
from cityhub.features.write import (
    FeatureRecord,
    GeometryError,
    WriteSummary,
    check_geometry,
    ensure_collection,
    write_features,
)
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
    summary = write_features(
        connection, collection_id, result, provenance=_provenance(target, description)
    )
    outcome = ImportResult(target.collection, description, key, summary, result.rejected)
    warning = axis_warning(result.bounds())
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


def _checked(geometry: dict[str, Any]) -> dict[str, Any]:
    """``check_geometry``, with the common case of a 2D point in range decided without it."""
    if geometry["type"] == "Point":
        position = geometry["coordinates"]
        if (
            len(position) == 2
            and all(type(v) is float for v in position)
            and -180 <= position[0] <= 180
            and -90 <= position[1] <= 90
        ):
            return geometry
    return check_geometry(geometry)


class _Records:
    """The reader's rows as FeatureRecords; what cannot be one is kept in ``rejected``."""

    def __init__(
        self, reader: Reader, key: str | None, progress: Callable[[int], None] | None
    ) -> None:
        self._reader = reader
        self._key = key
        self._progress = progress
        self._keys: dict[str, int] = {}
        self._box: list[float] | None = None
        self.rejected: list[Rejected] = []

    def __iter__(self) -> Iterator[FeatureRecord]:
        for count, item in enumerate(self._reader, start=1):
            if self._progress is not None and count % 1000 == 0:
                self._progress(1000)
            record = self._record(item) if isinstance(item, SourceRow) else item
            if isinstance(record, Rejected):
                self.rejected.append(record)
            else:
                yield record

    def _record(self, row: SourceRow) -> FeatureRecord | Rejected:
        unit = self._reader.unit
        try:
            geometry = None if row.geometry is None else _checked(row.geometry)
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
        if geometry is not None:
            self._extend(geometry)
        return FeatureRecord(properties=row.properties, geometry=geometry, key=key)

    def _key_of(self, row: SourceRow) -> str | None:
        value = row.properties.get(self._key) if self._key else None
        if value is None and self._key == "id":
            value = row.source_id
        if value is None or value == "":
            return None
        return str(value)

    def _extend(self, geometry: dict[str, Any]) -> None:
        if geometry["type"] == "Point":
            west, south = east, north = geometry["coordinates"][:2]
        else:
            west, south, east, north = shape(geometry).bounds
        if self._box is None:
            self._box = [west, south, east, north]
            return
        box = self._box
        box[0], box[1] = min(box[0], west), min(box[1], south)
        box[2], box[3] = max(box[2], east), max(box[3], north)

    def bounds(self) -> tuple[float, float, float, float] | None:
        return (
            None if self._box is None else (self._box[0], self._box[1], self._box[2], self._box[3])
        )
