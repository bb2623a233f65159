"""MQTT notifications that lag behind the commits stay bounded: a round waits until the one
before has gone out to the broker, the backlog has a ceiling beyond which changes are counted
as unnotified, and a hub that stops drops the backlog at once and says so, rather than
publishing it into a closed connection for minutes."""

from __future__ import annotations

import logging
import threading
import time

from cityhub.mqtt import notify
from cityhub.mqtt.notify import Notifier
from cityhub.mqtt.stats import MqttStats
from cityhub.mqtt.topics import Interest
from cityhub.store.changes import CREATED, Change

from .helpers import create_thing, datastream_body, observation


def _observation_ids(hub) -> list[int]:
    observations = [observation(i, f"2024-01-01T00:{i:02d}:00Z") for i in range(50)]
    thing = create_thing(hub, datastreams=[datastream_body("t", observations)])
    return sorted(thing.observations[thing.datastreams[0]])


def _created(ids: list[int]) -> list[Change]:
    return [Change("Observation", id_, CREATED) for id_ in ids]


def test_a_stop_drops_the_backlog_and_says_so(sqlite_hub, caplog):
    ids = _observation_ids(sqlite_hub)
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
        notifier.on_commit(_created(ids))
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


def test_changes_beyond_the_backlog_are_counted_not_queued(sqlite_hub, caplog, monkeypatch):
    monkeypatch.setattr(notify, "MAX_BACKLOG", 120)
    ids = _observation_ids(sqlite_hub)  # 50 a commit
    published: list[str] = []
    stats = MqttStats()
    notifier = Notifier(
        sqlite_hub.store, lambda t, p: published.append(t), lambda: Interest(None, ""),
        "http://hub", "", stats,
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="cityhub.mqtt.notify"):
        for _ in range(5):  # queued before the notifier starts: 2 fit, 3 do not
            notifier.on_commit(_created(ids))
    notifier.start()
    try:
        assert notifier.idle.wait(10)
    finally:
        notifier.stop()
    assert stats.unnotified == 150
    assert len(published) == 100 * 3  # each Observation on three topics
    assert stats.notifications == 300
    warnings = [r.getMessage() for r in caplog.records if "unnotified" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once a minute, not once a commit
    # Caught up, the next commit is notified again.
    notifier = Notifier(
        sqlite_hub.store, lambda t, p: published.append(t), lambda: Interest(None, ""),
        "http://hub", "", stats,
    )  # fmt: skip
    notifier.start()
    try:
        notifier.on_commit(_created(ids))
        assert notifier.idle.wait(10)
    finally:
        notifier.stop()
    assert len(published) == 150 * 3


def test_a_round_waits_until_the_one_before_has_gone_out(sqlite_hub):
    ids = _observation_ids(sqlite_hub)
    published: list[int] = []
    gone_out = threading.Event()
    waits: list[int] = []

    def sent(timeout):
        if not waits or waits[-1] != len(published):  # asked again while it waits: once
            waits.append(len(published))
        return gone_out.wait(timeout)

    notifier = Notifier(
        sqlite_hub.store, lambda t, p: published.append(1), lambda: Interest(None, ""),
        "http://hub", "", MqttStats(), sent=sent,
    )  # fmt: skip
    notifier.start()
    try:
        notifier.on_commit(_created(ids))
        deadline = time.monotonic() + 10
        while not waits and time.monotonic() < deadline:
            time.sleep(0.01)
        notifier.on_commit(_created(ids))
        time.sleep(0.3)
        assert len(published) == 150  # the second round waits for the broker
        assert not notifier.idle.is_set()
        gone_out.set()
        assert notifier.idle.wait(10)
        assert len(published) == 300
        assert waits == [150, 300]
    finally:
        notifier.stop()


def test_a_large_commit_is_published_in_rounds(sqlite_hub, monkeypatch):
    monkeypatch.setattr(notify, "_MAX_CHANGES", 20)
    ids = _observation_ids(sqlite_hub)
    published: list[int] = []
    rounds: list[int] = []

    def sent(timeout):
        rounds.append(len(published))
        return True

    notifier = Notifier(
        sqlite_hub.store, lambda t, p: published.append(1), lambda: Interest(None, ""),
        "http://hub", "", MqttStats(), sent=sent,
    )  # fmt: skip
    notifier.on_commit(_created(ids))  # one commit of 50: rounds of 20, 20 and 10
    notifier.on_commit(_created(ids[:5]))  # joins the last round
    notifier.start()
    try:
        assert notifier.idle.wait(10)
    finally:
        notifier.stop()
    assert rounds == [60, 120, 165]
