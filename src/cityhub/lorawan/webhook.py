"""``POST /ingest/lorawan/{name}``: The Things Stack webhooks and ChirpStack HTTP integrations.

The network server authenticates with the integration's secret in the ``X-Cityhub-Secret``
header. The answer comes after the commit: 200 when the uplink is stored (or was already,
or the message is another event), 202 when it was kept as a dead letter (unknown device,
decoder error…), 400 for a body that is no message of the network (kept as a dead letter
too), 401 for a wrong secret, 404 for an unknown integration. ChirpStack names the event in
the query: ``?event=up``.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.routing import Route

from cityhub.errors import BadRequest, NotFound, ServiceUnavailable, Unauthorized
from cityhub.lorawan.config import SECRET_HEADER, IntegrationError, LorawanIntegration
from cityhub.lorawan.ingest import LorawanIngest, Received
from cityhub.web import JSONResponse, read_body

PATH = "/ingest/lorawan/{name}"


def webhook_routes(core: LorawanIngest, max_body_bytes: int) -> list[Route]:
    async def receive(request: Request) -> JSONResponse:
        integration = _integration(core, request.path_params["name"])
        _check_secret(integration, request.headers.get(SECRET_HEADER))
        body = await read_body(request, max_body_bytes)
        event = request.query_params.get("event")
        (outcome,) = await core.ingest([Received(integration.name, body, event=event)])
        if outcome.status == "dead" and outcome.detail.startswith("malformed"):
            raise BadRequest(f"{outcome.detail} (kept as dead letter {outcome.dead_letter})")
        status = 202 if outcome.status == "dead" else 200
        return JSONResponse(outcome.as_json(), status_code=status)

    return [Route(PATH, receive, methods=["POST"])]


def _integration(core: LorawanIngest, name: str) -> LorawanIntegration:
    integration = core.integrations.get(name)
    if integration is None or integration.secret_env is None:
        known = ", ".join(sorted(n for n, i in core.integrations.items() if i.secret_env))
        raise NotFound(
            f"no LoRaWAN integration {name!r} takes webhooks here"
            f"{'; configured: ' + known if known else ''} (an entry needs secret_env)"
        )
    return integration


def _check_secret(integration: LorawanIntegration, given: str | None) -> None:
    try:
        expected = integration.secret()
    except IntegrationError as exc:
        raise ServiceUnavailable(f"the webhook is not ready: {exc}") from None
    if expected is None:  # pragma: no cover - _integration requires secret_env
        raise NotFound(f"no LoRaWAN integration {integration.name!r} takes webhooks here")
    if given is None:
        raise Unauthorized(f"send the integration's secret in the {SECRET_HEADER} header")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(f"the {SECRET_HEADER} header does not hold this integration's secret")
