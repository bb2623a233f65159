"""Validators of downloads (``ETag``, ``Last-Modified``) and the conditional requests that
use them, so harvesters and mirrors fetch a download again only when it changed.

A validator is derived from what the store keeps anyway (a Datastream's statistics, a
collection's modification stamps), never by reading the data it stands for.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.datastructures import Headers

from cityhub.downloads.streaming import Head

#: Bumped when the layout of a download changes, so that every cached copy is stale.
LAYOUT_VERSION = 1


def etag(*parts: Any, weak: bool = False) -> str:
    """An entity tag for a download described by ``parts`` (any values with a stable repr)."""
    digest = hashlib.sha256(repr((LAYOUT_VERSION, *parts)).encode()).hexdigest()[:32]
    return f'W/"{digest}"' if weak else f'"{digest}"'


def latest(*moments: datetime | None) -> datetime | None:
    """The latest of the instants that are known, but not in the future (a forecast's
    phenomenonTime): ``Last-Modified`` may not be later than the answer's date."""
    known = [moment for moment in moments if moment is not None]
    return min(max(known), datetime.now(UTC)) if known else None


def not_modified(request_headers: Headers, head: Head) -> bool:
    """Whether the client's copy is current (RFC 9110 §13.1): ``If-None-Match`` by weak
    comparison; ``If-Modified-Since`` only when no ``If-None-Match`` was sent."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        ours = _opaque(head.etag)
        return any(_opaque(tag) == ours for tag in if_none_match.split(","))
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since is None or head.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC asks
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return head.last_modified.replace(microsecond=0) <= since


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def headers(head: Head) -> dict[str, str]:
    """The headers of a download's answer, the 304 included."""
    result = {
        "ETag": head.etag,
        "Cache-Control": "public, max-age=60" if head.public else "private, max-age=60",
        "Content-Disposition": f'attachment; filename="{head.filename}"',
    }
    if head.last_modified is not None:
        result["Last-Modified"] = format_datetime(head.last_modified.astimezone(UTC), usegmt=True)
    if not head.public:
        result["Vary"] = "Authorization"
    return result
