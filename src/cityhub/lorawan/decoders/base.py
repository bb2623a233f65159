"""The decoder interface: what every built-in decoder and every user codec provides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class FieldInfo:
    """What a decoded field measures, so auto-provisioning can create its Datastream:
    the ObservedProperty's name and the unit (UCUM-style symbol and a readable name)."""

    observed_property: str
    unit_symbol: str | None = None
    unit_name: str | None = None
    definition: str | None = None


@dataclass
class DecodeResult:
    """A decoder's answer in the TTN codec shape: ``{"data", "warnings", "errors"}``.
    Errors mean nothing in ``data`` may be stored."""

    data: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"data": self.data, "warnings": self.warnings, "errors": self.errors}


class Decoder(Protocol):
    """Decodes one uplink payload; never raises for bad bytes (they are ``errors``)."""

    name: str
    description: str
    #: Decoded field name → what it measures (fields not listed get no unit).
    fields: dict[str, FieldInfo]

    def decode(self, f_port: int, payload: bytes) -> DecodeResult: ...
