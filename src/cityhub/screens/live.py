"""Live updates: one poller per process pushes changed screen states to connected screens.

A new Observation may be written by any process, so the poller reads the database instead of
listening to this process's writes only: about once a second, one read transaction asks for
the latest Observation id (and the Thing's dataset) of each Datastream the connected screens
show, when their layouts last changed, a mark of the crisis messages and which datasets are
restricted: data made restricted leaves the screens within a second. A commit of this
process that created Observations wakes it early (at most every ``MIN_GAP`` seconds), so its
own writes show at once. A screen whose inputs changed (or whose state is older than
``REFRESH`` — departures move on, messages expire) is computed again, and pushed to its
subscribers only if what it shows changed. With no screen connected the poller stops; the
admin API wakes it at once after a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from cityhub.screens import crisis, layouts, readings
from cityhub.screens.state import ScreenState, compute, without_time
from cityhub.settings import Settings
from cityhub.store.access import ANYONE, hidden_datasets
from cityhub.store.changes import Change
from cityhub.store.database import Store

log = logging.getLogger(__name__)

#: Seconds between two looks at the database while screens are connected.
INTERVAL = 1.0
#: Seconds at least between two looks, however often commits wake the poller.
MIN_GAP = 0.2
#: A connected screen's state is computed again at least this often (seconds).
REFRESH = 30.0
#: Updates a slow client may have waiting; older ones are dropped (the newest is complete).
QUEUE_SIZE = 4
GONE = b"gone"


@dataclass
class _Watched:
    """One slug with subscribers: its queues and what its last pushed state depended on."""

    base_url: str
    queues: set[asyncio.Queue[bytes]] = field(default_factory=set)
    last: dict[str, Any] | None = None
    datastreams: frozenset[int] = frozenset()
    marks: dict[int, Any] = field(default_factory=dict)
    layout_mark: Any = None
    computed_at: float = 0.0


class ScreenFeed:
    """The connected screens of this process and the poller that keeps them current."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.zone = ZoneInfo(settings.time_zone)
        self._watched: dict[str, _Watched] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._crisis_mark: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener = self._on_commit  # one object, to remove it again

    async def state(self, slug: str, base_url: str) -> ScreenState | None:
        """The screen's state now (one read)."""
        settings = self.settings
        return await self.store.read(
            lambda c: compute(c, slug, base_url, self.zone, settings.screen_heartbeat_seconds)
        )

    def subscribe(self, slug: str, base_url: str, first: ScreenState) -> asyncio.Queue[bytes]:
        """A queue that receives the screen's state (JSON) whenever it changes."""
        watched = self._watched.get(slug)
        if watched is None:
            watched = self._watched[slug] = _Watched(base_url)
            self._remember(watched, first)
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUE_SIZE)
        watched.queues.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="cityhub-screens-poller")
        return queue

    def unsubscribe(self, slug: str, queue: asyncio.Queue[bytes]) -> None:
        watched = self._watched.get(slug)
        if watched is None:
            return
        watched.queues.discard(queue)
        if not watched.queues:
            del self._watched[slug]

    def wake(self) -> None:
        """Look at once (after a change through the admin API of this process)."""
        self._wake.set()

    @property
    def connected(self) -> int:
        return sum(len(w.queues) for w in self._watched.values())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_commit(self, changes: list[Change]) -> None:
        """In the writer thread: new Observations wake the poller in its loop."""
        loop = self._loop
        if loop is not None and any(change.entity == "Observation" for change in changes):
            loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.store.add_commit_listener(self._listener)
        try:
            while self._watched:
                started = time.monotonic()
                self._wake.clear()
                try:
                    await self._tick()
                except Exception:  # an unreachable database must not end the live updates
                    log.warning("screens: looking for changes failed", exc_info=True)
                rest = MIN_GAP - (time.monotonic() - started)
                if rest > 0:
                    await asyncio.sleep(rest)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), INTERVAL)
        finally:
            self.store.remove_commit_listener(self._listener)

    async def _tick(self) -> None:
        slugs = list(self._watched)
        streams = sorted({s for w in self._watched.values() for s in w.datastreams})

        def look(connection: Any) -> tuple[Any, Any, Any]:
            return (
                layouts.marks(connection, slugs),
                (crisis.mark(connection), hidden_datasets(connection, ANYONE)),
                readings.latest_marks(connection, streams),
            )

        layout_marks, every_screen_mark, stream_marks = await self.store.read(look)
        # Crisis messages, and which datasets are restricted, concern every screen.
        crisis_changed = every_screen_mark != self._crisis_mark
        self._crisis_mark = every_screen_mark
        now = time.monotonic()
        for slug in slugs:
            watched = self._watched.get(slug)
            if watched is None:
                continue
            marks = {s: stream_marks.get(s) for s in watched.datastreams}
            if (
                crisis_changed
                or layout_marks.get(slug) != watched.layout_mark
                or marks != watched.marks
                or now - watched.computed_at >= REFRESH
            ):
                await self._recompute(slug, watched, layout_marks.get(slug))
                watched.marks = {s: stream_marks.get(s, _UNSEEN) for s in watched.datastreams}

    async def _recompute(self, slug: str, watched: _Watched, layout_mark: Any) -> None:
        state = await self.state(slug, watched.base_url)
        watched.layout_mark = layout_mark
        if state is None:
            self._push(watched, GONE)
            watched.last = None
            return
        changed = watched.last is None or without_time(state.body) != watched.last
        self._remember(watched, state)
        if changed:
            self._push(watched, orjson.dumps(state.body))

    def _remember(self, watched: _Watched, state: ScreenState) -> None:
        watched.last = without_time(state.body)
        watched.datastreams = state.datastreams
        watched.computed_at = time.monotonic()
        # Unknown marks make the next look compare against what it reads then.
        watched.marks = {s: watched.marks.get(s, _UNSEEN) for s in state.datastreams}

    @staticmethod
    def _push(watched: _Watched, data: bytes) -> None:
        for queue in list(watched.queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(data)


_UNSEEN = object()
