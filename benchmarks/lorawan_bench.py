"""LoRaWAN uplinks per second, from the broker to stored Observations, beside the floors
measured in the same run.

    python benchmarks/lorawan_bench.py [--backend sqlite|postgresql|both]
        [--uplinks 30000] [--devices 100,2000] [--publishers 2]

Needs a hub's dependencies, the ``mosquitto`` binary (a broker of the run's own, configured
as docs/lorawan.md recommends; else the one at 127.0.0.1:1883) and, for PostgreSQL, a
server at CITYHUB_TEST_POSTGRES_URL. For each backend and each number of devices:

- a hub (``cityhub serve``, one process) subscribes to the broker as a The Things Stack
  integration (persistent session, QoS 1), every device registered with three Datastreams;
- while the hub is stopped, ``--uplinks`` TTS v3 uplinks (JSON, 3 decoded values each) are
  published, spread over the devices, and the broker queues them for the hub's session;
- the hub starts again: the figure is uplinks per second from its HTTP port answering until
  it has stored the last one (each an uplink record and 3 Observations; those stored before
  the port answered are not counted);
- the paho floor: the same messages queued the same way for one paho subscriber at QoS 1
  that stores nothing, per second from its reconnect until the last one arrived;
- the database floor: the same number of Observations in one bulk load (COPY /
  executemany) into the same database.

Few devices with many uplinks each is a network server's backlog after an outage; many
devices with one or two uplinks each within a batch is live traffic of a large network,
where every Observation also moves its own Datastream's statistics.
"""

from __future__ import annotations

import argparse
import copy
import json
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
from harness import (
    START,
    TOKEN,
    backends,
    create_database,
    drop_database,
    floor_insert,
    hub_env,
    open_store,
    serve_command,
    start_server,
    stop,
)
from mqtt_bench import (
    Counter,
    disconnect,
    publish_pipelined,
    start_mosquitto,
    subscribe,
)
from paho.mqtt.enums import CallbackAPIVersion

from cityhub.lorawan import registry
from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store

FIXTURE = Path(__file__).parent.parent / "tests" / "fixtures" / "lorawan" / "tts_uplink_mqtt.json"
FIELDS = ("temperature", "humidity", "battery")
APPLICATION = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--uplinks", type=int, default=30000)
    parser.add_argument("--devices", default="100,2000", help="comma-separated device counts")
    parser.add_argument("--publishers", type=int, default=2)
    args = parser.parse_args()
    for backend in backends(args.backend):
        for devices in (int(n) for n in args.devices.split(",")):
            run(backend, devices, args)


def run(backend: str, devices: int, args: argparse.Namespace) -> None:
    print(f"\n== {backend}, {devices} devices, {args.uplinks} uplinks ==")
    overrides, database = create_database(backend, "lorawan_bench", "cityhub-lorawan-bench-")
    mosquitto = None
    try:
        host, port, mosquitto = start_mosquitto(overrides["data_dir"])
        euis = register(overrides, devices)
        messages = uplinks(euis, args.uplinks)
        write_config(overrides["data_dir"], host, port)
        command, env = [*serve_command(overrides), "--no-mqtt"], hub_env()
        process, base = start_server(command, env)
        try:  # the first start makes the session the broker queues the uplinks for
            wait_until(lambda: subscriber(base).get("subscribed"), "the hub's subscription")
        finally:
            stop(process)
        disconnect(publish_pipelined(host, port, messages, args.publishers))
        process, base = start_server(command, env)
        try:
            rate = measure(base, len(messages))
        finally:
            stop(process)
        stored = count_observations(overrides)
        if stored != len(messages) * len(FIELDS):
            raise SystemExit(f"{stored} Observations stored, {len(messages) * 3} expected")
        floor = paho_floor(host, port, messages, args.publishers)
        database_floor = bulk_floor(overrides, len(messages) * len(FIELDS))
        report("uplinks/s, broker -> stored (3 Observations each)", rate)
        report("  paho QoS 1 subscriber floor, msg/s", floor, rate / floor)
        report("  database bulk floor, Observations/s", database_floor)
        report("  Observations/s stored", rate * 3, rate * 3 / database_floor)
    finally:
        if mosquitto is not None:
            mosquitto.terminate()
            mosquitto.wait(15)
        drop_database(database)


# --- set-up ----------------------------------------------------------------------------------


def register(overrides: dict[str, Any], count: int) -> list[str]:
    """``count`` devices, each with a Thing and a Datastream per field."""
    euis = [f"70B3D57E{index:08X}" for index in range(count)]
    store = open_store(overrides)
    specs = [registry.FieldSpec(name) for name in FIELDS]

    def work(connection: Any) -> None:
        for eui in euis:
            registry.create_device(connection, dev_eui=eui, name=f"dev-{eui}", fields=specs)

    try:
        store.write_blocking(work)
    finally:
        store.close()
    return euis


def uplinks(euis: list[str], count: int) -> list[tuple[str, bytes]]:
    """(topic, TTS v3 uplink) pairs, round robin over the devices, each uplink unique."""
    template = json.loads(FIXTURE.read_text())
    template["end_device_ids"]["application_ids"]["application_id"] = APPLICATION
    messages = []
    for index in range(count):
        eui = euis[index % len(euis)]
        body = copy.deepcopy(template)
        body["end_device_ids"].update(dev_eui=eui, device_id=f"dev-{eui.lower()}")
        up = body["uplink_message"]
        up["f_cnt"] = index // len(euis)
        up["received_at"] = (START + timedelta(seconds=index)).isoformat().replace("+00:00", "Z")
        up["decoded_payload"] = {"temperature": 20 + index % 7, "humidity": 40.5, "battery": 3.6}
        body["correlation_ids"][1] = f"ns:uplink:{uuid.uuid4().hex}"
        topic = f"v3/{APPLICATION}@ttn/devices/dev-{eui.lower()}/up"
        messages.append((topic, json.dumps(body).encode()))
    return messages


def write_config(data_dir: Path, host: str, port: int) -> None:
    (data_dir / "cityhub.toml").write_text(
        f"""
[[lorawan]]
name = "bench"
network = "ttn"
broker_url = "mqtt://{host}:{port}"
topics = ["v3/+/devices/+/up"]
client_id = "cityhub-bench-{uuid.uuid4().hex[:8]}"
"""
    )


# --- measuring -------------------------------------------------------------------------------


def subscriber(base: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    listed = httpx.get(f"{base}/api/admin/lorawan/integrations", headers=headers).json()
    return listed[0].get("subscriber", {})


def measure(base: str, count: int) -> float:
    """Uplinks per second from now (the hub's port answers) until it stored the last one."""
    started, before = time.perf_counter(), handled(subscriber(base))
    progress, last_change = before, time.monotonic()
    while (done := handled(subscriber(base))) < count:
        if done != progress:
            progress, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > 30:
            raise SystemExit(f"only {done} of {count} uplinks handled, no more coming")
        time.sleep(0.2)  # asking costs the hub a request: not too often
    rate = (count - before) / (time.perf_counter() - started)
    counters = subscriber(base)
    if counters["stored"] != count:
        raise SystemExit(f"stored {counters['stored']} of {count}: {counters}")
    return rate


def handled(counters: dict[str, Any]) -> int:
    return sum(counters.get(name, 0) for name in ("stored", "duplicate", "dead", "event"))


def paho_floor(host: str, port: int, messages: list[tuple[str, bytes]], publishers: int) -> float:
    """The same messages queued for one paho QoS 1 subscriber that stores nothing, per
    second from its reconnect until the last one arrived."""
    prefix, client_id = f"floor-{uuid.uuid4().hex[:6]}/", f"floor-{uuid.uuid4().hex[:8]}"
    observer = session_client(host, port, client_id)
    subscribe(observer, f"{prefix}v3/+/devices/+/up")
    disconnect([observer])
    disconnect(publish_pipelined(host, port, [(prefix + t, p) for t, p in messages], publishers))
    observer = session_client(host, port, client_id, connect_now=False)
    counter = Counter(observer)
    counter.expect(len(messages))
    started = time.perf_counter()
    observer.connect(host, port)
    observer.loop_start()
    if not counter.reached.wait(600):
        raise SystemExit(f"the subscriber floor received {counter.count} of {len(messages)}")
    rate = len(messages) / (time.perf_counter() - started)
    disconnect([observer])
    return rate


def session_client(host: str, port: int, client_id: str, connect_now: bool = True) -> paho.Client:
    """A paho client with a persistent session (fixed id, no clean start), as the hub's."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv311,
        clean_session=False,
    )
    if connect_now:
        connected = threading.Event()
        client.on_connect = lambda *_: connected.set()
        client.connect(host, port)
        client.loop_start()
        if not connected.wait(15):
            raise SystemExit(f"cannot connect to the MQTT broker at {host}:{port}")
    return client


def count_observations(overrides: dict[str, Any]) -> int:
    store = Store(load_settings(overrides, environ={}))
    try:
        return store.read_blocking(
            lambda c: c.exec_driver_sql("SELECT count(*) FROM observations").scalar_one()
        )
    finally:
        store.close()


def bulk_floor(overrides: dict[str, Any], count: int) -> float:
    """Observations per second of one bulk insert into the hub's own database."""
    store = Store(load_settings(overrides, environ={}))
    try:
        datastream, feature = store.read_blocking(
            lambda c: c.exec_driver_sql(
                "SELECT datastream_id, feature_of_interest_id FROM observations LIMIT 1"
            ).one()
        )
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
        started = time.perf_counter()
        floor_insert(store, schema.observations, rows)
        return count / (time.perf_counter() - started)
    finally:
        store.close()


def wait_until(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def report(label: str, figure: float, ratio: float | None = None) -> None:
    """One line: the figure and, beside a floor, the measured figure's ratio to it."""
    shown = f"{figure:10.0f}"
    print(f"  {label:<58}{shown}" + (f"   ratio {ratio:.2f}" if ratio is not None else ""))


if __name__ == "__main__":
    main()
