"""Sources named by a path or an http(s) URL, read into memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from cityhub.features.imports.rows import ImportSourceError

TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Source:
    data: bytes
    name: str  # the path or URL, for format detection and provenance
    media_type: str | None = None


def is_url(ref: str) -> bool:
    return urlsplit(ref).scheme in ("http", "https")


def load_source(ref: str, client: httpx.Client | None = None) -> Source:
    """The bytes of a file or of what a URL answers; ImportSourceError saying what failed."""
    if is_url(ref):
        return fetch(ref, client)
    path = Path(ref)
    try:
        return Source(path.read_bytes(), str(path))
    except OSError as exc:
        raise ImportSourceError(f"cannot read '{ref}': {exc.strerror or exc}") from None


def fetch(url: str, client: httpx.Client | None = None) -> Source:
    own = client is None
    client = client or httpx.Client(follow_redirects=True, timeout=TIMEOUT_SECONDS)
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise ImportSourceError(f"cannot fetch {url}: {exc}") from None
    finally:
        if own:
            client.close()
    if response.status_code != 200:
        raise ImportSourceError(f"{url} answered HTTP {response.status_code}, not the file")
    path = urlsplit(str(response.url)).path
    return Source(response.content, path or url, response.headers.get("content-type"))
