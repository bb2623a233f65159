"""``[[lorawan]]`` in ``cityhub.toml``: one entry per network server application the hub
takes uplinks from, over MQTT (``broker_url``), a webhook (``secret_env``), or both.

Secrets are named, not written: ``password_env`` and ``secret_env`` name environment
variables, read when the integration starts (``password``, ``secret``), so the file can be
shared and committed.
"""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cityhub.lorawan.uplink import Network

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
#: The header a webhook carries the integration's secret in.
SECRET_HEADER = "X-Cityhub-Secret"


class IntegrationError(ValueError):
    """An integration cannot run as configured; the message says what to set."""


class LorawanIntegration(BaseModel):
    """One network server application connected to the hub."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Short name: in the webhook URL, dead letters and messages.")
    network: Network = Field(description="ttn (The Things Stack v3), chirpstack, chirpstack3.")
    broker_url: str | None = Field(
        None,
        description="The network server's MQTT broker, mqtt://host:1883 or mqtts://host:8883 "
        "(TLS); a user name may be given in the URL. None: webhook only.",
    )
    username: str | None = Field(None, description="MQTT user name (TTS: the application id).")
    password_env: str | None = Field(
        None, description="Environment variable holding the MQTT password (TTS: an API key)."
    )
    ca_file: str | None = Field(
        None, description="CA certificates (PEM) to verify the broker; default: the system's."
    )
    topics: list[str] | None = Field(
        None, description="MQTT topic filters; default: every event topic of the network."
    )
    client_id: str | None = Field(
        None,
        description="MQTT client id; fixed so the broker keeps the session (and queues "
        "uplinks) while the hub is away. Default: cityhub-lorawan-<name>.",
    )
    qos: Literal[0, 1, 2] = Field(1, description="QoS of the subscriptions.")
    dataset: str | None = Field(
        None, description="Dataset (slug) auto-provisioned Things are published in."
    )
    auto_provision: bool = Field(
        False,
        description="Create a Thing and Datastreams for an unknown device whose uplink "
        "carries decoded values; off: such uplinks become dead letters.",
    )
    decoder: str | None = Field(
        None, description="Decoder of auto-provisioned devices when the network decodes nothing."
    )
    secret_env: str | None = Field(
        None,
        description=f"Environment variable holding the webhook secret, sent in {SECRET_HEADER}. "
        "None: no webhook.",
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError("use lower-case letters, digits, '-' and '_', e.g. 'ttn-city'")
        return value

    @model_validator(mode="after")
    def _check_broker(self) -> LorawanIntegration:
        if self.broker_url is not None:
            from cityhub.mqtt.client import BrokerUrlError, parse_broker_url

            try:
                parse_broker_url(self.broker_url)
            except BrokerUrlError as exc:
                raise ValueError(str(exc).replace("mqtt_url", "broker_url")) from None
        return self

    @property
    def topic_filters(self) -> list[str]:
        from cityhub.lorawan.formats import default_topics

        return list(self.topics) if self.topics else default_topics(self.network)

    @property
    def mqtt_client_id(self) -> str:
        return self.client_id or f"cityhub-lorawan-{self.name}"

    def password(self) -> str | None:
        """The MQTT password from ``password_env``; an error if that variable is unset."""
        return _from_env(self.password_env, f"lorawan {self.name}: password_env")

    def secret(self) -> str | None:
        """The webhook secret from ``secret_env`` (``None``: no webhook)."""
        return _from_env(self.secret_env, f"lorawan {self.name}: secret_env")

    def describe(self) -> dict[str, object]:
        """What ``cityhub lorawan list`` and the admin API show: everything but secrets."""
        return {
            "name": self.name,
            "network": self.network,
            "mqtt": self.broker_url is not None,
            "broker": _without_password(self.broker_url),
            "topics": self.topic_filters if self.broker_url else [],
            "webhook": f"/ingest/lorawan/{self.name}" if self.secret_env else None,
            "dataset": self.dataset,
            "auto_provision": self.auto_provision,
            "decoder": self.decoder,
        }


def _from_env(variable: str | None, setting: str) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise IntegrationError(f"{setting} names the environment variable {variable}; set it")
    return value


def _without_password(url: str | None) -> str | None:
    if url is None:
        return None
    from cityhub.mqtt.client import parse_broker_url

    address = parse_broker_url(url)
    user = f"{address.username}@" if address.username else ""
    return address.public.replace("://", f"://{user}", 1)


def unique_names(integrations: list[LorawanIntegration]) -> list[LorawanIntegration]:
    names = [i.name for i in integrations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"more than one [[lorawan]] entry named {', '.join(duplicates)}")
    return integrations
