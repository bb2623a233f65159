"""Screens in the store: layout, group, orientation, and what each last reported of itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cityhub.errors import BadRequest
from cityhub.screens.options import is_plain
from cityhub.screens.tiles import check_tiles
from cityhub.store import schema
from cityhub.timeutil import format_instant

ORIENTATIONS = ("landscape", "portrait")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
#: The longest title and group name.
MAX_NAME = 200
_screens = schema.screens


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise BadRequest(
            f"a screen's slug is 1–64 lower-case letters, digits and inner hyphens, not '{slug}'"
        )
    return slug


def check_group(group: Any) -> str | None:
    """A group's name, stripped (screens and crisis messages match on it), or None."""
    if group is None:
        return None
    if not isinstance(group, str) or not group.strip() or not is_plain(group, MAX_NAME):
        raise BadRequest(
            "group must be a text (a name shared by screens, e.g. 'innenstadt') of at most "
            f"{MAX_NAME} characters, or null"
        )
    return group.strip()


def check_body(body: Any) -> dict[str, Any]:
    """A ``PUT`` body checked: ``{title, group, orientation, tiles}`` (tiles by ``tiles``)."""
    if not isinstance(body, dict):
        raise BadRequest('send {"title", "group", "orientation", "tiles": [...]}')
    unknown = sorted(set(body) - {"title", "group", "orientation", "tiles", "slug"})
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)} of a screen")
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("title is required: the screen's heading, e.g. 'Rathaus, Foyer'")
    if not is_plain(title, MAX_NAME):
        raise BadRequest(f"title must be at most {MAX_NAME} characters, no control characters")
    group = check_group(body.get("group"))
    orientation = body.get("orientation", "landscape")
    if orientation not in ORIENTATIONS:
        raise BadRequest(f"orientation must be 'landscape' or 'portrait', not {orientation!r}")
    tiles = check_tiles(body.get("tiles", []))
    return {
        "title": title.strip(),
        "group": group,
        "orientation": orientation,
        "tiles": tiles,
    }


def save(connection: Connection, slug: str, screen: dict[str, Any]) -> bool:
    """Create or replace the screen; true if it was created."""
    now = datetime.now(UTC)
    values = {
        "title": screen["title"],
        "screen_group": screen["group"],
        "orientation": screen["orientation"],
        "layout": {"tiles": screen["tiles"]},
        "modified_at": now,
    }
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_screens)
        .values(slug=slug, created_at=now, **values)
        .on_conflict_do_nothing()
        .returning(_screens.c.slug)
    )
    if connection.execute(statement).scalar() is not None:
        return True
    connection.execute(update(_screens).where(_screens.c.slug == slug).values(**values))
    return False


def remove(connection: Connection, slug: str) -> bool:
    return connection.execute(delete(_screens).where(_screens.c.slug == slug)).rowcount == 1


def heartbeat(connection: Connection, slug: str, version: str | None) -> bool:
    """Note that the screen is alive, running ``version``; false for an unknown screen."""
    statement = (
        update(_screens)
        .where(_screens.c.slug == slug)
        .values(last_seen=datetime.now(UTC), version=version)
    )
    return connection.execute(statement).rowcount == 1


def _row(row: Any, silent_after: float, now: datetime) -> dict[str, Any]:
    last_seen = row.last_seen
    silent = last_seen is None or now - last_seen > timedelta(seconds=silent_after)
    return {
        "slug": row.slug,
        "title": row.title,
        "group": row.screen_group,
        "orientation": row.orientation,
        "tiles": list(row.layout.get("tiles", [])),
        "last_seen": None if last_seen is None else format_instant(last_seen),
        "version": row.version,
        "silent": silent,
        "modified": format_instant(row.modified_at),
    }


def list_screens(connection: Connection, silent_after: float) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = connection.execute(select(_screens).order_by(_screens.c.slug))
    return [_row(row, silent_after, now) for row in rows]


def one(connection: Connection, slug: str, silent_after: float) -> dict[str, Any] | None:
    row = connection.execute(select(_screens).where(_screens.c.slug == slug)).first()
    return None if row is None else _row(row, silent_after, datetime.now(UTC))


def marks(connection: Connection, slugs: list[str]) -> dict[str, datetime]:
    """When each screen's layout last changed (a deleted screen is absent)."""
    statement = select(_screens.c.slug, _screens.c.modified_at).where(_screens.c.slug.in_(slugs))
    return {key: value for key, value in connection.execute(statement)}
