"""``[[lorawan]]`` settings: defaults per network, secrets from the environment, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityhub.lorawan.config import IntegrationError, LorawanIntegration
from cityhub.settings import SettingsError, load_settings


def _settings(tmp_path: Path, toml: str, environ: dict[str, str] | None = None):
    (tmp_path / "cityhub.toml").write_text(toml)
    return load_settings({"data_dir": tmp_path}, environ=environ or {})


def test_integrations_come_from_the_file_with_defaults_per_network(tmp_path: Path):
    settings = _settings(
        tmp_path,
        """
[[lorawan]]
name = "ttn"
network = "ttn"
broker_url = "mqtts://eu1.cloud.thethings.network:8883"

[[lorawan]]
name = "cs"
network = "chirpstack"
broker_url = "mqtt://user@chirpstack.local"
""",
    )
    ttn, chirpstack = settings.lorawan
    assert ttn.topic_filters[0] == "v3/+/devices/+/up"
    assert ttn.mqtt_client_id == "cityhub-lorawan-ttn"
    assert ttn.qos == 1
    assert not ttn.auto_provision
    assert chirpstack.topic_filters == ["application/+/device/+/event/+"]
    assert chirpstack.describe()["broker"] == "mqtt://user@chirpstack.local:1883"
    assert chirpstack.describe()["webhook"] is None


def test_integrations_can_come_from_the_environment(tmp_path: Path):
    environ = {"CITYHUB_LORAWAN": '[{"name": "cs3", "network": "chirpstack3"}]'}
    settings = load_settings({"data_dir": tmp_path}, environ=environ)
    assert settings.lorawan[0].topic_filters == [
        "application/+/device/+/rx",
        "application/+/device/+/event/+",
    ]


def test_secrets_are_read_from_the_variables_named(monkeypatch):
    integration = LorawanIntegration(
        name="ttn", network="ttn", password_env="LW_PASSWORD", secret_env="LW_SECRET"
    )
    monkeypatch.setenv("LW_PASSWORD", "NNSXS.KEY")
    monkeypatch.setenv("LW_SECRET", "s3cret")
    assert integration.password() == "NNSXS.KEY"
    assert integration.secret() == "s3cret"
    monkeypatch.delenv("LW_SECRET")
    with pytest.raises(IntegrationError, match="set it"):
        integration.secret()
    assert "NNSXS" not in str(integration.describe())


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[lorawan]]\nname = "A B"\nnetwork = "ttn"', "lorawan.0.name"),
        ('[[lorawan]]\nname = "x"\nnetwork = "loriot"', "lorawan.0.network"),
        ('[[lorawan]]\nname = "x"\nnetwork = "ttn"\nbroker_url = "http://x"', "broker_url"),
        ('[[lorawan]]\nname = "x"\nnetwork = "ttn"\npasword_env = "P"', "pasword_env"),
        (
            '[[lorawan]]\nname = "x"\nnetwork = "ttn"\n[[lorawan]]\nname = "x"\nnetwork = "ttn"',
            "more than one [[lorawan]] entry named x",
        ),
    ],
)
def test_bad_integrations_are_explained(tmp_path: Path, toml: str, message: str):
    with pytest.raises(SettingsError) as info:
        _settings(tmp_path, toml)
    assert message in str(info.value)


def test_an_integration_that_cannot_start_is_reported_and_the_hub_runs(backend_settings):
    from .helpers import lorawan_hub

    broken = LorawanIntegration(
        name="ttn",
        network="ttn",
        broker_url="mqtt://127.0.0.1:1",
        password_env="CITYHUB_TEST_UNSET_PASSWORD",
    )
    hub = lorawan_hub(backend_settings, broken)
    try:
        listed = hub.get("/api/admin/lorawan/integrations", headers=hub.admin).json()
        assert "CITYHUB_TEST_UNSET_PASSWORD" in listed[0]["problem"]
        assert hub.get("/api/health").json()["status"] == "ok"
    finally:
        hub.close()
