"""Typed reading of a JSON message, every wrong member named by its JSON path.

The network formats read their members only through :class:`Node`, so that anything missing,
of the wrong type or out of range is a :class:`FormatError` naming where it is — never a
``KeyError`` or ``TypeError`` from deep inside a parser. ``null`` counts as absent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import orjson

from cityhub.lorawan.uplink import FormatError, Radio

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_HEX = re.compile(r"[0-9A-Fa-f]*", re.ASCII)
DECIMAL = re.compile(r"-?[0-9]{1,20}", re.ASCII)
_UINT32 = 2**32
T = TypeVar("T")


def load_object(body: bytes | str, where: str = "") -> dict[str, Any]:
    """Parse ``body`` as JSON and require an object at the top."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not JSON ({exc})", where) from None
    if not isinstance(value, dict):
        raise FormatError(f"expected a JSON object, got {_kind(value)}", where)
    return value


def parse_time(text: str, where: str) -> datetime:
    """An RFC 3339 date-time as aware UTC; nanoseconds are cut to microseconds."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise FormatError(f"not an RFC 3339 date-time: {text[:40]!r}", where)
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micros = int((match[7] or "")[:6].ljust(6, "0"))
    try:
        local = datetime(year, month, day, hour, minute, second, micros, _zone(match[8]))
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise FormatError(f"not a valid date-time: {exc}", where) from None


def _zone(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {text} out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def decode_base64(text: str, where: str) -> bytes:
    """Standard base64 with padding (what protobuf JSON and TTS write); URL-safe accepted."""
    try:
        return base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise FormatError("not valid base64", where) from None


def hex_id(text: str, size: int, where: str, *, base64_too: bool = False) -> str:
    """An identifier of ``size`` bytes as upper-case hex: hex digits (``-`` or ``:`` between
    bytes allowed) or, with ``base64_too``, the base64 of the bytes (ChirpStack v3)."""
    compact = text.replace("-", "").replace(":", "")
    if len(compact) == 2 * size and _HEX.fullmatch(compact):
        return compact.upper()
    if base64_too and len(text) == 4 * ((size + 2) // 3):
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == size:
            return raw.hex().upper()
    expected = f"{2 * size} hex digits" + (" or base64" if base64_too else "")
    raise FormatError(f"expected {expected}, got {text[:40]!r}", where)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


class Node:
    """A JSON object at ``path``; its getters return typed members or raise FormatError."""

    __slots__ = ("_key", "_parent", "data")

    def __init__(
        self, data: dict[str, Any], parent: Node | None = None, key: str | int = ""
    ) -> None:
        self.data = data
        # The path is spelt out only for an error: most messages never need it.
        self._parent = parent
        self._key = key

    @property
    def path(self) -> str:
        """The JSON path of this object (empty at the top)."""
        return "" if self._parent is None else self._parent.where(self._key)

    def where(self, key: str | int) -> str:
        """The JSON path of a member (``a.b``) or of an array item (``a[0]``)."""
        path = self.path
        if isinstance(key, int):
            return f"{path}[{key}]"
        return f"{path}.{key}" if path else key

    def has(self, key: str) -> bool:
        """Whether the member is there (and not null)."""
        return self.data.get(key) is not None

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise FormatError("missing", self.where(key))
        return value

    def _wrong(self, key: str, expected: str, value: object) -> FormatError:
        return FormatError(f"expected {expected}, got {_kind(value)}", self.where(key))

    def text(self, key: str) -> str | None:
        """A string member; an empty string counts as absent."""
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value or None

    def integer(
        self, key: str, *, required: bool = False, low: int = 0, high: int = _UINT32 - 1
    ) -> int | None:
        """An integer member in ``[low, high]``; a decimal string is accepted (protobuf
        JSON writes 64-bit integers as strings)."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, str) and DECIMAL.fullmatch(value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, "an integer", value)
        if not low <= value <= high:
            raise FormatError(f"{value} is out of range {low}..{high}", self.where(key))
        return value

    def number(self, key: str) -> float | None:
        """A number member (integer or decimal)."""
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._wrong(key, "a number", value)
        return float(value)

    def boolean(self, key: str) -> bool:
        """A boolean member; absent is false (protobuf JSON and TTS omit false)."""
        value = self._get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._wrong(key, "a boolean", value)
        return value

    def mapping(self, key: str) -> dict[str, Any] | None:
        """An object member as a plain dict."""
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._wrong(key, "an object", value)
        return value

    def child(self, key: str) -> Node | None:
        """An object member as a Node."""
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._wrong(key, "an object", value)
        return Node(value, self, key)

    def require(self, key: str) -> Node:
        """An object member that must be there."""
        value = self._get(key, True)
        if not isinstance(value, dict):
            raise self._wrong(key, "an object", value)
        return Node(value, self, key)

    def children(self, key: str) -> list[Node]:
        """An array of objects (absent: empty)."""
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "an array", value)
        items = Node(value, self, key)  # type: ignore[arg-type]  # the array, for paths
        nodes = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise FormatError(f"expected an object, got {_kind(item)}", items.where(index))
            nodes.append(Node(item, items, index))
        return nodes

    def strings(self, key: str) -> list[str]:
        """An array of strings (absent: empty)."""
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(key, "an array of strings", value)
        return value

    def time(self, key: str) -> datetime | None:
        """An RFC 3339 date-time member as aware UTC."""
        value = self.text(key)
        return None if value is None else self._located(key, parse_time, value)

    def require_time(self, key: str) -> datetime:
        """A date-time member that must be there."""
        return self._located(key, parse_time, self._required_text(key))

    def base64(self, key: str) -> bytes:
        """A base64 member as bytes (absent: empty)."""
        value = self.text(key)
        return b"" if value is None else self._located(key, decode_base64, value)

    def require_eui(self, key: str, *, base64_too: bool = False) -> str:
        """An EUI-64 member that must be there, as 16 upper-case hex digits."""
        text = self._required_text(key)
        try:
            return hex_id(text, 8, "", base64_too=base64_too)
        except FormatError as exc:
            raise FormatError(exc.reason, self.where(key)) from None

    def _located(self, key: str, read: Callable[[str, str], T], value: str) -> T:
        """``read(value)``; its FormatError names the member (spelt out only then)."""
        try:
            return read(value, "")
        except FormatError as exc:
            raise FormatError(exc.reason, self.where(key)) from None

    def _required_text(self, key: str) -> str:
        value = self._get(key, True)
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        if not value:
            raise FormatError("empty", self.where(key))
        return value


def best_radio(
    gateways: list[tuple[float | None, float | None]],
    spreading_factor: int | None,
    frequency: int | None,
) -> Radio:
    """Radio metadata of the best gateway — the highest RSSI, then the highest SNR — from
    ``(rssi, snr)`` per receiving gateway; ``gateway_count`` counts them all."""
    ranked = sorted(
        gateways,
        key=lambda pair: (
            pair[0] is not None,
            pair[0] or 0.0,
            pair[1] if pair[1] is not None else float("-inf"),
        ),
    )
    rssi, snr = ranked[-1] if ranked else (None, None)
    return Radio(
        rssi=rssi,
        snr=snr,
        spreading_factor=spreading_factor,
        gateway_count=len(gateways),
        frequency=frequency,
    )


@dataclass(frozen=True)
class Topic:
    """What an MQTT topic says: the application, the device (TTS device ID, ChirpStack
    DevEUI), the network's own name of the event (``up``, ``join``, ``down/ack``,
    ``status``…) and, for The Things Stack Cloud, the tenant."""

    application: str
    device: str
    event: str
    tenant: str | None = None
