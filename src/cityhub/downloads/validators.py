"""Validators of downloads (``ETag``, ``Last-Modified``): their tags and headers. The
conditional requests that use them are answered by ``cityhub.conditional``, as the catalog's.
"""

from __future__ import annotations

from typing import Any

from cityhub import conditional
from cityhub.downloads.streaming import Head

#: Bumped when the layout of a download changes, so that every cached copy is stale.
LAYOUT_VERSION = 1


def etag(*parts: Any, weak: bool = False) -> str:
    """An entity tag for a download described by ``parts`` (any values with a stable repr)."""
    return conditional.etag(LAYOUT_VERSION, *parts, weak=weak)


def headers(head: Head) -> dict[str, str]:
    """The headers of a download's answer, the 304 included."""
    result = conditional.headers(head, max_age=60)
    result["Content-Disposition"] = f'attachment; filename="{head.filename}"'
    return result
