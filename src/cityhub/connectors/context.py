"""What a connector gets for one run: fetching through the shared client, and saving.

Fetching turns every way a source can fail into a ``SourceError`` that names the URL: no
answer, an error status, an HTML page where JSON was expected, or JSON that says "error".
A 304 answer to a conditional request returns ``None``: nothing changed since the last
good run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson

from cityhub.connectors.base import Harvest, RunSummary, SourceError
from cityhub.connectors.http import Validators
from cityhub.connectors.saving import Target, save_harvests
from cityhub.store.database import Store

Progress = Callable[[str], None]
_ERROR_KEYS = ("error", "errors", "errorMessage", "error_message")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class RunContext:
    """One run of one connector."""

    def __init__(
        self,
        *,
        store: Store,
        client: httpx.AsyncClient,
        validators: Validators,
        target: Target,
        fetched_at: datetime,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.target = target
        self.fetched_at = fetched_at
        self.conditional = True
        self._validators = validators
        self._pending: dict[str, tuple[str | None, str | None] | None] = {}
        self._progress = progress

    def progress(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    async def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response | None:
        """The answer to GET ``url``: a 2xx response, or ``None`` for 304 (unchanged)."""
        # Parameters join the query ``url`` may already have (a download link, a nextLink).
        full = str(httpx.URL(url).copy_merge_params(params) if params else httpx.URL(url))
        headers = self._validators.headers(full) if self.conditional else {}
        self.progress(f"fetching {full}")
        try:
            response = await self.client.get(full, headers=headers)
        except httpx.HTTPError as exc:
            raise SourceError(f"{full}: no answer ({type(exc).__name__}: {exc})") from exc
        if response.status_code == 304:
            return None
        if response.status_code >= 400:
            raise SourceError(
                f"{full} answered {response.status_code} {response.reason_phrase}: "
                f"{_excerpt(response.content)}"
            )
        self._pending[full] = Validators.of(response)
        return response

    async def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any | None:
        """The JSON document at ``url``, or ``None`` if unchanged; an HTML page, text that is
        not JSON, or a JSON object with an error remark is a ``SourceError``."""
        response = await self.get(url, params)
        if response is None:
            return None
        return parse_json(str(response.url), response)

    async def save(self, harvests: list[Harvest]) -> RunSummary:
        count = sum(len(h.places) for h in harvests)
        self.progress(f"writing {count} places")
        return await self.store.write(
            lambda connection: save_harvests(connection, self.target, harvests, self.fetched_at)
        )

    def commit_validators(self) -> None:
        """Remember this run's ETags and Last-Modified dates: it succeeded."""
        for url, validators in self._pending.items():
            if validators is None:
                self._validators.forget(url)
            else:
                self._validators.remember(url, validators)


def parse_json(url: str, response: httpx.Response) -> Any:
    content = response.content
    kind = response.headers.get("Content-Type", "")
    if "html" in kind or content.lstrip()[:1] == b"<":
        title = _TITLE.search(content)
        shown = title.group(1).decode(errors="replace").strip() if title else _excerpt(content)
        raise SourceError(f"{url} answered {response.status_code} with an HTML page: {shown}")
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        shown = _excerpt(content)
        raise SourceError(f"{url} answered text that is not JSON ({exc}): {shown}") from None
    if isinstance(document, dict):
        remark = next((document[k] for k in _ERROR_KEYS if document.get(k)), None)
        if remark is not None:
            raise SourceError(f"{url} answered with an error: {_excerpt(orjson.dumps(remark))}")
    return document


def _excerpt(content: bytes, length: int = 200) -> str:
    text = " ".join(content.decode(errors="replace").split())
    return text if len(text) <= length else text[:length] + "…"
