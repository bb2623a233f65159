"""The connector interface and what a connector hands back.

A connector implements ``harvest``: fetch the source through ``context`` and map it into
``Place`` records, each with its measurement ``Series``. The framework writes a harvest in
one transaction (``save``): places as features, each place's series as Datastreams of one
Thing linked from the feature, readings as Observations, nothing twice. A connector with
needs of its own may override ``run`` instead, as long as it returns a ``RunSummary``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from cityhub.connectors.config import ConnectorConfig

if TYPE_CHECKING:
    from cityhub.connectors.context import RunContext

#: SensorThings observation type of a numeric measurement.
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


class ConnectorError(Exception):
    """A connector cannot be built or run as configured; the message says what to change."""


class SourceError(Exception):
    """The source failed: unreachable, an error status, or an error where data should be."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One value at one time. ``quality`` becomes the Observation's resultQuality."""

    time: datetime
    value: float | int | str | bool
    quality: str | None = None
    parameters: dict[str, Any] | None = None


@dataclass(slots=True)
class Series:
    """One measured quantity at a place: a Datastream and its new readings.

    ``key`` identifies it among the place's series across runs (e.g. ``"W"`` for a water
    level); ``unit`` is a SensorThings unitOfMeasurement (name, symbol, definition).
    """

    key: str
    name: str
    unit: dict[str, Any]
    observed_property: dict[str, str]
    description: str = ""
    observation_type: str = MEASUREMENT
    properties: dict[str, Any] = field(default_factory=dict)
    readings: list[Reading] = field(default_factory=list)
    #: The source may revise a value it gave before (forecasts, corrected observations): a
    #: reading at a time already held replaces that Observation's result if it differs.
    revisable: bool = False


@dataclass(slots=True)
class Place:
    """A place of the source: a feature, and a Thing when it has series.

    ``key`` identifies it across runs (the source's own id); ``geometry`` is GeoJSON in
    WGS 84.
    """

    key: str
    name: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    series: list[Series] = field(default_factory=list)


@dataclass(slots=True)
class Harvest:
    """What one run found at ``source``. ``flagged`` counts readings held back as untrue."""

    source: str
    places: list[Place] = field(default_factory=list)
    flagged: int = 0


@dataclass(slots=True)
class RunSummary:
    """What a run changed. ``source_unchanged``: the source answered 304, nothing to do."""

    places_created: int = 0
    places_updated: int = 0
    places_unchanged: int = 0
    places_gone: int = 0
    things_created: int = 0
    datastreams_created: int = 0
    observations_added: int = 0
    observations_known: int = 0
    observations_revised: int = 0
    flagged: int = 0
    source_unchanged: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.places_created,
                self.places_updated,
                self.places_gone,
                self.things_created,
                self.datastreams_created,
                self.observations_added,
                self.observations_revised,
            )
        )

    def describe(self) -> str:
        """One line for people: what changed."""
        if self.source_unchanged:
            return "source unchanged since the last run (HTTP 304)"
        parts = [
            f"places: {self.places_created} new, {self.places_updated} updated, "
            f"{self.places_unchanged} unchanged, {self.places_gone} gone",
            f"observations: {self.observations_added} new, {self.observations_known} known",
        ]
        if self.observations_revised:
            parts[-1] += f", {self.observations_revised} revised by the source"
        if self.things_created or self.datastreams_created:
            parts.append(
                f"{self.things_created} Things and {self.datastreams_created} Datastreams created"
            )
        if self.flagged:
            parts.append(f"{self.flagged} readings flagged and held back")
        return "; ".join(parts)


class Options(BaseModel):
    """Options of a connector type: subclasses declare theirs as fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Connector:
    """A harvester of one kind of source. Subclasses set the class attributes and implement
    ``harvest``; ``options_model`` declares the type's options."""

    #: Where to fetch when the configuration names no URL.
    default_url: ClassVar[str | None] = None
    #: Dataset fields used when the configured dataset does not exist yet; without a licence
    #: the operator has to create the dataset first.
    dataset_defaults: ClassVar[dict[str, Any]] = {}
    #: Title of the collection of places when the connector makes it.
    collection_title: ClassVar[str | None] = None
    options_model: ClassVar[type[Options]] = Options
    #: What to say when the configuration names no source.
    missing_source: ClassVar[str] = "give the source as 'url'"

    def __init__(self, name: str, config: ConnectorConfig) -> None:
        self.name = name
        self.config = config
        try:
            self.options = self.options_model.model_validate(config.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConnectorError(f"connector '{name}': invalid options: {problems}") from None
        if not self.urls:
            raise ConnectorError(f"connector '{name}': {self.missing_source}")

    @property
    def urls(self) -> list[str]:
        return self.config.source_urls(self.default_url)

    @property
    def dataset(self) -> str:
        return self.config.dataset or self.name

    @property
    def collection(self) -> str:
        return self.config.collection or self.dataset

    @property
    def new_collection_title(self) -> str | None:
        """What a collection made by this connector is called."""
        return self.config.collection_title or self.collection_title

    async def run(self, context: RunContext) -> RunSummary:
        harvests = [await self.harvest(context, url) for url in self.urls]
        if all(h is None for h in harvests):
            return RunSummary(source_unchanged=True)
        if any(h is None for h in harvests):
            # Some sources changed: all are needed, or the unchanged ones' places would go.
            context.conditional = False
            pairs = zip(harvests, self.urls, strict=True)
            harvests = [h or await self.harvest(context, url) for h, url in pairs]
        return await context.save([h for h in harvests if h is not None])

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        """What ``url`` lists now; ``None`` if it is unchanged since the last good run."""
        raise NotImplementedError
