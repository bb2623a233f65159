"""Runs and leases in the database: what each run did, and which process runs what when.

A lease row per connector holds ``next_due`` and, while a run is on, its ``holder`` until
``expires_at``. Claiming is one conditional UPDATE (compare and set on ``next_due`` and a
free lease), so among any number of processes exactly one wins each scheduled run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, desc, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cityhub.store import schema

_runs = schema.connector_runs
_leases = schema.connector_leases


def ensure_lease(connection: Connection, name: str, first_due: datetime) -> None:
    """A lease row for ``name``, due at ``first_due`` if it is new."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_leases).values(name=name, next_due=first_due)
    connection.execute(statement.on_conflict_do_nothing(index_elements=["name"]))


def reschedule(connection: Connection, name: str, now: datetime) -> None:
    """Make ``name`` due at ``now``: a connector created or changed runs at the next tick of
    whichever process schedules it, then on its (new) schedule."""
    ensure_lease(connection, name, now)
    connection.execute(update(_leases).where(_leases.c.name == name).values(next_due=now))


def _free(now: datetime) -> Any:
    return or_(_leases.c.holder.is_(None), _leases.c.expires_at < now)


def due_leases(connection: Connection, names: list[str], now: datetime) -> list[Any]:
    """(name, next_due) of the connectors among ``names`` that are due and not running."""
    statement = (
        select(_leases.c.name, _leases.c.next_due)
        .where(_leases.c.name.in_(names))
        .where(_leases.c.next_due <= now)
        .where(_free(now))
        .order_by(_leases.c.next_due)
    )
    return list(connection.execute(statement))


def claim_scheduled(
    connection: Connection,
    name: str,
    holder: str,
    *,
    due: datetime,
    next_due: datetime,
    now: datetime,
    hold: timedelta,
) -> bool:
    """Take the run due at ``due``; true for exactly one caller, however many try."""
    statement = (
        update(_leases)
        .where(_leases.c.name == name, _leases.c.next_due == due, _free(now))
        .values(holder=holder, expires_at=now + hold, next_due=next_due)
    )
    return connection.execute(statement).rowcount == 1


def claim_now(
    connection: Connection, name: str, holder: str, *, now: datetime, hold: timedelta
) -> str | None:
    """Take the lease for a run outside the schedule; ``None`` if taken, else who holds it."""
    ensure_lease(connection, name, now)
    statement = (
        update(_leases)
        .where(_leases.c.name == name, _free(now))
        .values(holder=holder, expires_at=now + hold)
    )
    if connection.execute(statement).rowcount == 1:
        return None
    return str(connection.scalar(select(_leases.c.holder).where(_leases.c.name == name)))


def release(connection: Connection, name: str, holder: str) -> None:
    connection.execute(
        update(_leases)
        .where(_leases.c.name == name, _leases.c.holder == holder)
        .values(holder=None, expires_at=None)
    )


def start_run(connection: Connection, name: str, trigger: str, holder: str, now: datetime) -> int:
    row = {
        "name": name,
        "trigger": trigger,
        "holder": holder,
        "started_at": now,
        "status": "running",
    }
    result = connection.execute(insert(_runs).values(row))
    return int(result.inserted_primary_key[0])


def finish_run(
    connection: Connection,
    run_id: int,
    now: datetime,
    *,
    summary: dict[str, Any] | None,
    error: str | None,
) -> None:
    status = "failed" if error else "ok"
    connection.execute(
        update(_runs)
        .where(_runs.c.id == run_id)
        .values(finished_at=now, status=status, summary=summary, error=error)
    )


def _run_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "trigger": row.trigger,
        "holder": row.holder,
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "status": row.status,
        "summary": row.summary,
        "error": row.error,
    }


def last_runs(connection: Connection, name: str | None = None, limit: int = 20) -> list[Any]:
    """The newest runs, of one connector or all, newest first."""
    statement = select(_runs).order_by(desc(_runs.c.started_at), desc(_runs.c.id)).limit(limit)
    if name is not None:
        statement = statement.where(_runs.c.name == name)
    return [_run_json(row) for row in connection.execute(statement)]


def status(connection: Connection, names: list[str]) -> dict[str, dict[str, Any]]:
    """Per connector: its lease, its last run and its last successful run."""
    leases = {
        row.name: row
        for row in connection.execute(select(_leases).where(_leases.c.name.in_(names)))
    }
    result = {}
    for name in names:
        lease = leases.get(name)
        last = last_runs(connection, name, 1)
        good = connection.execute(
            select(_runs)
            .where(and_(_runs.c.name == name, _runs.c.status == "ok"))
            .order_by(desc(_runs.c.started_at), desc(_runs.c.id))
            .limit(1)
        ).first()
        result[name] = {
            "next_due": lease.next_due.isoformat() if lease else None,
            "running_in": lease.holder if lease and lease.holder else None,
            "last_run": last[0] if last else None,
            "last_success": _run_json(good) if good else None,
        }
    return result
