"""Tile options: declared once, so that validation and the admin form come from one table.

Each tile type lists its options (name, type, required, description, default). ``check``
turns a tile as sent into its options with defaults filled in, or raises a ``BadRequest``
that names the tile's index and the option, as the admin pages show it next to the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cityhub import plain
from cityhub.errors import BadRequest

#: The longest text option and URL, and the most texts in a list: a screen is read in passing,
#: and a layout is stored whole in one row.
MAX_TEXT = 500
MAX_URL = 2000
MAX_ITEMS = 100
#: The largest @iot.id (the id columns are 32-bit integers on PostgreSQL).
MAX_ID = 2**31 - 1

#: The option types a form can offer: what a value of each must be.
TYPES = {
    "text": f"a text of at most {MAX_TEXT} characters without control characters",
    "integer": "a whole number",
    "number": "a number",
    "datastream": "the @iot.id of a Datastream (a whole number)",
    "text-list": f"a list of at most {MAX_ITEMS} texts like those of a text option",
    "url": f"an http(s) URL or a path of this hub starting with / (at most {MAX_URL} characters)",
}


def is_plain(value: Any, longest: int = MAX_TEXT) -> bool:
    """A text of at most ``longest`` characters without control characters (tab and newline
    are allowed)."""
    return plain.is_plain(value, longest)


@dataclass(frozen=True)
class Option:
    """One option of a tile type."""

    name: str
    type: str
    description: str
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None

    def describe(self) -> dict[str, Any]:
        """The option as ``GET /api/admin/screens/tile-types`` lists it."""
        described: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "description": self.description,
            "default": self.default,
        }
        if self.minimum is not None:
            described["minimum"] = self.minimum
        if self.maximum is not None:
            described["maximum"] = self.maximum
        return described


class TileError(BadRequest):
    """A tile of a layout is wrong: the message starts with ``tiles[i] (type)``."""

    def __init__(self, index: int, kind: str, message: str, option: str | None = None) -> None:
        where = f"tiles[{index}]" + (f".{option}" if option else "") + f" ({kind})"
        super().__init__(f"{where}: {message}")
        self.index = index
        self.option = option

    def body(self) -> dict[str, object]:
        return {**super().body(), "tile": self.index, "option": self.option}


def check_options(
    index: int, kind: str, options: tuple[Option, ...], tile: dict[str, Any]
) -> dict[str, Any]:
    """The tile's options, each checked against its declaration, defaults filled in."""
    known = {option.name: option for option in options}
    for name in tile:
        if name != "type" and name not in known:
            names = ", ".join(known)
            raise TileError(index, kind, f"unknown option '{name}'; the options are: {names}", name)
    checked: dict[str, Any] = {"type": kind}
    for option in options:
        value = tile.get(option.name)
        if value is None or value == "" or value == []:
            if option.required:
                raise TileError(index, kind, f"is required: {option.description}", option.name)
            checked[option.name] = option.default
            continue
        checked[option.name] = _value(index, kind, option, value)
    return checked


def _value(index: int, kind: str, option: Option, value: Any) -> Any:
    """``value`` if it is of the option's type (and range), else a TileError saying why."""
    ok = {
        "text": is_plain(value),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "datastream": isinstance(value, int)
        and not isinstance(value, bool)
        and 0 < value <= MAX_ID,
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "text-list": isinstance(value, list)
        and len(value) <= MAX_ITEMS
        and all(is_plain(v) and v for v in value),
        "url": isinstance(value, str) and _is_url(value),
    }[option.type]
    if not ok:
        raise TileError(index, kind, f"must be {TYPES[option.type]}, not {value!r}", option.name)
    if option.minimum is not None and value < option.minimum:
        raise TileError(index, kind, f"must be at least {option.minimum:g}", option.name)
    if option.maximum is not None and value > option.maximum:
        raise TileError(index, kind, f"must be at most {option.maximum:g}", option.name)
    return value


def _is_url(value: str) -> bool:
    # A browser drops tabs and newlines from a URL and reads a backslash as a slash, so
    # "/\t/elsewhere" or "/\\elsewhere" would lead off the hub: none of them in a URL.
    if len(value) > MAX_URL or any(c <= " " or c in "\\\x7f" for c in value):
        return False
    if value.startswith("/") and not value.startswith("//"):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
