"""Several commit listeners: the one set (MQTT) and added ones (screens) each hear every
commit; a failing listener costs the others nothing; a removed one hears no more."""

from __future__ import annotations

import threading

from tests.screens.helpers import create_sensor, observe


def test_every_listener_hears_each_commit(sqlite_hub):
    hub = sqlite_hub
    stream = create_sensor(hub, "T", "°C")
    heard: dict[str, list[str]] = {"set": [], "added": []}
    done = threading.Event()

    def broken(changes):
        raise RuntimeError("a faulty listener")

    def added(changes):
        heard["added"].extend(c.entity for c in changes)
        done.set()

    hub.store.set_commit_listener(lambda changes: heard["set"].extend(c.entity for c in changes))
    hub.store.add_commit_listener(broken)
    hub.store.add_commit_listener(added)
    try:
        observe(hub, stream, 1.5)
        assert done.wait(timeout=10)
        assert heard["set"] == ["Observation"]
        assert heard["added"] == ["Observation"]
        hub.store.remove_commit_listener(added)
        observe(hub, stream, 2.5)
        hub.store.write_blocking(lambda connection: None)  # the writer has passed that commit
        assert heard["set"] == ["Observation", "Observation"]
        assert heard["added"] == ["Observation"]
    finally:
        hub.store.remove_commit_listener(broken)
        hub.store.set_commit_listener(None)
