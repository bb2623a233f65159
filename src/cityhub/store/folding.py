"""Case and accent folding (CQL2 ``CASEI`` and ``ACCENTI``), the same on both backends.

PostgreSQL's ``lower()`` follows the database's locale and ``unaccent`` is an extension not
every server has. So both folds are fixed tables over ASCII and the Latin letters
(Latin-1 to Latin Extended-B and Latin Extended Additional): ``translate()`` applies them on
PostgreSQL, functions registered in ``dialects`` on SQLite, ``fold`` in Python.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import Text, func, literal

CASEI, ACCENTI = "casei", "accenti"
_LATIN = [*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)]


def _without_accents(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return base if len(base) == 1 else char


def _table(convert: Any) -> dict[str, str]:
    pairs = {chr(code): convert(chr(code)) for code in _LATIN}
    return {char: to for char, to in pairs.items() if len(to) == 1 and to != char}


_TABLES: dict[str, dict[str, str]] = {
    CASEI: _table(str.lower),
    ACCENTI: _table(_without_accents),
}
_TRANSLATIONS = {kind: str.maketrans(table) for kind, table in _TABLES.items()}

#: The SQLite functions ``dialects`` registers, by fold.
SQLITE_FUNCTIONS = {CASEI: "cityhub_casei", ACCENTI: "cityhub_accenti"}


def fold(value: Any, kind: str) -> Any:
    """``value`` folded as ``kind`` says; anything but text passes unchanged (as SQL NULL)."""
    return value.translate(_TRANSLATIONS[kind]) if isinstance(value, str) else value


def fold_sql(text: Any, kind: str, backend: str) -> Any:
    """SQL folding the text expression ``text``."""
    if backend == "postgresql":
        table = _TABLES[kind]
        source = literal("".join(table), Text)
        target = literal("".join(table.values()), Text)
        return func.translate(text, source, target)
    return getattr(func, SQLITE_FUNCTIONS[kind])(text)
