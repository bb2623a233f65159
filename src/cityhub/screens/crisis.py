"""Crisis messages: pushed by an admin (or any client with an admin token), shown on the
screens of a group (all when the group is null) until withdrawn or expired."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update

from cityhub.errors import BadRequest
from cityhub.screens.layouts import check_group
from cityhub.screens.options import is_plain
from cityhub.store import schema
from cityhub.timeutil import format_instant, parse_instant

SEVERITIES = ("info", "warning", "critical")
MAX_TEXT = 500
_messages = schema.crisis_messages


def check_body(body: Any, now: datetime) -> dict[str, Any]:
    """A ``POST /crisis`` body: ``{text, severity, group?, expires?}``."""
    if not isinstance(body, dict):
        raise BadRequest('send {"text", "severity": "info" | "warning" | "critical", …}')
    unknown = sorted(set(body) - {"text", "severity", "group", "expires"})
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)} of a crisis message")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("text is required: what the screens show")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"text is longer than {MAX_TEXT} characters; a screen is read in passing")
    if not is_plain(text, MAX_TEXT):
        raise BadRequest("text must not contain control characters (newlines are fine)")
    severity = body.get("severity")
    if severity not in SEVERITIES:
        raise BadRequest(f"severity must be info, warning or critical, not {severity!r}")
    group = _group(body.get("group"))
    expires = body.get("expires")
    if expires is not None:
        if not isinstance(expires, str):
            raise BadRequest("expires must be an ISO 8601 time like 2026-12-03T18:00:00+01:00")
        expires = parse_instant(expires)
        if expires <= now:
            raise BadRequest("expires lies in the past; the message would never be shown")
    return {"text": text.strip(), "severity": severity, "group": group, "expires": expires}


def _group(group: Any) -> str | None:
    try:
        return check_group(group)
    except BadRequest:
        raise BadRequest("group must be a screen group's name, or null for every screen") from None


def add(connection: Connection, message: dict[str, Any], by: str, now: datetime) -> int:
    statement = insert(_messages).values(
        text=message["text"],
        severity=message["severity"],
        screen_group=message["group"],
        created_at=now,
        expires_at=message["expires"],
        created_by=by,
    )
    return int(connection.execute(statement.returning(_messages.c.id)).scalar_one())


def withdraw(connection: Connection, message_id: int, now: datetime) -> bool:
    """Withdraw the message; false if there is none that is not withdrawn already."""
    statement = (
        update(_messages)
        .where(_messages.c.id == message_id, _messages.c.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    return connection.execute(statement).rowcount == 1


def _active(now: datetime) -> Any:
    return and_(
        _messages.c.withdrawn_at.is_(None),
        or_(_messages.c.expires_at.is_(None), _messages.c.expires_at > now),
    )


def _message(row: Any, now: datetime) -> dict[str, Any]:
    active = row.withdrawn_at is None and (row.expires_at is None or row.expires_at > now)
    return {
        "id": row.id,
        "text": row.text,
        "severity": row.severity,
        "group": row.screen_group,
        "created": format_instant(row.created_at),
        "expires": None if row.expires_at is None else format_instant(row.expires_at),
        "withdrawn": None if row.withdrawn_at is None else format_instant(row.withdrawn_at),
        "active": active,
    }


def list_messages(connection: Connection, now: datetime, limit: int = 200) -> list[dict]:
    """Active messages first, then past ones; newest first within each."""
    statement = (
        select(_messages)
        .order_by(case((_active(now), 0), else_=1), _messages.c.id.desc())
        .limit(limit)
    )
    return [_message(row, now) for row in connection.execute(statement)]


def one(connection: Connection, message_id: int, now: datetime) -> dict[str, Any] | None:
    row = connection.execute(select(_messages).where(_messages.c.id == message_id)).first()
    return None if row is None else _message(row, now)


def active_for(connection: Connection, group: str | None, now: datetime) -> list[dict]:
    """The active messages a screen of ``group`` shows: most severe first, then newest."""
    audience = _messages.c.screen_group.is_(None)
    if group is not None:
        audience = or_(audience, _messages.c.screen_group == group)
    rank = case({"critical": 0, "warning": 1}, value=_messages.c.severity, else_=2)
    statement = (
        select(_messages).where(_active(now), audience).order_by(rank, _messages.c.id.desc())
    )
    return [_message(row, now) for row in connection.execute(statement)]


def mark(connection: Connection) -> tuple[Any, ...]:
    """Changes whenever a message is added or withdrawn: what the live poller compares."""
    statement = select(func.count(), func.max(_messages.c.id), func.max(_messages.c.withdrawn_at))
    return tuple(connection.execute(statement).one())
