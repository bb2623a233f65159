"""What every built-in decoder shares: its identity, its fields and the error boundary."""

from __future__ import annotations

from typing import Any, ClassVar

from cityhub.lorawan.decoders.base import DecodeResult, FieldInfo
from cityhub.lorawan.decoders.binary import PayloadError

UNKNOWN_PORT = "unknown FPort"


class BuiltinDecoder:
    """A decoder written in Python. Subclasses implement ``decode_data``, which returns the
    decoded values or raises ``PayloadError``; ``decode`` turns that into a ``DecodeResult``.

    ``ports`` lists the FPorts the device sends on; ``None`` accepts any port (as the
    vendor's codec does)."""

    name: str = ""
    description: str = ""
    #: What the numeric fields measure, declared by each subclass (``fields`` on instances).
    FIELDS: ClassVar[dict[str, FieldInfo]] = {}
    ports: ClassVar[frozenset[int] | None] = None

    def __init__(self, name: str | None = None, description: str | None = None) -> None:
        self.name = name or type(self).name
        self.description = description or type(self).description
        self.fields: dict[str, FieldInfo] = dict(self.FIELDS)

    def decode(self, f_port: int, payload: bytes) -> DecodeResult:
        if self.ports is not None and f_port not in self.ports:
            return DecodeResult(errors=[UNKNOWN_PORT])
        result = DecodeResult()
        try:
            result.data = self.decode_data(f_port, bytes(payload), result.warnings)
        except PayloadError as exc:
            return DecodeResult(errors=[str(exc)], warnings=result.warnings)
        return result

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
