"""What live screens cost the database: the poller's look per second and a screen's state,
each beside the floor of a trivial read through the same store.

    python benchmarks/screens_bench.py [--backend sqlite|postgresql|both] [--screens 50]
        [--repeat 50]

The demo is loaded and its screen ``rathaus`` copied to ``--screens`` slugs. Figures, as
medians of ``--repeat`` runs:
- floor: ``SELECT 1`` in a read transaction (``store.read_blocking``);
- look: one tick of the poller with every screen connected (layout marks, crisis mark, the
  latest Observation id of every Datastream shown), run once a second per hub process;
- state: the demo screen's whole state (every tile type), computed when its inputs change.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from harness import backends, hub_database

from cityhub.demo import load_demo
from cityhub.screens import crisis, layouts, readings
from cityhub.screens.state import compute
from cityhub.store.database import Store


def median_ms(store: Store, fn: Callable[[Any], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        store.read_blocking(fn)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def run(backend: str, screens: int, repeat: int) -> None:
    with hub_database(backend, "screens") as (_, store):
        load_demo(store)
        screen = store.read_blocking(lambda c: layouts.one(c, "rathaus", 0))
        assert screen is not None
        body = {key: screen[key] for key in ("title", "group", "orientation", "tiles")}
        for index in range(screens):
            copy = layouts.check_body(body)
            store.write_blocking(lambda c, i=index, s=copy: layouts.save(c, f"s{i}", s))
        zone = ZoneInfo("Europe/Berlin")
        state = store.read_blocking(lambda c: compute(c, "rathaus", "http://x", zone, 60))
        assert state is not None
        slugs = [f"s{i}" for i in range(screens)]
        streams = sorted(state.datastreams)

        def look(connection: Any) -> Any:
            return (
                layouts.marks(connection, slugs),
                crisis.mark(connection),
                readings.latest_marks(connection, streams),
            )

        floor = median_ms(store, lambda c: c.exec_driver_sql("SELECT 1").scalar(), repeat)
        tick = median_ms(store, look, repeat)
        whole = median_ms(store, lambda c: compute(c, "rathaus", "http://x", zone, 60), repeat)
        print(
            f"{backend}: floor {floor:.2f} ms | look ({screens} screens, {len(streams)} "
            f"Datastreams) {tick:.2f} ms = {tick / floor:.1f}x floor | state of the demo "
            f"screen {whole:.1f} ms = {whole / floor:.0f}x floor"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=50)
    arguments = parser.parse_args()
    for backend in backends(arguments.backend):
        run(backend, arguments.screens, arguments.repeat)


if __name__ == "__main__":
    main()
