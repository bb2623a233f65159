"""Whole numbers in text, the one way: ASCII digits only.

``str.isdigit()`` also accepts ``²`` or ``٣``, which ``int()`` then refuses or reads as
another number, so a path id, a limit or a header value checked with it could still end in
a 500. Every such check goes through ``is_digits``.
"""

from __future__ import annotations


def is_digits(text: str) -> bool:
    """One or more of 0-9 and nothing else."""
    return text.isascii() and text.isdigit()
