"""The one HTTP client every connector uses.

Built by ``build_client``: timeouts, a descriptive User-Agent, an optional proxy and
retries with exponential backoff on network errors, 429 and 5xx (a Retry-After is honoured).
``Validators`` remembers each URL's ETag and Last-Modified so that the next request is
conditional; a run commits them only when it succeeded, so a failed write is fetched again.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx

from cityhub import __version__
from cityhub.settings import Settings

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
PROJECT_URL = "https://github.com/cityhub/cityhub"
_LONGEST_WAIT = 60.0

Sleep = Callable[[float], Awaitable[None]]


def user_agent(settings: Settings) -> str:
    """``cityhub/<version> (+<project>; <contact>)``: who is asking, and how to reach them."""
    contact = f"; {settings.http_contact}" if settings.http_contact else ""
    return f"cityhub/{__version__} (+{PROJECT_URL}{contact})"


def build_client(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    backoff: float = 1.0,
    sleep: Sleep = asyncio.sleep,
) -> httpx.AsyncClient:
    """The shared client. ``transport`` replaces the network (tests pass a MockTransport)."""
    inner = transport or httpx.AsyncHTTPTransport(proxy=settings.http_proxy)
    retrying = RetryTransport(inner, settings.http_retries, backoff=backoff, sleep=sleep)
    return httpx.AsyncClient(
        transport=retrying,
        timeout=httpx.Timeout(settings.http_timeout_seconds),
        headers={"User-Agent": user_agent(settings)},
        follow_redirects=True,
    )


class RetryTransport(httpx.AsyncBaseTransport):
    """Retries a request after a transient failure, waiting ``backoff * 2**attempt`` seconds
    or as long as the server's Retry-After asks (at most a minute)."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, retries: int, *, backoff: float, sleep: Sleep
    ) -> None:
        self.inner = inner
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.TransportError:
                if attempt >= self.retries:
                    raise
                await self.sleep(self._wait(attempt, None))
            else:
                if response.status_code not in RETRIED_STATUSES or attempt >= self.retries:
                    return response
                wait = self._wait(attempt, response.headers.get("Retry-After"))
                await response.aclose()
                await self.sleep(wait)
            attempt += 1

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        asked = _retry_after_seconds(retry_after)
        wait = asked if asked is not None else self.backoff * 2**attempt
        return min(max(wait, 0.0), _LONGEST_WAIT)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    if re.fullmatch(r"\s*\d+\s*", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


class Validators:
    """ETag and Last-Modified per URL, from the last good run of each."""

    def __init__(self) -> None:
        self._by_url: dict[str, tuple[str | None, str | None]] = {}

    def headers(self, url: str) -> dict[str, str]:
        etag, modified = self._by_url.get(url, (None, None))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return headers

    @staticmethod
    def of(response: httpx.Response) -> tuple[str | None, str | None] | None:
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        return (etag, modified) if etag or modified else None

    def remember(self, url: str, validators: tuple[str | None, str | None]) -> None:
        self._by_url[url] = validators

    def forget(self, url: str) -> None:
        self._by_url.pop(url, None)

    def clear(self) -> None:
        self._by_url.clear()
