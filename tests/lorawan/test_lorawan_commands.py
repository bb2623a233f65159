"""``cityhub lorawan``, ``cityhub device`` and ``cityhub deadletter`` on a hub's SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from cityhub.cli import main
from cityhub.lorawan.ingest import LorawanIngest, Received
from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store

from .helpers import FIXTURES, TTS_EUI

CONFIG = """
[[lorawan]]
name = "ttn-city"
network = "ttn"
broker_url = "mqtts://solingen-air@eu1.cloud.thethings.network:8883"
password_env = "TTN_API_KEY"
secret_env = "TTN_WEBHOOK_SECRET"
dataset = "umwelt"
auto_provision = true

[[lorawan]]
name = "chirpstack"
network = "chirpstack"
secret_env = "CS_SECRET"
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "cityhub.toml").write_text(CONFIG)
    return tmp_path


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)


def _receive(data_dir: Path, *bodies: bytes) -> list[str]:
    """Messages received by the hub of ``data_dir`` (as its webhook would receive them)."""
    settings = load_settings({"data_dir": data_dir}, environ={})
    store = Store(settings)
    store.migrate()
    try:
        core = LorawanIngest(store, settings.lorawan)
        outcomes = store.write_blocking(core.batch([Received("ttn-city", b) for b in bodies]))
        return [outcome.status for outcome in outcomes]
    finally:
        store.close()


def _observation_count(data_dir: Path) -> int:
    store = Store(load_settings({"data_dir": data_dir}, environ={}))
    try:
        return store.read_blocking(
            lambda c: c.scalar(select(func.count()).select_from(schema.observations))
        )
    finally:
        store.close()


def test_lorawan_list_shows_the_integrations_without_secrets(data_dir: Path, monkeypatch):
    monkeypatch.setenv("TTN_API_KEY", "NNSXS.SECRET")
    listed = run(data_dir, "lorawan", "list")
    assert listed.exit_code == 0, listed.output
    assert "ttn-city  (ttn)" in listed.output
    assert (
        "mqtts://solingen-air@eu1.cloud.thethings.network:8883  v3/+/devices/+/up" in listed.output
    )
    assert "POST /ingest/lorawan/ttn-city" in listed.output
    assert "dataset:  umwelt  auto-provisioning: on" in listed.output
    assert "chirpstack  (chirpstack)" in listed.output
    assert "SECRET" not in listed.output


def test_lorawan_list_without_integrations_says_how_to_add_one(tmp_path: Path):
    assert "[[lorawan]]" in run(tmp_path, "lorawan", "list").output


def test_a_device_is_added_listed_shown_and_removed(data_dir: Path):
    added = run(
        data_dir,
        "device", "add", TTS_EUI.lower(),
        "--name", "co2-schule",
        "--decoder", "elsys",
        "--integration", "ttn-city",
        "--location", "7.0845,51.1714",
        "--field", "co2", "--field", "temperature",
        "--range", "temperature=-40:85",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert f"Registered {TTS_EUI} as Thing(1)" in added.output
    assert "co2 -> Datastream(1)" in added.output
    listed = run(data_dir, "device", "list").output
    assert f"{TTS_EUI}  co2-schule  decoder elsys  Thing(1)" in listed
    shown = json.loads(run(data_dir, "device", "show", TTS_EUI).output)
    assert shown["mapping"] == {"co2": 1, "temperature": 2}
    assert shown["location"] == {"type": "Point", "coordinates": [7.0845, 51.1714]}
    again = run(data_dir, "device", "add", TTS_EUI)
    assert again.exit_code == 1
    assert "registered already" in again.output
    assert run(data_dir, "device", "remove", TTS_EUI).exit_code == 0
    assert "No devices registered" in run(data_dir, "device", "list").output
    assert run(data_dir, "device", "show", TTS_EUI).exit_code == 1


def test_bad_device_options_are_clear_errors(data_dir: Path):
    bad_eui = run(data_dir, "device", "add", "12345")
    assert bad_eui.exit_code == 1
    assert "not a DevEUI" in bad_eui.output
    bad_range = run(data_dir, "device", "add", TTS_EUI, "--field", "t", "--range", "t=a:b")
    assert bad_range.exit_code == 2
    assert "NAME=LOW:HIGH" in bad_range.output
    bad_decoder = run(data_dir, "device", "add", TTS_EUI, "--decoder", "acme")
    assert "unknown decoder 'acme'" in bad_decoder.output


def test_dead_letters_are_listed_shown_retried_and_dropped(data_dir: Path):
    uplink = (FIXTURES / "tts_uplink_mqtt.json").read_bytes()
    assert _receive(data_dir, uplink, b"not json") == ["dead", "dead"]
    listed = run(data_dir, "deadletter", "list").output.splitlines()
    assert len(listed) == 2
    assert "malformed: not JSON" in listed[0]
    assert (
        f"ttn-city  {TTS_EUI}  x1  unknown device {TTS_EUI}: auto-provisioning failed: "
        in (listed[1])
    )
    assert "no dataset 'umwelt'" in listed[1]
    shown = json.loads(run(data_dir, "deadletter", "show", "1").output)
    assert json.loads(shown["payload"])["uplink_message"]["f_cnt"] == 4711

    failed = run(data_dir, "deadletter", "retry", "1")
    assert failed.exit_code == 1
    assert "1: dead: unknown device" in failed.output
    assert "x2" in run(data_dir, "deadletter", "list").output

    run(data_dir, "device", "add", TTS_EUI, "--field", "temperature", "--field", "humidity")
    retried = run(data_dir, "deadletter", "retry", "1")
    assert retried.exit_code == 0, retried.output
    assert retried.output.strip() == "1: stored"
    assert _observation_count(data_dir) == 2
    assert run(data_dir, "deadletter", "show", "1").exit_code == 1

    assert run(data_dir, "deadletter", "retry").exit_code == 2
    assert run(data_dir, "deadletter", "drop", "2").exit_code == 0
    assert "No dead letters." in run(data_dir, "deadletter", "list").output
    assert run(data_dir, "deadletter", "drop", "2").exit_code == 1
