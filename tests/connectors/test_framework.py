"""Configuration and the registry of connector types."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.connectors.helpers import Pause

from cityhub.connectors import registry
from cityhub.connectors.base import ConnectorError
from cityhub.connectors.config import ConnectorConfig, parse_duration
from cityhub.connectors.pegelonline import Pegelonline
from cityhub.settings import SettingsError, load_settings


def _load(tmp_path: Path, text: str):
    path = tmp_path / "cityhub.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(config_file=path, environ={})


def test_connectors_are_configured_in_cityhub_toml(tmp_path):
    settings = _load(
        tmp_path,
        """
[connectors.pegel]
type = "pegelonline"
dataset = "wasser"
every = "15m"
waters = ["RHEIN", "WUPPER"]

[connectors.parken]
type = "parkapi"
url = "https://api.parkendd.de/Dresden"
cron = "*/10 * * * *"
""",
    )
    pegel = settings.connectors["pegel"]
    assert pegel.options == {"waters": ["RHEIN", "WUPPER"]}
    assert pegel.dataset == "wasser"
    assert pegel.scheduled
    assert settings.connectors["parken"].source_urls() == ["https://api.parkendd.de/Dresden"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('type = "pegelonline"\nevery = "5x"', "connectors.pegel.every (from config file"),
        ('type = "pegelonline"\ncron = "every ten minutes"', "is not a cron expression"),
        ('type = "pegelonline"\nevery = "5m"\ncron = "* * * * *"', "either 'every' or 'cron'"),
        ('every = "5m"', "connectors.pegel.type"),
    ],
)
def test_bad_connector_settings_say_what_and_where(tmp_path, table, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        _load(tmp_path, f"[connectors.pegel]\n{table}\n")


def test_connector_names_are_checked(tmp_path):
    with pytest.raises(SettingsError, match="connector name 'Mein Pegel'"):
        _load(tmp_path, '[connectors."Mein Pegel"]\ntype = "pegelonline"\n')


def test_connectors_come_from_the_environment_as_json():
    environ = {"CITYHUB_CONNECTORS": '{"pegel": {"type": "pegelonline", "every": "1h"}}'}
    assert load_settings(environ=environ).connectors["pegel"].every == "1h"


def test_durations():
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("90s").total_seconds() == 90
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("5 minutes")


def test_types_by_short_name_dotted_path_and_entry_point(monkeypatch):
    assert registry.connector_class("pegelonline") is Pegelonline
    assert registry.connector_class("tests.connectors.helpers:Pause") is Pause

    class EntryPoint:
        def load(self):
            return Pause

    def entry_points(group: str, name: str):
        assert group == "cityhub.connectors"
        return [EntryPoint()] if name == "stadtwerke" else []

    monkeypatch.setattr(registry, "entry_points", entry_points)
    assert registry.connector_class("stadtwerke") is Pause
    with pytest.raises(ConnectorError, match=r"unknown connector type 'wetter'.*pegelonline"):
        registry.connector_class("wetter")


@pytest.mark.parametrize(
    ("type_name", "message"),
    [
        ("cityhub.nothing_here:Connector", "cannot import cityhub.nothing_here"),
        ("cityhub.connectors.base:Nothing", "has no Nothing"),
        ("cityhub.connectors.base:RunSummary", "is not a subclass"),
    ],
)
def test_bad_dotted_paths_say_what_is_wrong(type_name, message):
    with pytest.raises(ConnectorError, match=message):
        registry.build("x", ConnectorConfig.model_validate({"type": type_name}))
