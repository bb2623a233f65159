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


#: An http(s) address fit to be an IRI as is (the catalog writes it between ``<`` and ``>``):
#: no whitespace and none of the characters RFC 3987 leaves out.
_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"{}|\\^`]+")
#: An e-mail address fit for a ``mailto:`` IRI.
_EMAIL = re.compile(r"[^\s@<>\"{}|\\^`]+@[^\s@<>\"{}|\\^`]+")


def check_web_address(value: str) -> str:
    if not _WEB_ADDRESS.fullmatch(value):
        raise ValueError('must be an http(s) address without spaces or <>"{}|\\^`')
    return value


def check_email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an e-mail address like name@example.de")
    return value
