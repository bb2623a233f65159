"""Leases: each scheduled run happens once among any number of workers, on both backends."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.service import ConnectorBusy, ConnectorService
from cityhub.store import schema
from cityhub.store.database import Store

PAUSE = "tests.connectors.helpers:Pause"
START = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def _settings(hub, **config):
    connectors = {"tick": ConnectorConfig.model_validate({"type": PAUSE, **config})}
    return hub.settings.model_copy(update={"connectors": connectors})


def _runs(hub):
    runs = schema.connector_runs
    query = select(runs.c.holder, runs.c.status, runs.c.trigger).order_by(runs.c.id)
    return hub.store.read_blocking(lambda c: [tuple(r) for r in c.execute(query)])


def test_each_scheduled_run_happens_once_however_many_workers(hub):
    settings = _settings(hub, every="1m")
    workers = [ConnectorService(Store(settings), settings, holder=f"worker-{i}") for i in range(3)]
    slots = [START + timedelta(minutes=i) for i in range(4)]
    try:
        for slot in slots:
            barrier = threading.Barrier(len(workers))

            def work(worker: ConnectorService, slot: datetime = slot, barrier=barrier) -> None:
                barrier.wait()
                asyncio.run(worker.run_due(slot))

            threads = [threading.Thread(target=work, args=(w,)) for w in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            # Half a minute on, nothing is due: the run of this slot happened already.
            assert asyncio.run(workers[0].run_due(slot + timedelta(seconds=30))) == []
    finally:
        for worker in workers:
            asyncio.run(worker.aclose())
            worker.store.close()
    runs = _runs(hub)
    assert len(runs) == len(slots)
    assert {status for _, status, _ in runs} == {"ok"}
    assert {trigger for _, _, trigger in runs} == {"schedule"}


def test_missed_runs_are_not_made_up(hub):
    settings = _settings(hub, cron="*/10 * * * *")
    service = ConnectorService(hub.store, settings, holder="only")
    assert len(hub.portal.call(service.run_due, START)) == 1
    # The hub was down for an hour: one run now, then the next ten-minute mark.
    later = START + timedelta(hours=1, minutes=3)
    assert len(hub.portal.call(service.run_due, later)) == 1
    assert hub.portal.call(service.run_due, later + timedelta(minutes=6)) == []
    status = hub.portal.call(service.status)["tick"]
    assert status["next_due"].startswith("2026-12-03T07:10:00")
    assert status["schedule"] == "*/10 * * * *"
    hub.portal.call(service.aclose)


def test_a_connector_running_elsewhere_is_not_started_twice(hub):
    settings = _settings(hub, every="5m")
    first = ConnectorService(hub.store, settings, holder="first")
    second = ConnectorService(hub.store, settings, holder="second")

    async def both() -> None:
        running = asyncio.ensure_future(first.run_now("tick"))
        await asyncio.sleep(0.02)
        with pytest.raises(ConnectorBusy, match="running in first"):
            await second.run_now("tick")
        await running
        outcome = await second.run_now("tick")  # free again once the first finished
        assert outcome.status == "ok"

    hub.portal.call(both)
    assert [holder for holder, _, _ in _runs(hub)] == ["first", "second"]
    for service in (first, second):
        hub.portal.call(service.aclose)


def test_an_expired_lease_of_a_vanished_worker_is_taken_over(hub):
    settings = _settings(hub, every="5m")
    service = ConnectorService(hub.store, settings, holder="new")
    leases = schema.connector_leases
    long_ago = START - timedelta(hours=2)
    hub.store.write_blocking(
        lambda c: c.execute(
            leases.insert().values(
                name="tick", holder="crashed", expires_at=long_ago, next_due=long_ago
            )
        )
    )
    assert [o.status for o in hub.portal.call(service.run_due, START)] == ["ok"]
    hub.portal.call(service.aclose)
