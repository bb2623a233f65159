"""The shared HTTP client: retries with backoff, Retry-After, User-Agent, proxy; and how a
run context turns a source's failures into errors that name the URL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from cityhub import __version__
from cityhub.connectors.base import SourceError
from cityhub.connectors.context import RunContext
from cityhub.connectors.http import Validators, build_client, user_agent
from cityhub.connectors.saving import Target
from cityhub.settings import load_settings

URL = "https://daten.example.org/parken.json"


def _client(handler, sleeps: list[float], **settings):
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    configured = load_settings(settings, environ={})
    return build_client(configured, httpx.MockTransport(handler), sleep=sleep)


def _answers(*responses: httpx.Response | Exception):
    queue = list(responses)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def _get(client: httpx.AsyncClient) -> httpx.Response:
    async def get() -> httpx.Response:
        async with client:
            return await client.get(URL)

    return asyncio.run(get())


def test_5xx_is_retried_with_exponential_backoff():
    handler, seen = _answers(httpx.Response(503), httpx.Response(502), httpx.Response(200))
    sleeps: list[float] = []
    assert _get(_client(handler, sleeps)).status_code == 200
    assert len(seen) == 3
    assert sleeps == [1.0, 2.0]


def test_429_waits_as_long_as_retry_after_says():
    handler, _ = _answers(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[])
    )
    sleeps: list[float] = []
    assert _get(_client(handler, sleeps)).status_code == 200
    assert sleeps == [7.0]


def test_network_errors_are_retried_and_then_raised():
    handler, seen = _answers(httpx.ConnectError("refused"))
    sleeps: list[float] = []
    with pytest.raises(httpx.ConnectError):
        _get(_client(handler, sleeps, http_retries=2))
    assert len(seen) == 3
    assert sleeps == [1.0, 2.0]


def test_a_client_error_is_not_retried():
    handler, seen = _answers(httpx.Response(404))
    assert _get(_client(handler, [])).status_code == 404
    assert len(seen) == 1


def test_the_user_agent_names_the_hub_its_version_and_contact():
    handler, seen = _answers(httpx.Response(200))
    _get(_client(handler, [], http_contact="opendata@solingen.de"))
    agent = seen[0].headers["User-Agent"]
    assert agent.startswith(f"cityhub/{__version__} (")
    assert "opendata@solingen.de" in agent
    assert user_agent(load_settings({}, environ={})).startswith("cityhub/")


def test_the_proxy_setting_routes_requests_through_the_proxy():
    settings = load_settings({"http_proxy": "http://proxy.stadt.example:8080"}, environ={})
    client = build_client(settings)
    pool = client._transport.inner._pool  # type: ignore[attr-defined]
    assert type(pool).__name__ == "AsyncHTTPProxy"
    asyncio.run(client.aclose())


def _context(handler) -> RunContext:
    return RunContext(
        store=None,  # type: ignore[arg-type]  # fetching needs no store
        client=build_client(load_settings({}, environ={}), httpx.MockTransport(handler)),
        validators=Validators(),
        target=Target("p", "parkapi", "p", "p", {}),
        fetched_at=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(404, text="not here"), "answered 404 Not Found: not here"),
        (
            httpx.Response(200, text="<!DOCTYPE html><title>Login</title>"),
            "with an HTML page: Login",
        ),
        (httpx.Response(200, text="Parken: 3 frei"), "text that is not JSON"),
        (httpx.Response(200, json={"errors": ["quota exceeded"]}), "quota exceeded"),
    ],
)
def test_a_failing_source_is_a_source_error_naming_the_url(response, message):
    context = _context(lambda request: response)
    with pytest.raises(SourceError, match=message) as raised:
        asyncio.run(context.get_json(URL))
    assert URL in str(raised.value)


def test_validators_are_remembered_only_when_the_run_commits_them():
    handler, seen = _answers(httpx.Response(200, json=[], headers={"ETag": '"abc"'}))
    context = _context(handler)
    asyncio.run(context.get_json(URL))
    asyncio.run(context.get_json(URL))
    assert "If-None-Match" not in seen[1].headers  # the first run has not succeeded yet
    context.commit_validators()
    asyncio.run(context.get_json(URL))
    assert seen[2].headers["If-None-Match"] == '"abc"'


def test_the_query_of_a_url_is_kept_and_joined_by_the_parameters():
    # Download links ("…csv?__blob=publicationFile") and nextLinks carry their own query.
    handler, seen = _answers(httpx.Response(200, json=[]), httpx.Response(200, json=[]))
    context = _context(handler)
    asyncio.run(context.get_json("https://example.org/register.csv?__blob=publicationFile"))
    asyncio.run(context.get_json("https://example.org/v1.1/Things?$skip=100", {"$top": "100"}))
    assert seen[0].url.params["__blob"] == "publicationFile"
    assert dict(seen[1].url.params) == {"$skip": "100", "$top": "100"}
