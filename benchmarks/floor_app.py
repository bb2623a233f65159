"""The floor: a bare Starlette app doing the least a JSON API can do (parse, answer)."""

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = orjson.dumps({"@iot.id": 1, "@iot.selfLink": "http://127.0.0.1/v1.1/Observations(1)"})


async def create(request: Request) -> Response:
    orjson.loads(await request.body())
    return Response(BODY, status_code=201, media_type="application/json")


async def read(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/post", create, methods=["POST"]), Route("/get", read)])
