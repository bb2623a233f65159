"""The effective connectors: ``[connectors.<name>]`` tables of ``cityhub.toml`` (read-only
through the API) and connectors created through the admin API (kept in the database).

A name in the file wins over the same name in the database. Every process re-reads the
database entries at each scheduling tick and on each admin or command call, so a change
made anywhere takes effect everywhere without a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import Connection

from cityhub.connectors import registry
from cityhub.connectors.base import ConnectorError
from cityhub.connectors.config import ConnectorConfig, check_connector_name
from cityhub.datasets.fields import checked
from cityhub.errors import BadRequest
from cityhub.settings import Settings
from cityhub.store import managed, schema

log = logging.getLogger("cityhub.connectors")

Source = Literal["file", "api"]
WHAT = "connector"


@dataclass(frozen=True, slots=True)
class Configured:
    config: ConnectorConfig
    source: Source


def file_connectors(settings: Settings) -> dict[str, Configured]:
    return {name: Configured(config, "file") for name, config in settings.connectors.items()}


def effective_connectors(connection: Connection, settings: Settings) -> dict[str, Configured]:
    """Every connector this hub runs, by name: the file's, then the database's."""
    found = file_connectors(settings)
    stored = managed.documents(connection, schema.connector_configs)
    for name, document in stored.items():
        if name in found:
            continue
        try:
            found[name] = Configured(ConnectorConfig.model_validate(document), "api")
        except ValidationError as exc:  # stored by an older version with other rules
            log.warning("connector %s in the database is invalid and ignored: %s", name, exc)
    return dict(sorted(found.items()))


def checked_document(name: str, body: Any) -> dict[str, Any]:
    """The body of a POST or PUT as the document to store; 400 naming what is wrong."""
    try:
        check_connector_name(name)
    except ValueError as exc:
        raise BadRequest(f"name: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with the fields of [connectors.<name>]")
    config: ConnectorConfig = checked(ConnectorConfig, body, WHAT)
    for index, url in enumerate([config.url, *config.urls]):
        managed.check_url_has_no_password("url" if index == 0 else f"urls.{index - 1}", url)
    try:
        kind = registry.connector_class(config.type)
    except ConnectorError as exc:
        raise BadRequest(f"type: {exc}") from None
    try:
        kind(name, config)
    except ConnectorError as exc:
        raise BadRequest(str(exc)) from None
    return config.model_dump(mode="json", exclude_unset=True)


def describe(name: str, configured: Configured) -> dict[str, Any]:
    """An entry as the admin API shows it: the fields as configured, and where from."""
    document = configured.config.model_dump(mode="json", exclude_unset=True)
    return {"name": name, "source": configured.source, **document}
