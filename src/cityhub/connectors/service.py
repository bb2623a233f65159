"""Running connectors: now, or when due, coordinated with other processes through leases.

The same service runs inside ``cityhub serve`` (unless ``connectors_in_serve`` is false) and
in ``cityhub worker`` processes. Every run is recorded: started, then ok with its summary or
failed with its error and cause; a failed run leaves the data of earlier runs as it was.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx

from cityhub.connectors import ledger, registry
from cityhub.connectors.base import Connector, ConnectorError, RunSummary
from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.context import Progress, RunContext
from cityhub.connectors.http import Validators, build_client
from cityhub.connectors.managed import Configured, effective_connectors, file_connectors
from cityhub.connectors.saving import Target
from cityhub.settings import Settings
from cityhub.store.database import Store

log = logging.getLogger("cityhub.connectors")

#: How often a scheduler looks for due connectors, in seconds.
POLL_SECONDS = 5.0
#: How long past its timeout a run's lease is kept, so it never expires while running.
_LEASE_MARGIN = timedelta(seconds=60)


class ConnectorBusy(Exception):
    """The connector is running elsewhere; the message names where."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    run_id: int
    name: str
    status: str
    summary: RunSummary | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "name": self.name,
            "status": self.status,
            "summary": self.summary.as_dict() if self.summary else None,
            "error": self.error,
        }


def describe_error(exc: BaseException) -> str:
    """The error and the chain of its causes, one clause each."""
    parts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        part = f"{type(current).__name__}: {str(current) or '(no message)'}"
        if not parts or not parts[-1].endswith(part):
            parts.append(part)
        current = current.__cause__ or current.__context__
    return " — caused by ".join(parts)


class ConnectorService:
    """The configured connectors of one process, with its shared HTTP client."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        holder: str | None = None,
        backoff: float = 1.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.client = build_client(settings, transport, backoff=backoff)
        self.validators = Validators()
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._hold = timedelta(seconds=settings.connector_timeout_seconds) + _LEASE_MARGIN
        self._leased: set[str] = set()
        self.configured: dict[str, Configured] = file_connectors(settings)

    async def refresh(self) -> dict[str, Configured]:
        """Read the effective connectors again: the file's and those of the admin API."""
        configured = await self.store.read(lambda c: effective_connectors(c, self.settings))
        if configured != self.configured:
            # A changed connector may write elsewhere now: its next run fetches everything.
            self.validators.clear()
        self.configured = configured
        return self.configured

    @property
    def configs(self) -> dict[str, ConnectorConfig]:
        return {name: entry.config for name, entry in self.configured.items()}

    def connector(self, name: str) -> Connector:
        entry = self.configured.get(name)
        if entry is None:
            known = ", ".join(sorted(self.configured)) or "none configured"
            raise ConnectorError(f"no connector '{name}' (configured: {known})")
        return registry.build(name, entry.config)

    async def run_now(self, name: str, progress: Progress | None = None) -> RunOutcome:
        """Run ``name`` once, now, outside its schedule; ``ConnectorBusy`` if it is running."""
        await self.refresh()
        connector = self.connector(name)
        now = datetime.now(UTC)
        holder = await self.store.write(
            lambda c: ledger.claim_now(c, name, self.holder, now=now, hold=self._hold)
        )
        if holder is not None:
            raise ConnectorBusy(f"connector '{name}' is running in {holder}; try again later")
        return await self._run(connector, "manual", progress)

    async def run_due(self, now: datetime | None = None) -> list[RunOutcome]:
        """Run every scheduled connector that is due and that this process claims."""
        now = now or datetime.now(UTC)
        await self.refresh()
        names = [name for name, config in self.configs.items() if config.scheduled]
        if not names:
            return []
        new = [name for name in names if name not in self._leased]
        if new:  # once per process: a look for due connectors is otherwise only a read
            await self.store.write(lambda c: [ledger.ensure_lease(c, n, now) for n in new])
            self._leased.update(new)
        due = await self.store.read(lambda c: ledger.due_leases(c, names, now))
        claimed = [name for name, due_at in due if await self._claim(name, due_at, now)]
        runs = [self._run_scheduled(name) for name in claimed]
        return [outcome for outcome in await asyncio.gather(*runs) if outcome is not None]

    async def _claim(self, name: str, due_at: datetime, now: datetime) -> bool:
        config = self.configs.get(name)
        if config is None or not config.scheduled:  # removed or changed a moment ago
            return False
        next_due = config.next_run(due_at)
        if next_due <= now:  # missed runs are not made up: one run, then on schedule again
            next_due = config.next_run(now)
        return await self.store.write(
            lambda c: ledger.claim_scheduled(
                c, name, self.holder, due=due_at, next_due=next_due, now=now, hold=self._hold
            )
        )

    async def _run_scheduled(self, name: str) -> RunOutcome | None:
        try:
            connector = self.connector(name)
        except ConnectorError as exc:
            log.error("connector %s cannot run: %s", name, exc)
            await self.store.write(lambda c: ledger.release(c, name, self.holder))
            return None
        return await self._run(connector, "schedule", None)

    async def _run(
        self, connector: Connector, trigger: str, progress: Progress | None
    ) -> RunOutcome:
        name = connector.name
        started = datetime.now(UTC)
        run_id = await self.store.write(
            lambda c: ledger.start_run(c, name, trigger, self.holder, started)
        )
        context = RunContext(
            store=self.store,
            client=self.client,
            validators=self.validators,
            target=_target(connector),
            fetched_at=started,
            progress=progress,
        )
        summary, error = None, None
        try:
            with anyio.fail_after(self.settings.connector_timeout_seconds):
                summary = await connector.run(context)
            context.commit_validators()
            log.info("connector %s: %s", name, summary.describe())
        except Exception as exc:  # any failure of a run is recorded, never raised
            error = describe_error(exc)
            log.warning("connector %s failed: %s", name, error)
        finished = datetime.now(UTC)
        record = summary.as_dict() if summary else None

        def finish(connection: Any) -> None:
            ledger.finish_run(connection, run_id, finished, summary=record, error=error)
            ledger.release(connection, name, self.holder)

        await self.store.write(finish)
        status = "failed" if error else "ok"
        return RunOutcome(run_id, name, status, summary, error)

    async def status(self) -> dict[str, dict[str, Any]]:
        await self.refresh()
        names = sorted(self.configs)
        found = await self.store.read(lambda c: ledger.status(c, names))
        for name in names:
            config = self.configs[name]
            found[name] = {
                "name": name,
                "source": self.configured[name].source,
                "type": config.type,
                "dataset": config.dataset or name,
                "schedule": config.cron or (f"every {config.every}" if config.every else None),
                "enabled": config.enabled,
                "problem": self._problem(name),
                **found[name],
            }
        return found

    def _problem(self, name: str) -> str | None:
        try:
            self.connector(name)
        except ConnectorError as exc:
            return str(exc)
        return None

    async def runs(self, name: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        return await self.store.read(lambda c: ledger.last_runs(c, name, limit))

    async def serve_forever(self, poll: float = POLL_SECONDS) -> None:
        """Run due connectors until cancelled."""
        while True:
            try:
                await self.run_due()
            except Exception as exc:  # the database may be away for a moment; keep going
                log.warning("connector scheduling failed: %s", describe_error(exc))
            await asyncio.sleep(poll)

    async def aclose(self) -> None:
        await self.client.aclose()


def _target(connector: Connector) -> Target:
    return Target(
        connector=connector.name,
        type=connector.config.type,
        dataset=connector.dataset,
        collection=connector.collection,
        dataset_defaults=dict(connector.dataset_defaults),
        collection_title=connector.new_collection_title,
    )
