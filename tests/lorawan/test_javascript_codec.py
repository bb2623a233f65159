"""User codecs in JavaScript: the TTN codec shape, and a sandbox that no codec escapes,
hangs or breaks."""

from __future__ import annotations

import time

import pytest

from cityhub.lorawan.decoders import Decoder, JavaScriptCodec

ELSYS_LIKE = """
function decodeUplink(input) {
  var bytes = input.bytes;
  if (bytes.length < 3 || bytes[0] !== 0x01) {
    return {errors: ["expected a temperature (type 0x01)"]};
  }
  var raw = (bytes[1] << 8) | bytes[2];
  if (raw & 0x8000) raw -= 0x10000;
  var warnings = input.fPort === 5 ? [] : ["unusual FPort " + input.fPort];
  return {data: {temperature: raw / 10, port: input.fPort}, warnings: warnings};
}
"""


def decode(source: str, payload: bytes = b"\x01\x00\xe2", port: int = 5, **limits: float):
    return JavaScriptCodec("test", source, **limits).decode(port, payload)  # type: ignore[arg-type]


def test_a_correct_codec_decodes_in_the_codec_shape():
    codec: Decoder = JavaScriptCodec("elsys-like", ELSYS_LIKE)
    result = codec.decode(5, bytes.fromhex("0100E2"))
    assert result.as_json() == {
        "data": {"temperature": 22.6, "port": 5},
        "warnings": [],
        "errors": [],
    }
    assert codec.decode(1, bytes.fromhex("01FF9C")).warnings == ["unusual FPort 1"]
    assert codec.decode(5, b"\x02").errors == ["expected a temperature (type 0x01)"]


def test_a_codec_that_throws():
    result = decode("function decodeUplink(input) {\n  throw new Error('bad payload');\n}")
    assert result.errors == ["codec 'test': threw Error: bad payload (line 2, column 13)"]
    assert result.data == {}


def test_a_codec_that_reads_past_the_end_of_an_undefined_value():
    result = decode("function decodeUplink(input) { return {data: {x: input.nothing.x}}; }")
    assert result.errors[0].startswith("codec 'test': threw TypeError")


def test_an_infinite_loop_stops_at_the_time_limit():
    started = time.monotonic()
    result = decode("function decodeUplink(input) { while (true) {} }", time_limit_s=0.3)
    assert time.monotonic() - started < 1.5
    assert result.errors == ["codec 'test': exceeded its time limit of 0.3 s"]


def test_a_loop_at_load_time_stops_too():
    result = decode("for (;;) {}\nfunction decodeUplink(input) {}", time_limit_s=0.2)
    assert result.errors == ["codec 'test': exceeded its time limit of 0.2 s"]


def test_the_time_limit_covers_loading_and_the_call_together():
    busy = "var until = Date.now() + 250; while (Date.now() < until) {}"
    source = f"{busy}\nfunction decodeUplink(input) {{ {busy}; return {{data: {{}}}}; }}"
    started = time.monotonic()
    result = decode(source, time_limit_s=0.4)
    assert time.monotonic() - started < 0.9
    assert result.errors == ["codec 'test': exceeded its time limit of 0.4 s"]


def test_catastrophic_regular_expression_stops_at_the_time_limit():
    source = """function decodeUplink(input) {
      return {data: {m: /(a+)+$/.test("a".repeat(40) + "b")}};
    }"""
    started = time.monotonic()
    result = decode(source, time_limit_s=0.3)
    assert time.monotonic() - started < 1.5
    assert result.errors == ["codec 'test': exceeded its time limit of 0.3 s"]


@pytest.mark.parametrize(
    "hog",
    [
        "var a = []; while (true) a.push(new Array(100000).fill(1));",
        "var a = []; while (true) a.push('x' + a.length);",
        "return {data: {s: 'x'.repeat(1e9)}};",
    ],
)
def test_a_memory_hog_stops_at_the_memory_limit(hog: str):
    result = decode(f"function decodeUplink(input) {{ {hog} }}", memory_limit_bytes=8 << 20)
    assert result.errors == ["codec 'test': exceeded its memory limit of 8 MiB"]


def test_deep_recursion_is_an_error():
    result = decode("function f(n) { return f(n + 1) + 1; }\nfunction decodeUplink(i) { f(0); }")
    assert result.errors[0].startswith("codec 'test': threw RangeError")


def test_a_syntax_error():
    result = decode("function decodeUplink(input) {\n  return {data: {a: 1}\n}")
    assert len(result.errors) == 1
    assert result.errors[0].startswith("codec 'test': has a syntax error: SyntaxError")
    assert "(line 3, " in result.errors[0]


def test_a_codec_without_decode_uplink():
    result = decode("function decoder(bytes, port) { return {}; }")
    assert result.errors == [
        "codec 'test': defines no function decodeUplink(input) (nor Decoder(bytes, port))"
    ]


def test_a_legacy_decoder_function():
    result = decode("function Decoder(bytes, port) { return {first: bytes[0], port: port}; }")
    assert result.as_json() == {"data": {"first": 1, "port": 5}, "warnings": [], "errors": []}


@pytest.mark.parametrize(
    ("returned", "error"),
    [
        ("42", "decodeUplink must return an object {data, warnings, errors}, got int"),
        ("undefined", "decodeUplink must return an object {data, warnings, errors}, got nothing"),
        ("[1, 2]", "decodeUplink must return an object {data, warnings, errors}, got list"),
        ("{}", "decodeUplink returned neither 'data' nor 'errors'"),
        ("{data: [1, 2]}", "decodeUplink returned 'data' that is not an object"),
        (
            "{data: {}, errors: 'bad'}",
            "decodeUplink returned 'errors' that is not a list of strings",
        ),
        (
            "{data: {}, warnings: [1]}",
            "decodeUplink returned 'warnings' that is not a list of strings",
        ),
        ("{data: {n: 1n}}", "threw TypeError"),
    ],
)
def test_a_wrong_shape_is_an_error(returned: str, error: str):
    result = decode(f"function decodeUplink(input) {{ return {returned}; }}")
    assert len(result.errors) == 1
    assert result.errors[0].startswith(f"codec 'test': {error}")


def test_a_codec_has_no_io():
    source = """function decodeUplink(input) {
      var names = ["require", "process", "fetch", "XMLHttpRequest", "WebSocket", "std", "os",
                   "setTimeout", "Deno", "Bun", "module", "exports", "importScripts"];
      var found = {};
      for (var i = 0; i < names.length; i++) found[names[i]] = typeof globalThis[names[i]];
      return {data: found};
    }"""
    result = decode(source)
    assert result.errors == []
    assert set(result.data.values()) == {"undefined"}


@pytest.mark.parametrize(
    "attempt",
    [
        "require('fs').readFileSync('/etc/passwd')",
        "std.loadFile('/etc/passwd')",
        "os.exec(['true'])",
        "fetch('http://127.0.0.1/')",
    ],
)
def test_io_attempts_fail_inside_the_sandbox(attempt: str):
    result = decode(f"function decodeUplink(input) {{ return {{data: {{x: {attempt}}}}}; }}")
    assert result.errors[0].startswith("codec 'test': threw ReferenceError")


def test_modules_cannot_be_imported():
    static = decode("import * as std from 'std';\nfunction decodeUplink(i) {}")
    assert static.errors[0].startswith("codec 'test': has a syntax error")
    dynamic = decode(
        "var loaded = 'no';\n"
        "import('os').then(function () { loaded = 'yes'; });\n"
        "function decodeUplink(i) { return {data: {loaded: loaded}}; }"
    )
    assert dynamic.data == {"loaded": "no"}


def test_one_uplink_cannot_affect_the_next():
    codec = JavaScriptCodec(
        "stateful",
        """var calls = (typeof calls === "number") ? calls + 1 : 1;
        Object.prototype.polluted = true;
        function decodeUplink(input) {
          return {data: {calls: calls, polluted: ({}).polluted === true && calls > 1}};
        }""",
    )
    first = codec.decode(1, b"")
    second = codec.decode(1, b"")
    assert first.data == second.data == {"calls": 1, "polluted": False}


def test_console_logging_is_accepted():
    result = decode("function decodeUplink(i) { console.log('hi'); return {data: {ok: true}}; }")
    assert result.data == {"ok": True}


def test_input_carries_bytes_and_port():
    result = decode(
        "function decodeUplink(i) { return {data: {b: i.bytes, p: i.fPort, "
        "t: typeof i.recvTime}}; }",
        payload=bytes([0, 127, 255]),
        port=99,
    )
    assert result.data == {"b": [0, 127, 255], "p": 99, "t": "object"}


def test_per_call_cost_is_small():
    codec = JavaScriptCodec("elsys-like", ELSYS_LIKE)
    payload = bytes.fromhex("0100E2")
    codec.decode(5, payload)
    started = time.perf_counter()
    for _ in range(50):
        codec.decode(5, payload)
    per_call = (time.perf_counter() - started) / 50
    assert per_call < 0.05  # about 0.3 ms here; generous for slow CI machines
