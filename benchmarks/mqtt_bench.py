"""SensorThings MQTT hot paths, each figure beside its floors from the same run.

    python benchmarks/mqtt_bench.py [--backend sqlite|postgresql|both]
        [--broker embedded|mosquitto|both] [--messages 20000] [--sequential 2000]
        [--publishers 4] [--seconds 10] [--bulk-rows 200000] [--rows-per-message 1000]
        [--only single|bulk|http ...]

Needs a hub's dependencies, ``wrk`` for the HTTP figures, the ``mosquitto`` binary for the
external-broker figures (a broker of the run's own, configured as docs/sensorthings.md
recommends) and, for PostgreSQL, a server at CITYHUB_TEST_POSTGRES_URL. Figures:
- sequential QoS 1 creates/s: one publisher publishes an Observation, waits for the hub's
  notification of it on v1.1/Observations (sent after its commit), publishes the next;
- bulk QoS 1 creates/s: pipelined publishers (inflight window 1000) until the hub has
  committed all, beside the paho subscriber floor (one paho client receiving the same
  messages through the same broker, storing nothing) and the database bulk floor (the same
  rows in one bulk insert: COPY / executemany);
- bulk QoS 1 via v1.1/CreateObservations, observations/s: messages of ``--rows-per-message``
  rows (a dataArray group each) pipelined from one publisher, then from ``--publishers``,
  until the hub has committed every row, beside the database bulk floor for as many rows;
- single-Observation HTTP POSTs/s with and without an MQTT subscriber on v1.1/Observations
  (what notifications cost the ingest path).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as paho
from harness import (
    MEASUREMENT,
    START,
    TOKEN,
    backends,
    create_database,
    drop_database,
    floor_insert,
    hub_env,
    post_script,
    serve_command,
    start_server,
    stop,
    wrk,
)
from paho.mqtt.enums import CallbackAPIVersion

from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store

MOSQUITTO = ("127.0.0.1", 1883)
FIGURES = ("single", "bulk", "http")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--broker", choices=["embedded", "mosquitto", "both"], default="both")
    parser.add_argument("--messages", type=int, default=20000, help="bulk messages")
    parser.add_argument("--sequential", type=int, default=2000, help="sequential messages")
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--bulk-rows", type=int, default=200_000, help="rows per bulk figure")
    parser.add_argument("--rows-per-message", type=int, default=1000)
    parser.add_argument(
        "--only", choices=FIGURES, action="append", help="run only these figures (repeatable)"
    )
    args = parser.parse_args()
    args.only = args.only or list(FIGURES)
    brokers = ["embedded", "mosquitto"] if args.broker == "both" else [args.broker]
    for backend in backends(args.backend):
        for broker in brokers:
            run(backend, broker, args)


# --- clients -------------------------------------------------------------------------------


def connect(host: str, port: int) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.username_pw_set("bench", TOKEN)  # the embedded broker takes a writer token
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(host, port)
    client.loop_start()
    if not connected.wait(15):
        raise SystemExit(f"cannot connect to the MQTT broker at {host}:{port}")
    return client


def subscribe(client: paho.Client, topic: str) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *_: done.set()
    client.subscribe(topic, 1)
    if not done.wait(15):
        raise SystemExit(f"no SUBACK for {topic}")


class Counter:
    """Counts messages on a subscription and signals when ``target`` arrived."""

    def __init__(self, client: paho.Client) -> None:
        self.count = 0
        self.target = 0
        self.reached = threading.Event()
        client.on_message = self._message

    def expect(self, target: int) -> None:
        self.count, self.target = 0, target
        self.reached.clear()

    def _message(self, *_: object) -> None:
        self.count += 1
        if self.count >= self.target:
            self.reached.set()


def publish_pipelined(
    host: str, port: int, messages: list[tuple[str, bytes]], publishers: int, timeout: float = 300
) -> list[paho.Client]:
    """Publish (topic, payload) messages at QoS 1 from ``publishers`` clients at once; returns
    the clients, still connected (amqtt drops what it has acknowledged but not yet routed if
    they leave)."""
    clients = [connect(host, port) for _ in range(publishers)]

    def send(client: paho.Client, share: list[tuple[str, bytes]]) -> None:
        infos = [client.publish(topic, payload, 1) for topic, payload in share]
        for info in infos:
            info.wait_for_publish(timeout)

    threads = [
        threading.Thread(target=send, args=(client, messages[index::publishers]))
        for index, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients


def disconnect(clients: list[paho.Client]) -> None:
    for client in clients:
        client.disconnect()
        client.loop_stop()


# --- the run -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(backend: str, broker: str, args: argparse.Namespace) -> None:
    print(f"\n== {backend}, {broker} broker ==")
    env = hub_env()
    prefix = f"bench-{uuid.uuid4().hex[:8]}/"
    hub, database = create_database(backend, "mqtt_bench", "cityhub-mqtt-bench-")
    mosquitto = None
    try:
        if broker == "embedded":
            host, port = "127.0.0.1", free_port()
            env["CITYHUB_MQTT_PORT"] = str(port)
        else:
            host, port, mosquitto = start_mosquitto(hub["data_dir"])
            env["CITYHUB_MQTT_URL"] = f"mqtt://{host}:{port}"
            env["CITYHUB_MQTT_TOPIC_PREFIX"] = prefix
        topic_prefix = "" if broker == "embedded" else prefix
        process, base = start_server(serve_command(hub), env)
        try:
            datastream, feature = seed(base)
            measure(base, host, port, topic_prefix, datastream, feature, hub, args)
        finally:
            stop(process)
    finally:
        if mosquitto is not None:
            mosquitto.terminate()
            mosquitto.wait(15)
        drop_database(database)


MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
max_inflight_messages 1000
"""


def start_mosquitto(folder: Path) -> tuple[str, int, subprocess.Popen | None]:
    """A Mosquitto of this run with the settings docs/sensorthings.md recommends (its
    defaults, 1000 queued and 20 in flight, drop most of a flood); else the one on 1883."""
    binary = shutil.which("mosquitto")
    if binary is None:
        print("  (no mosquitto binary: using the broker at 127.0.0.1:1883 as configured)")
        return *MOSQUITTO, None
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(MOSQUITTO_CONF.format(port=port))
    process = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return "127.0.0.1", port, process
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def seed(base: str) -> tuple[int, int]:
    """A Thing with a Location and one Datastream, and one Observation to derive the feature."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    thing = {
        "name": "bench",
        "description": "bench",
        "Locations": [
            {
                "name": "here",
                "description": "here",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [7.08, 51.17]},
            }
        ],
        "Datastreams": [
            {
                "name": "t",
                "description": "t",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": {"name": "degree Celsius", "symbol": "degC"},
                "Sensor": {"name": "s", "description": "s", "encodingType": "text/plain"}
                | {"metadata": "s"},
                "ObservedProperty": {"name": "p", "definition": "p", "description": "p"},
                "Observations": [{"result": 1.0}],
            }
        ],
    }
    with httpx.Client(base_url=base + "/v1.1", headers=headers) as client:
        client.post("/Things", json=thing).raise_for_status()
        observation = client.get("/Observations", params={"$expand": "FeatureOfInterest"}).json()
        value = observation["value"][0]
        datastream = client.get(f"/Observations({value['@iot.id']})/Datastream").json()
    return datastream["@iot.id"], value["FeatureOfInterest"]["@iot.id"]


def measure(base, host, port, prefix, datastream, feature, hub, args) -> None:
    if "single" in args.only:
        single_creates(base, host, port, prefix, datastream, feature, hub, args)
    if "bulk" in args.only:
        bulk_creates(base, host, port, prefix, datastream, feature, hub, args)
    if "http" in args.only:
        http_posts(base, host, port, prefix, datastream, args)


def single_creates(base, host, port, prefix, datastream, feature, hub, args) -> None:
    """One Observation per message: sequential, then pipelined, beside both floors."""
    create_topic = f"{prefix}v1.1/Datastreams({datastream})/Observations"
    # The entity set, where only the hub publishes: notified after each commit. (Not the
    # create topic itself: there the broker hands the observer the publish at once.)
    notified_topic = f"{prefix}v1.1/Observations"
    observer = connect(host, port)
    counter = Counter(observer)
    subscribe(observer, notified_topic)

    # Sequential: each create waits for the notification that follows its commit.
    publisher = connect(host, port)
    started = time.perf_counter()
    for index in range(args.sequential):
        counter.expect(1)
        publisher.publish(create_topic, orjson.dumps({"result": index}), 1)
        if not counter.reached.wait(30):
            raise SystemExit("a sequential create was not notified")
    sequential = args.sequential / (time.perf_counter() - started)
    publisher.disconnect()
    publisher.loop_stop()
    observer.unsubscribe(notified_topic)

    # Bulk: pipelined publishers; done when the hub counted them all as created.
    payloads = [
        orjson.dumps({"result": i, "phenomenonTime": _time(i)}) for i in range(args.messages)
    ]
    before = created(base)
    started = time.perf_counter()
    publishers = publish_pipelined(
        host, port, [(create_topic, p) for p in payloads], args.publishers
    )
    wait_until_created(base, before + args.messages, args.messages)
    bulk = args.messages / (time.perf_counter() - started)
    disconnect(publishers)

    # Floor 1: the same messages to one paho subscriber that stores nothing.
    floor_topic = f"{prefix}bench-floor/{uuid.uuid4().hex[:6]}"
    subscribe(observer, floor_topic)
    counter.expect(args.messages)
    started = time.perf_counter()
    publishers = publish_pipelined(
        host, port, [(floor_topic, p) for p in payloads], args.publishers
    )
    if not counter.reached.wait(600):
        raise SystemExit(f"the subscriber floor received {counter.count} of {args.messages}")
    subscriber_floor = args.messages / (time.perf_counter() - started)
    disconnect(publishers)
    observer.disconnect()
    observer.loop_stop()

    # Floor 2: the database's bulk insert of the same rows.
    database_floor = bulk_floor(hub, datastream, feature, args.messages)

    report("QoS 1 sequential creates/s (publish, commit, notify, next)", sequential)
    report(f"QoS 1 bulk creates/s ({args.publishers} publishers)", bulk)
    report("  paho subscriber floor, msg/s", subscriber_floor, bulk / subscriber_floor)
    report("  database bulk floor, rows/s", database_floor, bulk / database_floor)


def bulk_creates(base, host, port, prefix, datastream, feature, hub, args) -> None:
    """Observations/s through v1.1/CreateObservations, messages of dataArray rows published
    at QoS 1 without waiting, until the hub has committed every row."""
    size = args.rows_per_message
    messages = max(1, args.bulk_rows // size)
    rows = messages * size
    topic = f"{prefix}v1.1/CreateObservations"
    payloads = [
        orjson.dumps(
            [
                {
                    "Datastream": {"@iot.id": datastream},
                    "components": ["phenomenonTime", "result"],
                    "dataArray": [[_time(start + i), float(start + i)] for i in range(size)],
                }
            ]
        )
        for start in range(0, rows, size)
    ]
    # The floor first, while the hub is idle (an external broker's hub is still publishing
    # notifications for a while after the last commit).
    database_floor = bulk_floor(hub, datastream, feature, rows)
    figures = []
    for publishers in sorted({1, args.publishers}):
        before = created(base)
        started = time.perf_counter()
        clients = publish_pipelined(host, port, [(topic, p) for p in payloads], publishers)
        wait_until_created(base, before + rows, rows)
        figures.append((publishers, rows / (time.perf_counter() - started)))
        disconnect(clients)
    for publishers, figure in figures:
        label = f"QoS 1 bulk via v1.1/CreateObservations, obs/s ({publishers} pub.)"
        report(label, figure, figure / database_floor)
    report(f"  database bulk floor, rows/s ({rows} rows, {size} per message)", database_floor)


def wait_until_created(base: str, target: int, expected: int) -> None:
    """Poll the hub's counter until ``target``; stop if it stalls (messages were dropped)."""
    progress, last_change = created(base), time.monotonic()
    while (stored := created(base)) < target:
        if stored != progress:
            progress, last_change = stored, time.monotonic()
        elif time.monotonic() - last_change > 20:
            raise SystemExit(
                f"only {expected - (target - stored)} of {expected} created and no more coming: "
                "the broker dropped messages (see max_queued_messages)"
            )
        time.sleep(0.01)


def _time(index: int) -> str:
    return (START + timedelta(seconds=index)).isoformat().replace("+00:00", "Z")


def created(base: str) -> int:
    return httpx.get(base + "/api/mqtt").json()["created"]


def bulk_floor(hub: dict, datastream: int, feature: int, count: int) -> float:
    """Rows per second of one bulk insert (COPY on PostgreSQL, executemany on SQLite) into
    the hub's own database."""
    store = Store(load_settings(hub, environ={}))
    rows = [
        {
            "datastream_id": datastream,
            "feature_of_interest_id": feature,
            "phenomenon_time_start": START + timedelta(seconds=i),
            "result_type": schema.RESULT_FLOAT,
            "result_number": float(i),
        }
        for i in range(count)
    ]
    try:
        started = time.perf_counter()
        floor_insert(store, schema.observations, rows)
        return count / (time.perf_counter() - started)
    finally:
        store.close()


def http_posts(base, host, port, prefix, datastream, args) -> None:
    """Single-Observation POSTs/s, without and with a subscriber to v1.1/Observations."""
    body = f'{{"result": 21.5, "Datastream": {{"@iot.id": {datastream}}}}}'
    script = post_script(f"return wrk.format(nil, nil, nil, '{body}')")
    without = wrk(base + "/v1.1/Observations", args, script)
    listener = connect(host, port)
    counter = Counter(listener)
    counter.expect(sys.maxsize)
    subscribe(listener, f"{prefix}v1.1/Observations")
    with_subscriber = wrk(base + "/v1.1/Observations", args, script)
    listener.disconnect()
    listener.loop_stop()
    report("HTTP POST/s, no subscriber", without)
    report(f"HTTP POST/s, one subscriber ({counter.count} received)", with_subscriber)
    report("  with / without", with_subscriber / without)


def report(label: str, figure: float, ratio: float | None = None) -> None:
    """One line: the figure and, beside a floor, the measured figure's ratio to it."""
    shown = f"{figure:10.2f}" if figure < 10 else f"{figure:10.0f}"
    print(f"  {label:<58}{shown}" + (f"   ratio {ratio:.2f}" if ratio is not None else ""))


if __name__ == "__main__":
    main()
