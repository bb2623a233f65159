"""What a reader yields: a row ready to become a feature, or a row that cannot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One record of the source: properties typed, geometry GeoJSON in WGS 84 (or None)."""

    line: int
    properties: dict[str, Any]
    geometry: dict[str, Any] | None
    source_id: Any = None  # a GeoJSON Feature's ``id``, a key of last resort


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that cannot be imported; ``line`` counts in the reader's ``unit``."""

    line: int
    reason: str
    unit: str = "line"

    def describe(self) -> str:
        return f"{self.unit} {self.line}: {self.reason}"

    def as_json(self) -> dict[str, Any]:
        return {self.unit: self.line, "reason": self.reason}


class Reader(Protocol):
    """A source file read record by record."""

    unit: str  # what ``line`` counts: "line", "row" or "feature"
    total: int | None  # records expected, for a progress bar (None: unknown)
    description: str  # what was detected: format, encoding, delimiter, header, columns

    def __iter__(self) -> Iterator[SourceRow | Rejected]: ...


class ImportSourceError(ValueError):
    """The source as a whole cannot be read (no header, unknown encoding, not GeoJSON …)."""
