"""What a write changed, recorded on its connection and handed on after the commit.

Write code calls ``record`` for every entity it creates or updates. The writer keeps only what
belongs to committed requests (a rolled-back savepoint or a redone batch drops its part) and
gives the list to the store's commit listeners, e.g. the MQTT notifier and the screens' feed
(while screens are connected). Without a listener the
connection carries no list and ``record`` does nothing, so writes pay nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

CHANGES_KEY = "cityhub.changes"
CREATED: Literal["created"] = "created"
UPDATED: Literal["updated"] = "updated"


@dataclass(frozen=True, slots=True)
class Change:
    """One entity created or updated; ``properties`` names what an update changed."""

    entity: str
    id: int
    kind: Literal["created", "updated"]
    properties: tuple[str, ...] = ()


def record(connection: Connection, change: Change) -> None:
    """Note ``change`` if anyone listens for changes on this connection."""
    changes = connection.info.get(CHANGES_KEY)
    if changes is not None:
        changes.append(change)


def record_created(connection: Connection, entity: str, ids: list[int]) -> None:
    changes = connection.info.get(CHANGES_KEY)
    if changes is not None:
        changes.extend(Change(entity, entity_id, CREATED) for entity_id in ids)
