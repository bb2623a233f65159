"""Cell values typed: numbers (with a decimal point or comma), booleans, empty as null."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

_INTEGER = re.compile(r"[+-]?(0|[1-9]\d*)")
_POINT_NUMBER = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_COMMA_NUMBER = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_POINT_DECIMAL = re.compile(r"[+-]?\d+\.\d+")

TRUE_WORDS = frozenset({"true", "ja", "wahr", "yes"})
FALSE_WORDS = frozenset({"false", "nein", "falsch", "no"})


@lru_cache(maxsize=16384)
def typed(text: str, decimal_comma: bool) -> Any:
    """The value a cell's text stands for. Leading zeros (postal codes, ids) stay text.

    Cached: most columns hold a few values again and again (kinds, years, districts).
    """
    value = text.strip()
    if not value:
        return None
    number = parse_number(value, decimal_comma)
    if number is not None:
        return number
    folded = value.casefold()
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    return value


def parse_number(value: str, decimal_comma: bool) -> int | float | None:
    """An int or float, or None when ``value`` is not a plain number."""
    if _INTEGER.fullmatch(value):
        return int(value)
    if decimal_comma:
        if _COMMA_NUMBER.fullmatch(value) and not _leading_zero(value):
            return float(value.replace(".", "").replace(",", "."))
        return None
    if _POINT_NUMBER.fullmatch(value) and not _leading_zero(value):
        return float(value)
    return None


def _leading_zero(value: str) -> bool:
    digits = value.lstrip("+-")
    return len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()


def looks_like_decimal_comma(values: list[str]) -> bool:
    """True when more of the numbers in ``values`` use a decimal comma than a decimal point."""
    commas = sum(1 for v in values if _COMMA_DECIMAL.fullmatch(v.strip()))
    points = sum(1 for v in values if _POINT_DECIMAL.fullmatch(v.strip()))
    return commas > points


def coordinate(value: Any) -> float | None:
    """A coordinate from a cell (number or text), None when it is empty or not a number.

    One comma is a decimal comma, one point a decimal point: coordinates carry no thousands
    separators worth guessing about, and a file may mix both conventions.
    """
    if type(value) is str:  # most cells; the checks below in the order of the others
        text = value.strip()
    elif isinstance(value, bool) or value is None:
        return None
    elif isinstance(value, int | float):
        return float(value)
    else:
        text = str(value).strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) and "_" not in text else None
