"""User codecs: a TTN device-repository codec (``function decodeUplink(input)``, or the
legacy ``function Decoder(bytes, port)``) run in a sandboxed QuickJS engine, a fresh one for
every uplink.

The engine has no I/O at all (no ``require``, modules, network, files or timers); each call
gets its own runtime with a time limit and a memory limit, so one uplink cannot affect the
next and a codec that loops, allocates without end, throws or returns the wrong shape gives
a ``DecodeResult`` with an error, never an exception or a hung process.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import quickjs

from cityhub.lorawan.decoders.base import DecodeResult, FieldInfo

MiB = 1024 * 1024
#: Stack for the codec's own calls; deep recursion fails cleanly within it.
STACK_BYTES = 256 * 1024
#: The least time a call gets, however long loading the codec took.
MIN_TIME_S = 0.001
#: Where TTN codecs may log: accepted and dropped.
PRELUDE = "var console = {log: function () {}, warn: function () {}, error: function () {}};"
#: What the call returns when there is no function to call.
NO_FUNCTION = "cityhub: no decodeUplink"
CALL = """(function () {
  var input = {bytes: %s, fPort: %d, recvTime: new Date()};
  var result;
  if (typeof decodeUplink === "function") {
    result = decodeUplink(input);
  } else if (typeof Decoder === "function") {
    result = {data: Decoder(input.bytes, input.fPort)};
  } else {
    return %s;
  }
  return JSON.stringify(result === undefined ? null : result);
})()"""


class CodecError(Exception):
    """Why a codec gave no usable result; becomes the ``DecodeResult``'s error."""


class JavaScriptCodec:
    """A user codec in the TTN format: ``decodeUplink({bytes, fPort})`` returning
    ``{data, warnings, errors}``."""

    def __init__(
        self,
        name: str,
        source: str,
        *,
        time_limit_s: float = 1.0,
        memory_limit_bytes: int = 32 * MiB,
    ) -> None:
        self.name = name
        self.description = f"JavaScript codec {name!r}"
        self.fields: dict[str, FieldInfo] = {}
        self.source = source
        self.time_limit_s = time_limit_s
        self.memory_limit_bytes = memory_limit_bytes

    def decode(self, f_port: int, payload: bytes) -> DecodeResult:
        try:
            return _result(self._run(f_port, bytes(payload)))
        except CodecError as exc:
            return DecodeResult(errors=[f"codec {self.name!r}: {exc}"])

    def _run(self, f_port: int, payload: bytes) -> Any:
        context = quickjs.Context()
        context.set_memory_limit(self.memory_limit_bytes)
        context.set_max_stack_size(STACK_BYTES)
        context.set_time_limit(self.time_limit_s)
        context.eval(PRELUDE)
        started = time.monotonic()
        self._eval(context, self.source, loading=True)
        # The engine's limit holds for each eval: the call gets what loading left over.
        left = self.time_limit_s - (time.monotonic() - started)
        context.set_time_limit(max(left, MIN_TIME_S))
        call = CALL % (json.dumps(list(payload)), f_port, json.dumps(NO_FUNCTION))
        returned = self._eval(context, call, loading=False)
        if returned == NO_FUNCTION:
            raise CodecError("defines no function decodeUplink(input) (nor Decoder(bytes, port))")
        if not isinstance(returned, str):
            raise CodecError("its result cannot be turned into JSON")
        try:
            return json.loads(returned)
        except ValueError:
            raise CodecError("its result cannot be turned into JSON") from None

    def _eval(self, context: quickjs.Context, code: str, *, loading: bool) -> Any:
        try:
            return context.eval(code)
        except quickjs.JSException as exc:
            raise CodecError(self._explain(str(exc), loading=loading)) from None
        except (MemoryError, OverflowError, ValueError, TypeError) as exc:
            raise CodecError(f"failed: {exc}") from None

    def _explain(self, message: str, *, loading: bool) -> str:
        """The engine's exception in words that say which limit or fault it was."""
        first = _first_lines(message)
        # Out of memory while reporting out of memory, the engine throws null.
        thrown_null = first == "null" and re.search(r"throw\s*\(?\s*null", self.source)
        if "out of memory" in message or (first == "null" and not thrown_null):
            return f"exceeded its memory limit of {_size(self.memory_limit_bytes)}"
        if first.startswith("InternalError: interrupted"):
            return f"exceeded its time limit of {self.time_limit_s:g} s"
        if loading and first.startswith("SyntaxError"):
            return f"has a syntax error: {first}"
        return f"threw {first}"


def _first_lines(message: str) -> str:
    """The exception and where it was raised: ``TypeError: … at line 3, column 7``."""
    lines = [line.strip() for line in message.strip().splitlines()]
    if not lines:
        return "an exception without a message"
    where = re.search(r"<input>:(\d+):(\d+)", lines[1]) if len(lines) > 1 else None
    if where:
        return f"{lines[0]} (line {where[1]}, column {where[2]})"
    return lines[0]


def _size(count: int) -> str:
    return f"{count / MiB:g} MiB" if count % MiB == 0 else f"{count} bytes"


def _result(returned: Any) -> DecodeResult:
    """The codec's return value checked against the TTN shape ``{data, warnings, errors}``."""
    if not isinstance(returned, dict):
        kind = "nothing" if returned is None else type(returned).__name__
        raise CodecError(
            f"decodeUplink must return an object {{data, warnings, errors}}, got {kind}"
        )
    errors = _strings(returned, "errors")
    warnings = _strings(returned, "warnings")
    data = returned.get("data")
    if data is not None and not isinstance(data, dict):
        raise CodecError("decodeUplink returned 'data' that is not an object")
    if data is None and not errors:
        raise CodecError("decodeUplink returned neither 'data' nor 'errors'")
    return DecodeResult(data=data or {}, warnings=warnings, errors=errors)


def _strings(returned: dict[str, Any], key: str) -> list[str]:
    value = returned.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CodecError(f"decodeUplink returned '{key}' that is not a list of strings")
    return value
