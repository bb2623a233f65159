"""Batch requests (clause 11): the OData ``multipart/mixed`` and JSON formats, read and written.

Both formats map to one internal shape: a list of ``PartRequest`` and ``ChangeSet`` items in
request order, and back from a list of ``PartResponse`` and ``ChangeSetResponse``. A batch
that cannot be read (a broken envelope, a request line, a method, a part body that is not
JSON) is rejected as a whole with a 400 before anything runs; what is wrong with a request
that can be read is answered in that request's own response.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

import orjson

from cityhub.errors import BadRequest, UnsupportedMediaType

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
_STARTS_WITH_METHOD = re.compile(rb"(?i)(GET|POST|PATCH|PUT|DELETE) ")
_HTTP_VERSION = re.compile(r"(^|\s+)HTTP/\d(\.\d)?$")
Format = Literal["multipart", "json"]


@dataclass(frozen=True)
class PartRequest:
    """One request of a batch; ``id`` is its Content-ID (multipart) or ``id`` (JSON)."""

    id: str | None
    method: str
    url: str
    body: Any = None
    depends_on: tuple[str, ...] = ()
    content_type: str | None = None  # of the body: JSON Patch or an entity


@dataclass(frozen=True)
class ChangeSet:
    """Requests that succeed or fail together: a change set, or a JSON atomicity group."""

    id: str | None
    requests: tuple[PartRequest, ...]


Item = PartRequest | ChangeSet


@dataclass(frozen=True)
class Batch:
    format: Format
    items: tuple[Item, ...]


@dataclass(frozen=True)
class PartResponse:
    id: str | None
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")


@dataclass(frozen=True)
class ChangeSetResponse:
    """The answer to a change set: one response per request, or, when it failed, the
    failing request's response (``failed``) while the others answer 424."""

    id: str | None
    responses: tuple[PartResponse, ...]
    failed: PartResponse | None = None


ResponseItem = PartResponse | ChangeSetResponse


# --- reading --------------------------------------------------------------------------------


def parse_batch(content_type: str | None, body: bytes) -> Batch:
    """Read a batch request body of either format."""
    media_type, params = parse_media_type(content_type or "")
    if media_type == "multipart/mixed":
        boundary = _boundary(params, "the batch")
        return Batch("multipart", tuple(_read_multipart(body, boundary)))
    if media_type == "application/json":
        return Batch("json", tuple(_read_json(body)))
    raise UnsupportedMediaType(
        "send a batch as multipart/mixed with a boundary, or as application/json with "
        f'{{"requests": […]}}, not {content_type or "a body without Content-Type"}'
    )


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``multipart/mixed; boundary="b"`` → (``multipart/mixed``, {"boundary": "b"})."""
    media_type, *raw_params = value.split(";")
    params = {}
    for raw in raw_params:
        name, equals, param_value = raw.partition("=")
        if equals:
            param_value = param_value.strip()
            if len(param_value) >= 2 and param_value[0] == param_value[-1] == '"':
                param_value = param_value[1:-1]
            params[name.strip().lower()] = param_value
    return media_type.strip().lower(), params


def _boundary(params: dict[str, str], where: str) -> str:
    boundary = params.get("boundary", "")
    if not boundary:
        raise BadRequest(f'{where}: the Content-Type multipart/mixed needs a boundary="…"')
    return boundary


def _read_multipart(body: bytes, boundary: str) -> list[Item]:
    items: list[Item] = []
    for number, part in enumerate(_split_multipart(body, boundary, "the batch"), start=1):
        where = f"part {number} of the batch"
        headers, content = _mime_part(part, where)
        media_type, params = parse_media_type(headers.get("content-type", "application/http"))
        if media_type == "multipart/mixed":
            items.append(_read_change_set(content, _boundary(params, where), headers, where))
        else:
            items.append(_read_http_part(headers, content, media_type, where))
    return items


def _read_change_set(body: bytes, boundary: str, headers: dict[str, str], where: str) -> ChangeSet:
    requests = []
    for number, part in enumerate(_split_multipart(body, boundary, where), start=1):
        part_where = f"part {number} of the change set in {where}"
        part_headers, content = _mime_part(part, part_where)
        media_type, _ = parse_media_type(part_headers.get("content-type", "application/http"))
        if media_type == "multipart/mixed":
            raise BadRequest(f"{part_where}: a change set cannot hold another change set")
        requests.append(_read_http_part(part_headers, content, media_type, part_where))
    ids = [request.id for request in requests if request.id is not None]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise BadRequest(f"{where}: the Content-ID {duplicate} appears twice in one change set")
    return ChangeSet(headers.get("content-id"), tuple(requests))


def _split_multipart(body: bytes, boundary: str, where: str) -> list[bytes]:
    """The parts between the delimiter lines (RFC 2046), accepting CRLF and bare LF."""
    delimiter = re.compile(
        rb"(?:\A|\r?\n)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*(?:\r?\n|\Z)"
    )
    parts: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(body):
        if start is not None:
            parts.append(body[start : match.start()])
        if match.group(1):
            return parts
        start = match.end()
    if start is None:
        raise BadRequest(
            f"{where}: no delimiter line '--{boundary}' found; the boundary in the "
            "Content-Type must match the one in the body"
        )
    raise BadRequest(f"{where}: the closing delimiter '--{boundary}--' is missing")


def _mime_part(part: bytes, where: str) -> tuple[dict[str, str], bytes]:
    """A part's MIME headers and content; a part that starts with its request line right
    away, without headers, is taken as ``application/http``."""
    if _STARTS_WITH_METHOD.match(part):
        return {}, part
    return _split_head(part, where)


def _split_head(data: bytes, where: str) -> tuple[dict[str, str], bytes]:
    """Header lines (names lower-cased), then the content after the first empty line."""
    if data.startswith((b"\r\n", b"\n")):
        return {}, data[2 if data.startswith(b"\r\n") else 1 :]
    match = re.search(rb"\r?\n\r?\n", data)
    head, content = (data, b"") if match is None else (data[: match.start()], data[match.end() :])
    try:
        text = head.decode()
    except UnicodeDecodeError:
        raise BadRequest(f"{where}: the header lines are not UTF-8 text") from None
    return _header_lines(text.splitlines(), where), content


def _header_lines(lines: list[str], where: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    name = ""
    for line in lines:
        if line[:1] in (" ", "\t") and name:  # a folded continuation of the previous header
            headers[name] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name or " " in name:
            raise BadRequest(f"{where}: '{line}' is not a header line (Name: value)")
        headers[name] = value.strip()
    return headers


def _read_http_part(
    headers: dict[str, str], content: bytes, media_type: str, where: str
) -> PartRequest:
    """An ``application/http`` part: request line, headers, an empty line, the body."""
    if media_type != "application/http":
        raise BadRequest(
            f"{where}: a part must be application/http or a change set, not {media_type}"
        )
    content = content.lstrip(b"\r\n")
    line_end = re.search(rb"\r?\n", content)
    line_bytes = content if line_end is None else content[: line_end.start()]
    rest = b"" if line_end is None else content[line_end.end() :]
    method, url = _request_line(line_bytes.decode(errors="replace").strip(), where)
    inner_headers, body_bytes = _split_head(rest, where) if rest.strip() else ({}, b"")
    content_id = headers.get("content-id") or inner_headers.get("content-id")
    return PartRequest(
        content_id,
        method,
        url,
        _json_body(body_bytes, where),
        content_type=inner_headers.get("content-type"),
    )


def _request_line(line: str, where: str) -> tuple[str, str]:
    """``METHOD URL HTTP/1.1``; the version may be missing, spaces in the URL are kept."""
    if not line:
        raise BadRequest(f"{where}: the request line (e.g. 'GET Things(1) HTTP/1.1') is missing")
    method, _, rest = line.partition(" ")
    if method.endswith(":"):
        raise BadRequest(
            f"{where}: the request line (e.g. 'POST Things HTTP/1.1') is missing; "
            f"found the header '{line}' in its place"
        )
    url = _HTTP_VERSION.sub("", rest.strip()).strip()
    if not url:
        raise BadRequest(f"{where}: '{line}' is not a request line like 'GET Things(1) HTTP/1.1'")
    return _method(method, where), url


def _method(name: str, where: str) -> str:
    method = name.upper()
    if method not in METHODS:
        raise BadRequest(f"{where}: unknown method '{name}'; use one of {', '.join(METHODS)}")
    return method


def _json_body(data: bytes, where: str) -> Any:
    if not data.strip():
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{where}: the body is not valid JSON: {exc}") from None


def _read_json(body: bytes) -> list[Item]:
    """The OData 4.01 JSON format: ``{"requests": [{"id", "method", "url", …}]}``."""
    document = _json_body(body, "the batch")
    requests = document.get("requests") if isinstance(document, dict) else None
    if not isinstance(requests, list):
        raise BadRequest('a JSON batch is an object {"requests": [{"id", "method", "url"}, …]}')
    reader = _JsonReader()
    for index, raw in enumerate(requests):
        reader.add(raw, f"requests[{index}]")
    return reader.finished


@dataclass
class _JsonReader:
    """Checks the ids, atomicity groups (adjacent members) and dependsOn of a JSON batch."""

    items: list[Item] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # ids and finished atomicity groups
    group: str | None = None
    members: list[PartRequest] = field(default_factory=list)

    def add(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise BadRequest(f"{where} must be an object with id, method and url")
        group = raw.get("atomicityGroup")
        if group is not None and not isinstance(group, str):
            raise BadRequest(f"{where}: atomicityGroup must be a string")
        if group != self.group:
            self._close_group()
        request = self._request(raw, where)
        if group is None:
            self.items.append(request)
            self.names.add(str(request.id))
            return
        if group in self.names:
            raise BadRequest(
                f"{where}: the requests of atomicity group '{group}' must be adjacent, and "
                "a group's name must differ from every id"
            )
        self.group = group
        self.members.append(request)

    def _request(self, raw: dict[str, Any], where: str) -> PartRequest:
        request_id = _text(raw, "id", where)
        member_ids = {m.id for m in self.members}
        if request_id in self.names or request_id in member_ids:
            raise BadRequest(f"{where}: the id '{request_id}' is used twice")
        depends_on = raw.get("dependsOn", [])
        if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
            raise BadRequest(f"{where}: dependsOn must be a list of ids")
        for name in depends_on:
            if name not in self.names and name not in member_ids:
                raise BadRequest(
                    f"{where}: dependsOn names '{name}', which is no earlier request or "
                    "atomicity group"
                )
        method = _method(_text(raw, "method", where), where)
        url = _text(raw, "url", where)
        headers = raw.get("headers")
        content_type = None
        if isinstance(headers, dict):
            content_type = next(
                (
                    v
                    for k, v in headers.items()
                    if isinstance(k, str) and k.lower() == "content-type" and isinstance(v, str)
                ),
                None,
            )
        return PartRequest(
            request_id, method, url, raw.get("body"), tuple(depends_on), content_type
        )

    def _close_group(self) -> None:
        if self.group is not None:
            self.items.append(ChangeSet(self.group, tuple(self.members)))
            self.names.add(self.group)
            self.names.update(m.id for m in self.members if m.id is not None)
        self.group, self.members = None, []

    @property
    def finished(self) -> list[Item]:
        self._close_group()
        return self.items


def _text(raw: dict[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and name == "id":
        return str(value)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{where}: '{name}' must be a non-empty string")
    return value


# --- writing --------------------------------------------------------------------------------


def format_batch(batch_format: Format, responses: list[ResponseItem]) -> tuple[bytes, str]:
    """The response body and its Content-Type, in the format the request came in."""
    if batch_format == "json":
        return _write_json(responses), "application/json"
    boundary = f"batchresponse_{uuid.uuid4()}"
    return _write_multipart(responses, boundary), f"multipart/mixed; boundary={boundary}"


def _write_multipart(responses: list[ResponseItem], boundary: str) -> bytes:
    chunks: list[bytes] = []
    for item in responses:
        chunks.append(f"--{boundary}\r\n".encode())
        if isinstance(item, PartResponse):
            chunks.append(_http_part(item))
        elif item.failed is not None:
            chunks.append(_http_part(item.failed))  # OData: one response for a failed set
        else:
            inner = f"changesetresponse_{uuid.uuid4()}"
            nested = _write_multipart(list(item.responses), inner)
            chunks.append(f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode())
            chunks.append(nested + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def _http_part(response: PartResponse) -> bytes:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if response.id is not None:
        head.append(f"Content-ID: {response.id}")
    reason = HTTPStatus(response.status).phrase
    lines = [*head, "", f"HTTP/1.1 {response.status} {reason}"]
    lines += [f"{_header_name(name)}: {value}" for name, value in response.headers]
    lines += [f"Content-Length: {len(response.body)}", "", ""]
    return "\r\n".join(lines).encode() + response.body + b"\r\n"


def _header_name(name: str) -> str:
    """``content-type`` → ``Content-Type``, as headers are usually written."""
    return "-".join(word.capitalize() for word in name.split("-"))


def _write_json(responses: list[ResponseItem]) -> bytes:
    answers: list[dict[str, Any]] = []
    for item in responses:
        if isinstance(item, PartResponse):
            answers.append(_json_answer(item))
            continue
        for response in item.responses:
            answers.append({**_json_answer(response), "atomicityGroup": item.id})
    return orjson.dumps({"responses": answers})


def _json_answer(response: PartResponse) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": response.id,
        "status": response.status,
        "headers": {name.lower(): value for name, value in response.headers},
    }
    if response.body:
        if "json" in response.content_type:
            answer["body"] = orjson.loads(response.body)
        else:
            answer["body"] = response.body.decode(errors="replace")
    return answer
