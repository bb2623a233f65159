"""Writing a harvest in one transaction: the dataset and collection made if missing, each
place's Thing and readings (``measurements``), then the places as features linked to their
Things, with provenance; places the source no longer lists are marked gone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cityhub import datasets
from cityhub.connectors.base import ConnectorError, Harvest, RunSummary
from cityhub.connectors.measurements import MeasurementWriter, Origin
from cityhub.errors import ApiError
from cityhub.features.write import FeatureRecord, ensure_collection, write_features

#: The feature property holding the source's own id of a place.
KEY_PROPERTY = "id"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a connector writes, and what to create when it is not there yet."""

    connector: str
    type: str
    dataset: str
    collection: str
    dataset_defaults: dict[str, Any]
    collection_title: str | None = None


def save_harvests(
    connection: Connection, target: Target, harvests: list[Harvest], fetched_at: datetime
) -> RunSummary:
    summary = RunSummary(flagged=sum(h.flagged for h in harvests))
    dataset_id = _ensure_dataset(connection, target)
    collection_id = ensure_collection(
        connection,
        dataset_id,
        target.collection,
        key_property=KEY_PROPERTY,
        new_title=target.collection_title,
    )
    records = []
    sources = sorted({h.source for h in harvests})
    for harvest in harvests:
        origin = Origin(target.connector, target.type, harvest.source)
        writer = MeasurementWriter(connection, dataset_id, origin)
        for place in harvest.places:
            # A place without series now keeps the Thing earlier runs made for it.
            thing_id = writer.things.get(place.key)
            if place.series:
                thing_id = writer.write(place, summary)
            properties = {KEY_PROPERTY: place.key, "name": place.name, **place.properties}
            records.append(FeatureRecord(properties, place.geometry, place.key, thing_id=thing_id))
    provenance = {
        "connector": target.connector,
        "source": sources[0] if len(sources) == 1 else sources,
        "fetched_at": fetched_at.isoformat(),
    }
    written = write_features(
        connection, collection_id, records, provenance=provenance, mark_missing_gone=True
    )
    summary.places_created = written.created
    summary.places_updated = written.updated
    summary.places_unchanged = written.unchanged
    summary.places_gone = written.gone
    return summary


def _ensure_dataset(connection: Connection, target: Target) -> int:
    found = datasets.dataset_by_slug(connection, target.dataset)
    if found is not None:
        return int(found["id"])
    fields = {"title": target.dataset, **target.dataset_defaults, "slug": target.dataset}
    try:
        return datasets.create_dataset(connection, **fields)
    except ApiError as exc:
        raise ConnectorError(
            f"the dataset '{target.dataset}' does not exist and cannot be made from the "
            f"connector's defaults ({exc.message}); create it first: cityhub dataset create "
            f"{target.dataset} --title TITLE --licence LICENCE"
        ) from None
