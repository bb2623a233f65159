"""Dead letters: messages that could not be stored, kept as they arrived with the reason.

Nothing a network server sends is dropped silently: a malformed message, an unknown device
(without auto-provisioning), a decoder error, a value outside its Datastream's range all end
here, to be retried once the decoder or the registry is fixed, or dropped.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from cityhub.errors import NotFound
from cityhub.store import schema

_letters = schema.lorawan_dead_letters
_SUMMARY = [c for c in _letters.c if c.name != "payload"]


def add(
    connection: Connection,
    rows: list[dict[str, Any]],
) -> list[int]:
    """Keep ``rows`` (integration, network, topic, event, payload, dev_eui, reason,
    received_at); their ids."""
    if not rows:
        return []
    now = datetime.now(UTC)
    ids = []
    for row in rows:
        values = {**row, "attempts": 1, "last_attempt_at": now}
        ids.append(int(connection.execute(insert(_letters).values(values)).inserted_primary_key[0]))
    return ids


def list_letters(
    connection: Connection, integration: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest dead letters first, without their payloads."""
    statement = select(*_SUMMARY).order_by(_letters.c.id.desc()).limit(limit)
    if integration:
        statement = statement.where(_letters.c.integration == integration)
    return [_json(row) for row in connection.execute(statement).mappings()]


def find_letter(connection: Connection, letter_id: int) -> dict[str, Any]:
    """One dead letter with its payload (as text if it is UTF-8, else base64)."""
    row = connection.execute(select(_letters).where(_letters.c.id == letter_id)).mappings().first()
    if row is None:
        raise NotFound(f"no dead letter {letter_id}")
    shown = _json(row)
    payload: bytes = row["payload"]
    try:
        shown["payload"] = payload.decode("utf-8")
        shown["payload_encoding"] = "utf-8"
    except UnicodeDecodeError:
        shown["payload"] = base64.b64encode(payload).decode()
        shown["payload_encoding"] = "base64"
    return shown


def raw_letter(connection: Connection, letter_id: int) -> Any:
    row = connection.execute(select(_letters).where(_letters.c.id == letter_id)).first()
    if row is None:
        raise NotFound(f"no dead letter {letter_id}")
    return row


def letter_ids(connection: Connection, integration: str | None = None) -> list[int]:
    statement = select(_letters.c.id).order_by(_letters.c.id)
    if integration:
        statement = statement.where(_letters.c.integration == integration)
    return list(connection.scalars(statement))


def failed_again(connection: Connection, letter_id: int, reason: str) -> None:
    """A retry failed: count it and keep the newest reason."""
    connection.execute(
        update(_letters)
        .where(_letters.c.id == letter_id)
        .values(reason=reason, attempts=_letters.c.attempts + 1, last_attempt_at=datetime.now(UTC))
    )


def drop(connection: Connection, letter_id: int) -> None:
    if connection.execute(delete(_letters).where(_letters.c.id == letter_id)).rowcount == 0:
        raise NotFound(f"no dead letter {letter_id}")


def _json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "integration": row["integration"],
        "network": row["network"],
        "topic": row["topic"],
        "event": row["event"],
        "dev_eui": row["dev_eui"],
        "reason": row["reason"],
        "received_at": _time(row["received_at"]),
        "attempts": row["attempts"],
        "last_attempt_at": _time(row["last_attempt_at"]),
    }


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
