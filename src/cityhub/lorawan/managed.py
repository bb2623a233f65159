"""The effective LoRaWAN integrations: ``[[lorawan]]`` entries of ``cityhub.toml`` (read-only
through the API) and integrations created through the admin API (kept in the database).

A name in the file wins over the same name in the database. Secrets stay out of the
database as they stay out of the file: ``password_env`` and ``secret_env`` name environment
variables of the hub's processes, and a broker URL holding a password is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import Connection

from cityhub.datasets.fields import checked
from cityhub.errors import BadRequest
from cityhub.lorawan.config import LorawanIntegration
from cityhub.settings import Settings
from cityhub.store import managed, schema

log = logging.getLogger(__name__)

Source = Literal["file", "api"]
WHAT = "LoRaWAN integration"


@dataclass(frozen=True, slots=True)
class Configured:
    integration: LorawanIntegration
    source: Source


def file_integrations(settings: Settings) -> list[Configured]:
    return [Configured(integration, "file") for integration in settings.lorawan]


def effective_integrations(connection: Connection, settings: Settings) -> list[Configured]:
    """Every integration this hub serves: the file's in their order, then the database's."""
    found = file_integrations(settings)
    in_file = {entry.integration.name for entry in found}
    stored = managed.documents(connection, schema.lorawan_integrations)
    for name, document in stored.items():
        if name in in_file:
            continue
        try:
            found.append(Configured(LorawanIntegration.model_validate(document), "api"))
        except ValidationError as exc:  # stored by an older version with other rules
            log.warning("LoRaWAN integration %s in the database is ignored: %s", name, exc)
    return found


def checked_document(name: str, body: Any) -> dict[str, Any]:
    """The body of a POST or PUT as the document to store; 400 naming what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with the fields of a [[lorawan]] entry")
    if body.get("name", name) != name:
        raise BadRequest(f"name: the body names {body['name']!r}, the URL {name!r}")
    integration: LorawanIntegration = checked(
        LorawanIntegration, {**body, "name": name}, "integration"
    )
    if integration.broker_url and managed.url_password(integration.broker_url):
        raise BadRequest(
            "broker_url: the URL holds a password, which would be stored in the database; "
            "name the environment variable holding it in password_env instead"
        )
    return integration.model_dump(mode="json", exclude_unset=True)


def describe(configured: Configured) -> dict[str, Any]:
    """An entry as the admin API shows it (no secrets), and where it comes from."""
    return {**configured.integration.describe(), "source": configured.source}
