"""Configuration entries kept in the database, one JSON document per name.

Connectors and LoRaWAN integrations created through the admin API live in tables of this
shape (``name``, ``document``, ``created_at``, ``modified_at``); the kinds check the
documents, this module only stores them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cityhub.errors import BadRequest, Conflict, NotFound


def documents(connection: Connection, table: Table) -> dict[str, dict[str, Any]]:
    """Every stored entry by name, in name order."""
    rows = connection.execute(select(table.c.name, table.c.document).order_by(table.c.name))
    return {row.name: dict(row.document) for row in rows}


def add(connection: Connection, table: Table, name: str, document: dict[str, Any]) -> bool:
    """Store a new entry; false if ``name`` exists (also when another process just made it)."""
    now = datetime.now(UTC)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(
        name=name, document=document, created_at=now, modified_at=now
    )
    added = statement.on_conflict_do_nothing().returning(table.c.name)
    return connection.execute(added).scalar() is not None


def replace(connection: Connection, table: Table, name: str, document: dict[str, Any]) -> bool:
    """Store ``document`` under ``name``; false if there is no such entry."""
    statement = (
        update(table)
        .where(table.c.name == name)
        .values(document=document, modified_at=datetime.now(UTC))
    )
    return connection.execute(statement).rowcount == 1


def remove(connection: Connection, table: Table, name: str) -> bool:
    """Delete the entry ``name``; false if there was none."""
    return connection.execute(delete(table).where(table.c.name == name)).rowcount == 1


def refuse_file_entry(name: str, what: str) -> None:
    """409: an entry of ``cityhub.toml`` is changed by editing the file, never through the API."""
    raise Conflict(
        f"{what} '{name}' is configured in cityhub.toml and is read-only here; "
        "edit the file (and restart) to change or remove it"
    )


def create_entry(
    connection: Connection, table: Table, name: str, document: dict[str, Any], what: str
) -> None:
    """Add ``name``; 409 if it exists already."""
    if not add(connection, table, name, document):
        raise Conflict(f"{what} '{name}' exists already; change it with PUT")


def replace_entry(
    connection: Connection, table: Table, name: str, document: dict[str, Any], what: str
) -> None:
    """Replace ``name``; 404 if there is none."""
    if not replace(connection, table, name, document):
        raise NotFound(f"no {what} '{name}' was created through the API; create it with POST")


def remove_entry(connection: Connection, table: Table, name: str, what: str) -> None:
    """Delete ``name``; 404 if there is none."""
    if not remove(connection, table, name):
        raise NotFound(f"no {what} '{name}' was created through the API")


def url_password(url: str) -> bool:
    """Whether ``url`` carries a password (which must not be stored)."""
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def check_url_has_no_password(field: str, url: str | None) -> None:
    """Secrets are not stored in the database: a URL with a password is refused."""
    if url and url_password(url):
        raise BadRequest(
            f"{field}: the URL holds a password, which would be stored in the database; "
            "give it through an environment variable instead"
        )
