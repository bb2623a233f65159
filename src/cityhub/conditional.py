"""Validators (``ETag``, ``Last-Modified``) and the conditional requests that use them, for
every face whose answers harvesters and mirrors fetch again and again (the downloads, the
catalog): a client whose copy is current gets a 304 and nothing is read or rendered twice.

A validator is derived from what the store keeps anyway (statistics, modification stamps),
never by reading the data it stands for.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Protocol

from starlette.datastructures import Headers


class Validated(Protocol):
    """What an answer's validators are: its tag, its last change, who may keep it."""

    @property
    def etag(self) -> str: ...

    @property
    def last_modified(self) -> datetime | None: ...

    #: Public data may be kept by shared caches; restricted data only by the client.
    @property
    def public(self) -> bool: ...


def etag(*parts: Any, weak: bool = False) -> str:
    """An entity tag for an answer described by ``parts`` (any values with a stable repr)."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f'W/"{digest}"' if weak else f'"{digest}"'


def latest(*moments: datetime | None) -> datetime | None:
    """The latest of the instants that are known, but not in the future (a forecast's
    phenomenonTime): ``Last-Modified`` may not be later than the answer's date."""
    known = [moment for moment in moments if moment is not None]
    return min(max(known), datetime.now(UTC)) if known else None


def not_modified(request_headers: Headers, answer: Validated) -> bool:
    """Whether the client's copy is current (RFC 9110 §13.1): ``If-None-Match`` by weak
    comparison; ``If-Modified-Since`` only when no ``If-None-Match`` was sent."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        ours = _opaque(answer.etag)
        return any(_opaque(tag) == ours for tag in if_none_match.split(","))
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since is None or answer.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC asks
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return answer.last_modified.replace(microsecond=0) <= since


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def headers(answer: Validated, max_age: int) -> dict[str, str]:
    """The validators and caching headers of an answer, the 304 included. A restricted
    answer is ``private`` and varies by ``Authorization``: no shared cache may hand it on."""
    scope = "public" if answer.public else "private"
    result = {"ETag": answer.etag, "Cache-Control": f"{scope}, max-age={max_age}"}
    if answer.last_modified is not None:
        result["Last-Modified"] = format_datetime(answer.last_modified.astimezone(UTC), usegmt=True)
    if not answer.public:
        result["Vary"] = "Authorization"
    return result
