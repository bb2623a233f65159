"""A hub that stops while its MQTT notifications lag behind its commits stops at once: what is
being published goes out, the backlog is dropped and counted in the log, never published into
a closed connection for minutes."""

from __future__ import annotations

import logging
import threading
import time

from cityhub.mqtt.notify import Notifier
from cityhub.mqtt.stats import MqttStats
from cityhub.mqtt.topics import Interest
from cityhub.store.changes import CREATED, Change

from .helpers import create_thing, datastream_body, observation


def test_a_stop_drops_the_backlog_and_says_so(sqlite_hub, caplog):
    observations = [observation(i, f"2024-01-01T00:{i:02d}:00Z") for i in range(50)]
    thing = create_thing(sqlite_hub, datastreams=[datastream_body("t", observations)])
    ids = sorted(thing.observations[thing.datastreams[0]])
    published: list[str] = []
    started = threading.Event()

    def slow_publish(topic: str, payload: bytes) -> None:
        started.set()
        time.sleep(0.005)  # a broker far behind: 5 ms a message
        published.append(topic)

    stats = MqttStats()
    notifier = Notifier(
        sqlite_hub.store, slow_publish, lambda: Interest(None, ""), "http://hub", "", stats
    )
    commits = 40
    for _ in range(commits):  # 2,000 Observations: 6,000 messages, 30 s at this pace
        notifier.on_commit([Change("Observation", id_, CREATED) for id_ in ids])
    notifier.start()
    assert started.wait(5)
    with caplog.at_level(logging.WARNING, logger="cityhub.mqtt.notify"):
        began = time.perf_counter()
        notifier.stop()
        took = time.perf_counter() - began
    assert took < 1, took
    assert 0 < len(published) < commits * len(ids)
    assert notifier.idle.is_set()
    dropped = [r.getMessage() for r in caplog.records if "not published" in r.getMessage()]
    assert len(dropped) == 1
    count = dropped[0].split()[0]
    assert count.isdigit()
    assert 0 < int(count) <= commits * len(ids)
