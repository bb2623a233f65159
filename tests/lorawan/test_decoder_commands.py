"""``cityhub decoder list`` and ``cityhub decoder test``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from cityhub.cli import main
from cityhub.lorawan.decoders import decoder_names


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_list_names_and_describes_every_builtin():
    result = run("decoder", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == decoder_names()
    assert any(line.startswith("elsys ") and "ERS CO2" in line for line in lines)


def test_decodes_with_a_builtin_and_prints_the_codec_shape():
    result = run("decoder", "test", "elsys", "--port", "1", "0100E202290400270506060308")
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "data": {"temperature": 22.6, "humidity": 41, "light": 39, "motion": 6, "co2": 776},
        "warnings": [],
        "errors": [],
    }


def test_errors_exit_with_1():
    result = run("decoder", "test", "dragino-lse01", "--port", "42", "CE2900F107A5099B6E2890")
    assert result.exit_code == 1
    assert json.loads(result.output)["errors"] == ["unknown FPort"]


def test_payload_may_have_a_prefix_and_spaces():
    result = run("decoder", "test", "bosch-tps110", "--port", "2", "0x01 FF")
    assert json.loads(result.output)["data"] == {
        "type": "heartbeat",
        "occupied": True,
        "temperature": -1,
    }


def test_a_user_codec_file(tmp_path: Path):
    codec = tmp_path / "counter.js"
    codec.write_text(
        "function decodeUplink(input) {\n"
        "  return {data: {count: (input.bytes[0] << 8) | input.bytes[1], port: input.fPort}};\n"
        "}\n"
    )
    result = run("decoder", "test", "--codec", str(codec), "--port", "7", "0102")
    assert result.exit_code == 0
    assert json.loads(result.output)["data"] == {"count": 258, "port": 7}


def test_a_failing_user_codec_exits_with_1(tmp_path: Path):
    codec = tmp_path / "broken.js"
    codec.write_text("function decodeUplink(input) { while (true) {} }")
    result = run("decoder", "test", "--codec", str(codec), "--port", "1", "00")
    assert result.exit_code == 1
    assert "exceeded its time limit" in json.loads(result.output)["errors"][0]


def test_unknown_decoder_lists_the_known_ones():
    result = run("decoder", "test", "elsys-9000", "--port", "1", "00")
    assert result.exit_code == 1
    assert "unknown decoder 'elsys-9000'" in result.output
    assert "milesight-am307" in result.output


def test_bad_hex_and_missing_arguments_are_usage_errors(tmp_path: Path):
    assert run("decoder", "test", "elsys", "--port", "1", "01G").exit_code == 2
    assert run("decoder", "test", "elsys", "--port", "1").exit_code == 2
    assert run("decoder", "test", "elsys", "0100E2").exit_code == 2
    codec = tmp_path / "c.js"
    codec.write_text("function decodeUplink(i) { return {data: {}}; }")
    both = run("decoder", "test", "elsys", "--codec", str(codec), "--port", "1", "00")
    assert both.exit_code == 2
    assert "not both" in both.output
