"""The configuration of one connector, ``[connectors.<name>]`` in ``cityhub.toml``.

Kept free of other cityhub imports: the settings object embeds it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_DURATION_PART = re.compile(r"(\d+)\s*(s|m|h|d)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"5m"``, ``"1h30m"``, ``"1d"`` as a time span; ``ValueError`` otherwise."""
    compact = text.strip().lower()
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact.replace(" ", ""):
        raise ValueError(f"'{text}' is not a duration like '30s', '5m', '1h' or '1h30m'")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"'{text}' must be longer than zero")
    return timedelta(seconds=seconds)


class ConnectorConfig(BaseModel):
    """What to fetch, where to put it and when. Keys not named here are options of the
    connector's type (``options``), checked by the connector itself."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(
        description="Built-in connector name (e.g. 'pegelonline'), 'module:Class', or the name "
        "of an entry point in the group 'cityhub.connectors'."
    )
    url: str | None = Field(None, description="The source URL; default: the connector's own.")
    urls: list[str] = Field(default_factory=list, description="Several source URLs.")
    dataset: str | None = Field(
        None, description="Slug of the dataset to fill; default: the connector's name."
    )
    collection: str | None = Field(
        None, description="Slug of the feature collection of places; default: the dataset's."
    )
    collection_title: str | None = Field(
        None,
        description="Title of the feature collection when the connector makes it (as the "
        "portal's map layer and the APIs name it); default: the type's own.",
    )
    every: str | None = Field(None, description="Run at this interval, e.g. '5m' or '1h'.")
    cron: str | None = Field(None, description="Run on this cron schedule, e.g. '*/10 * * * *'.")
    enabled: bool = Field(True, description="false keeps the connector configured but idle.")

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(
                f"'{value}' is not a cron expression (five fields: minute hour day month "
                "weekday, e.g. '*/10 * * * *')"
            )
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> ConnectorConfig:
        if self.every is not None and self.cron is not None:
            raise ValueError("give either 'every' or 'cron', not both")
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The type-specific keys."""
        return dict(self.model_extra or {})

    @property
    def scheduled(self) -> bool:
        return self.enabled and (self.every is not None or self.cron is not None)

    def source_urls(self, default: str | None = None) -> list[str]:
        """The URLs to fetch: ``url`` and ``urls``, or the connector's default."""
        urls = ([self.url] if self.url else []) + list(self.urls)
        return urls or ([default] if default else [])

    def next_run(self, after: datetime) -> datetime:
        """The first scheduled time after ``after`` (an aware UTC datetime)."""
        if self.cron is not None:
            return croniter(self.cron, after).get_next(datetime)
        if self.every is not None:
            return after + parse_duration(self.every)
        raise ValueError("the connector has no schedule ('every' or 'cron')")


def check_connector_name(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(
            f"connector name '{name}' must be lower-case letters, digits, '-' or '_' "
            "(at most 63, starting with a letter or digit)"
        )
    return name
