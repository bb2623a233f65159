"""One typed settings object.

Precedence, lowest first: defaults < ``cityhub.toml`` (in the data dir, or ``--config``) <
environment variables ``CITYHUB_<NAME>`` < command-line flags. Nothing is read at import time:
``load_settings`` is called by the CLI, the tests and production alike.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from cityhub.connectors.config import ConnectorConfig, check_connector_name
from cityhub.digits import is_digits
from cityhub.lorawan.config import LorawanIntegration, unique_names
from cityhub.plain import check_web_address

ENV_PREFIX = "CITYHUB_"
CONFIG_FILE_NAME = "cityhub.toml"


class SettingsError(Exception):
    """A setting has a value that cannot be used; the message names the setting and its source."""


class Settings(BaseModel):
    """Every setting of the hub, with its default and what it is for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(
        Path("cityhub-data"),
        description="Folder for the embedded database and other local state; created if missing.",
    )
    database_url: str | None = Field(
        None,
        description="Database URL, e.g. postgresql://user@host/db. "
        "Default: a SQLite file cityhub.sqlite3 in the data dir.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8000, ge=0, le=65535, description="HTTP port; 0 picks a free port.")
    base_url: str | None = Field(
        None,
        description="Public URL of the hub (e.g. https://daten.example.de) used in links; "
        "default: taken from each request.",
    )
    admin_token: SecretStr | None = Field(
        None,
        description="A token accepted with the admin role, so automation can bootstrap "
        "without a prompt. Set it through CITYHUB_ADMIN_TOKEN rather than the file.",
    )
    default_top: int = Field(
        100, ge=1, description="Page size of a collection when the client gives no $top."
    )
    max_top: int = Field(
        1000, ge=1, description="Largest page a client may ask for; larger $top is capped."
    )
    max_aggregate_buckets: int = Field(
        10000,
        ge=1,
        description="Most time buckets one aggregation request may span (its range divided by "
        "its interval); pages of them follow $top like any collection.",
    )
    max_concurrent_downloads: int = Field(
        8,
        ge=1,
        le=16,
        description="Bulk downloads streamed at once. Each holds a database connection for as "
        "long as its client reads, so the rest of the 24 are kept for the APIs; one more is a "
        "503 with Retry-After.",
    )
    max_body_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )
    write_batch_max: int = Field(
        512,
        ge=1,
        description="Most write requests committed together in one transaction (group commit).",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL",
        description="SQLite durability: FULL survives power loss; NORMAL only process crashes.",
    )
    sqlite_cache_mb: int = Field(64, ge=2, description="SQLite page cache per connection, MiB.")
    token_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a verified token is remembered; a revoked token stops working "
        "after at most this long.",
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Web origins whose browser apps may call the API (CORS); [] turns it off. "
        "Writes still need a token, which browsers never send on their own.",
    )
    mqtt_enabled: bool = Field(
        True,
        description="Run the MQTT face (clause 14: create Observations, receive updates); "
        "false turns it off (flag --no-mqtt).",
    )
    mqtt_port: int = Field(
        1883,
        ge=1,
        le=65535,
        description="Port of the embedded MQTT broker, which listens on the HTTP host. "
        "Not used with mqtt_url.",
    )
    mqtt_url: str | None = Field(
        None,
        description="External broker instead of the embedded one, e.g. "
        "mqtt://user:pass@broker:1883 or mqtts://broker:8883 (TLS).",
    )
    mqtt_public_url: str | None = Field(
        None,
        description="Broker address announced to clients in the service root; default: the "
        "embedded broker on the request's host, or mqtt_url without credentials.",
    )
    mqtt_topic_prefix: str = Field(
        "",
        description="Prefix of every topic the hub uses (e.g. 'city-a/'), so several hubs "
        "can share one broker.",
    )
    mqtt_client_id: str | None = Field(
        None,
        description="MQTT client id of this hub process; must differ between processes on "
        "one broker. Default: cityhub-<host name>-<HTTP port>.",
    )
    mqtt_shared_group: str = Field(
        "cityhub",
        description="Shared-subscription group ($share/<group>/…) in which hub processes on "
        "an external broker divide the published creates; '' subscribes plainly.",
    )
    mqtt_notify_qos: int = Field(
        1, ge=0, le=2, description="QoS with which the hub publishes notifications."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the server."
    )
    connectors: dict[str, ConnectorConfig] = Field(
        default_factory=dict,
        description="Connectors by name, [connectors.<name>] tables with type, url(s), "
        "dataset, every or cron, and options of the type (see docs/connectors.md).",
    )
    connectors_in_serve: bool = Field(
        True,
        description="Run due connectors inside `cityhub serve`; false when `cityhub worker` "
        "processes run them.",
    )
    connector_timeout_seconds: float = Field(
        600, gt=0, description="Longest a connector run may take before it counts as failed."
    )
    http_contact: str | None = Field(
        None,
        description="Contact (e-mail or URL) sent in the User-Agent of connector requests, "
        "so source operators can reach the hub's operator.",
    )
    http_proxy: str | None = Field(
        None, description="Proxy for connector requests, e.g. http://proxy.stadt.de:8080."
    )
    http_timeout_seconds: float = Field(
        30, gt=0, description="Timeout of one connector request (connect, read, write), seconds."
    )
    http_retries: int = Field(
        3,
        ge=0,
        le=10,
        description="Retries of a connector request after a network error, 429 or 5xx, with "
        "exponential backoff (Retry-After honoured).",
    )
    max_import_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024,
        description="Largest file accepted by the admin API's feature import, in bytes.",
    )

    @field_validator("connectors")
    @classmethod
    def _connector_names(cls, value: dict[str, ConnectorConfig]) -> dict[str, ConnectorConfig]:
        for name in value:
            check_connector_name(name)
        return value

    lorawan: list[LorawanIntegration] = Field(
        default_factory=list,
        description="LoRaWAN network server integrations, one [[lorawan]] table each "
        "(docs/lorawan.md).",
    )

    lorawan_uplink_days: int = Field(
        90,
        ge=0,
        description="Days a stored LoRaWAN uplink (its deduplication key and radio metadata) "
        "is kept; 0 keeps them all. Must exceed any redelivery a network server may do.",
    )

    city_name: str = Field(
        "", description="Name of the city or region, shown in the portal's titles (e.g. Solingen)."
    )
    map_tiles: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Raster base map of the portal, a tile URL template with {z}/{x}/{y} "
        "(and {s}); '' shows no tiles (e.g. inside a data centre without internet).",
    )
    map_attribution: str = Field(
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
        description="Attribution of the base map (HTML, shown on the map).",
    )
    map_base_collection: str = Field(
        "",
        description="Slug of a feature collection drawn as a vector base map under the layers "
        "(e.g. district outlines); works without any tile server.",
    )
    map_center: tuple[float, float] = Field(
        (51.1712, 7.0845), description="Where the portal map opens: [latitude, longitude]."
    )
    map_zoom: int = Field(13, ge=1, le=19, description="Zoom level the portal map opens at.")
    portal_screen: str = Field(
        "",
        description="Slug of an information screen whose weather, UV index, water level and "
        "air quality tiles the portal shows as today's figures (page /nearby); '' shows none.",
    )
    time_zone: str = Field(
        "Europe/Berlin",
        description="The city's IANA time zone: times on the portal and the screens, the days "
        "of charts, the screens' 'today' and clock.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin"
            ) from None
        return value

    screen_heartbeat_seconds: int = Field(
        60,
        ge=5,
        description="How often an information screen reports that it is alive; one silent "
        "for three times as long is listed as silent.",
    )

    catalog_title: str = Field(
        "",
        description="Title of the open-data catalog (DCAT-AP.de, CKAN API); default: "
        "'Offene Daten <city_name>'.",
    )
    catalog_description: str = Field(
        "", description="Description of the open-data catalog; default: a sentence naming the city."
    )
    catalog_publisher_name: str = Field(
        "",
        description="Who publishes the catalog (dct:publisher), and every dataset without an "
        "organization; default: city_name.",
    )
    catalog_publisher_uri: str | None = Field(
        None,
        description="IRI of the catalog's publisher (e.g. the city's entry in a register); "
        "default: an anonymous agent.",
    )
    catalog_homepage: str | None = Field(
        None, description="Homepage of the catalog (foaf:homepage); default: the hub's portal."
    )
    catalog_language: str = Field(
        "DEU",
        description="Language of the catalog's metadata, an EU language authority code "
        "(DEU, ENG, …).",
    )
    catalog_licence: str = Field(
        "dl-zero-de/2.0",
        description="Licence of the catalog's metadata: a DCAT-AP.de licence key or URI.",
    )

    @field_validator("catalog_publisher_uri", "catalog_homepage", "contributor_id")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        return check_web_address(value) if value else value

    @field_validator("catalog_licence")
    @classmethod
    def _known_licence(cls, value: str) -> str:
        # Imported here: the datasets package imports the store, which imports the settings.
        from cityhub.datasets.vocabularies import licence_uri

        licence_uri(value)  # ValueError naming the licences allowed
        return value

    catalog_page_size: int = Field(
        100,
        ge=1,
        le=1000,
        description="Datasets on one page of the DCAT catalog (Hydra paging); ?page_size= may "
        "ask for up to 1000.",
    )
    municipality_key: str = Field(
        "",
        description="Amtlicher Gemeindeschlüssel (8 digits) or Regionalschlüssel (12 digits) "
        "of the city: dcatde:politicalGeocodingURI of every dataset; '' leaves it out.",
    )

    @field_validator("municipality_key")
    @classmethod
    def _key_digits(cls, value: str) -> str:
        if value and not (is_digits(value) and len(value) in (8, 12)):
            raise ValueError(
                "a municipality key is 8 digits (Gemeindeschlüssel, e.g. 05122000) or 12 "
                "(Regionalschlüssel, e.g. 051220000000)"
            )
        return value

    contributor_id: str = Field(
        "",
        description="dcatde:contributorID: the GovData contributor URI of the city, e.g. "
        "http://dcat-ap.de/def/contributors/<name>; '' leaves it out.",
    )

    @field_validator("lorawan")
    @classmethod
    def _unique_integrations(cls, value: list[LorawanIntegration]) -> list[LorawanIntegration]:
        return unique_names(value)

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use: the configured one or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cityhub.sqlite3').resolve()}"


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from defaults, the config file, the environment and ``overrides``.

    ``overrides`` are the command-line flags; ``None`` values count as not given.
    """
    environ = os.environ if environ is None else environ
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    from_env = _from_environment(environ)
    data_dir = Path(flags.get("data_dir") or from_env.get("data_dir") or "cityhub-data")
    path = config_file or _env_config_path(environ) or data_dir / CONFIG_FILE_NAME
    from_file = _from_file(path, explicit=config_file is not None or "config" in _env_keys(environ))
    layers = (("config file " + str(path), from_file), ("environment", from_env), ("flags", flags))
    merged: dict[str, Any] = {}
    for _, layer in layers:
        merged.update(layer)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, layers)) from None


def describe_settings() -> list[tuple[str, str, str]]:
    """(name, default, help) of every setting, for documentation and ``cityhub config``."""
    rows = []
    for name, field in Settings.model_fields.items():
        value = field.get_default(call_default_factory=True)
        default = "" if value is None else str(value)
        rows.append((name, default, field.description or ""))
    return rows


def _env_keys(environ: Mapping[str, str]) -> set[str]:
    return {k[len(ENV_PREFIX) :].lower() for k in environ if k.startswith(ENV_PREFIX)}


def _env_config_path(environ: Mapping[str, str]) -> Path | None:
    value = environ.get(ENV_PREFIX + "CONFIG")
    return Path(value) if value else None


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        is_structured = field.annotation not in (str, int, float, bool, Path) and raw[:1] in "[{"
        values[name] = orjson.loads(raw) if is_structured else raw
    return values


def _from_file(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise SettingsError(f"Config file {path} does not exist.")
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"Config file {path} is not valid TOML: {exc}") from None


def _explain(exc: ValidationError, layers: tuple[tuple[str, dict[str, Any]], ...]) -> str:
    lines = ["Invalid settings:"]
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"])
        top = str(error["loc"][0]) if error["loc"] else name
        source = next((label for label, layer in reversed(layers) if top in layer), "default")
        if source == "environment":
            source = f"environment variable {ENV_PREFIX}{name.upper()}"
        lines.append(f"- {name} (from {source}): {error['msg']}")
    return "\n".join(lines)
