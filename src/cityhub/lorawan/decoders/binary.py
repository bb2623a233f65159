"""Reading integers from a payload, and JavaScript's number formatting where codecs use it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


class PayloadError(ValueError):
    """Bytes that do not fit the format: reported as a decode error, never raised further."""


class Reader:
    """A cursor over a payload; every read checks that the bytes are there."""

    def __init__(self, payload: bytes, start: int = 0) -> None:
        self.payload = payload
        self.pos = start

    @property
    def remaining(self) -> int:
        return len(self.payload) - self.pos

    def take(self, count: int, what: str = "value") -> bytes:
        if self.remaining < count:
            raise PayloadError(
                f"payload too short: {what} at byte {self.pos} needs {count} byte(s), "
                f"{max(self.remaining, 0)} left"
            )
        chunk = self.payload[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def uint(self, size: int, what: str = "value", *, little: bool = False) -> int:
        return int.from_bytes(self.take(size, what), "little" if little else "big")

    def sint(self, size: int, what: str = "value", *, little: bool = False) -> int:
        order = "little" if little else "big"
        return int.from_bytes(self.take(size, what), order, signed=True)


def require_length(payload: bytes, minimum: int, device: str) -> None:
    """A payload shorter than its format's fixed part is an error."""
    if len(payload) < minimum:
        raise PayloadError(
            f"payload too short: {device} needs at least {minimum} bytes, got {len(payload)}"
        )


def signed(value: int, bits: int) -> int:
    """``value`` read as a two's complement integer of ``bits`` bits."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def to_fixed(value: float, digits: int) -> str:
    """JavaScript's ``Number.prototype.toFixed``: the exact binary value rounded half away
    from zero (Python's ``format`` rounds exact ties to even)."""
    if value == 0:
        value = 0.0  # (-0).toFixed() has no minus sign
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP))
