"""Plain text: what a person typed, without control characters.

Control characters are invisible on a page or a screen, PostgreSQL cannot store NUL, and
XML (the catalog's RDF/XML) cannot carry most of them at all; tab and newline are text.
"""

from __future__ import annotations

import re
from typing import Any

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def is_plain(value: Any, longest: int) -> bool:
    """A text of at most ``longest`` characters without control characters."""
    return isinstance(value, str) and len(value) <= longest and not has_control(value)
