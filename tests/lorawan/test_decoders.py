"""Built-in decoders: the vendors' published examples, cases from their documentation,
and bad bytes that must become errors, never exceptions."""

from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path
from typing import Any

import pytest

from cityhub.lorawan.decoders import (
    DecodeResult,
    FieldInfo,
    UnknownDecoder,
    builtin_decoders,
    decoder_names,
    get_decoder,
)
from cityhub.lorawan.decoders.elsys import ElsysDecoder

#: The shared example data lives beside the repository (``../shared/data``).
SHARED_DATA = Path(
    os.environ.get("CITYHUB_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
)
EXAMPLES = SHARED_DATA / "lorawan_codec_examples.json"

#: Which built-in decoder implements each vendor codec of the examples.
CODECS = {
    "vendor/elsys/elsys.js": "elsys",
    "vendor/decentlab/dl-sht35.js": "decentlab-dl-sht35",
    "vendor/decentlab/dl-mbx.js": "decentlab-dl-mbx",
    "vendor/decentlab/dl-pm.js": "decentlab-dl-pm",
    "vendor/dragino/lse01.js": "dragino-lse01",
    "vendor/dragino/lht65.js": "dragino-lht65",
    "vendor/dragino/ldds75.js": "dragino-ldds75",
    "vendor/milesight-iot/em300-th.js": "milesight-em300-th",
    "vendor/milesight-iot/em310-udl.js": "milesight-em310-udl",
    "vendor/milesight-iot/am307.js": "milesight-am307",
    "vendor/browan/tbhh100.js": "browan-tbhh100",
    "vendor/browan/tbms100.js": "browan-tbms100",
    "vendor/nwave/nps405.js": "nwave-nps",
    "vendor/bosch/tpl110-0292.js": "bosch-tps110",
}


def same(actual: Any, expected: Any, where: str = "") -> None:
    """Equal JSON values, floats within 1e-9 relative, booleans never equal to numbers."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert sorted(actual) == sorted(expected), where
        for key, value in expected.items():
            same(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), where
        assert len(actual) == len(expected), where
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            same(a, e, f"{where}[{index}]")
    elif isinstance(expected, bool) or expected is None or isinstance(expected, str):
        assert actual is expected or actual == expected, where
        assert type(actual) is type(expected), where
    else:
        assert isinstance(actual, int | float), where
        assert not isinstance(actual, bool), where
        assert math.isclose(actual, expected, rel_tol=1e-9), f"{where}: {actual} != {expected}"


def check(result: DecodeResult, expected: dict[str, Any]) -> None:
    """The result in the codec shape: ``data`` and ``errors`` as expected (no errors when
    none are expected); ``warnings`` only where the expectation names them."""
    assert result.errors == expected.get("errors", [])
    if "data" in expected:
        same(result.data, expected["data"], "data")
    if "warnings" in expected:
        assert result.warnings == expected["warnings"]


def _examples() -> list[Any]:
    if not EXAMPLES.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{EXAMPLES} is absent"))]
    cases = json.loads(EXAMPLES.read_text(encoding="utf-8"))["cases"]
    return [
        pytest.param(case, id=f"{case['device']}-port{case['f_port']}-{case['bytes_hex']}")
        for case in cases
    ]


@pytest.mark.parametrize("case", _examples())
def test_vendor_examples(case: dict[str, Any]):
    codec = case["repo_paths"]["codec_js"]
    assert codec in CODECS, f"no built-in decoder for {codec}"
    result = get_decoder(CODECS[codec]).decode(case["f_port"], bytes.fromhex(case["bytes_hex"]))
    check(result, case["expected"])


def _dl(display_name: str, value: float, unit: str | None = None) -> dict[str, Any]:
    """A Decentlab value as its codec nests it."""
    entry: dict[str, Any] = {"displayName": display_name, "value": value}
    if unit is not None:
        entry["unit"] = unit
    return entry


OWN_CASES: list[tuple[str, int, str, dict[str, Any]]] = [
    # Elsys: ERS Lite, a supply voltage, a negative temperature, repeated probes.
    ("elsys", 1, "0100E20229", {"data": {"temperature": 22.6, "humidity": 41}}),
    ("elsys", 5, "01FF9C070E10", {"data": {"temperature": -10.0, "vdd": 3600}}),
    ("elsys", 5, "1900FA19FF38", {"data": {"externalTemperature2": [25.0, -20.0]}}),
    ("elsys", 5, "03FF0141", {"data": {"x": -1, "y": 1, "z": 65}}),
    ("elsys", 5, "1400018A87", {"data": {"pressure": 100.999}}),
    (
        "elsys",
        5,
        "0100E2FF0102",
        {
            "data": {"temperature": 22.6},
            "warnings": [
                "unknown Elsys data type 0xFF at byte 3: the rest of the payload is ignored"
            ],
        },
    ),
    # Decentlab DL-LP8P (examples of its codec definition).
    (
        "decentlab-dl-lp8p",
        1,
        "020578000F67BD618D1CEDBD1081D981F4895B0BD80BB50000959895390C25",
        {
            "data": {
                "protocol_version": 2,
                "device_id": 1400,
                "air_temperature": _dl("Air temperature", 24.35660461425781, "°C"),
                "air_humidity": _dl("Air humidity", 41.63221740722656, "%"),
                "barometer_temperature": _dl("Barometer temperature", 24.05, "°C"),
                "barometric_pressure": _dl("Barometric pressure", 96800, "Pa"),
                "co2_concentration": _dl("CO2 concentration", 473, "ppm"),
                "co2_concentration_lpf": _dl("CO2 concentration LPF", 500, "ppm"),
                "co2_sensor_temperature": _dl("CO2 sensor temperature", 23.95, "°C"),
                "capacitor_voltage_1": _dl("Capacitor voltage 1", 3.032, "V"),
                "capacitor_voltage_2": _dl("Capacitor voltage 2", 2.997, "V"),
                "co2_sensor_status": _dl("CO2 sensor status", 0),
                "raw_ir_reading": _dl("Raw IR reading", 38296),
                "raw_ir_reading_lpf": _dl("Raw IR reading LPF", 38201),
                "battery_voltage": _dl("Battery voltage", 3.109, "V"),
            }
        },
    ),
    (
        "decentlab-dl-lp8p",
        1,
        "020578000B67BD618D1CEDBD100C25",
        {
            "data": {
                "protocol_version": 2,
                "device_id": 1400,
                "air_temperature": _dl("Air temperature", 24.35660461425781, "°C"),
                "air_humidity": _dl("Air humidity", 41.63221740722656, "%"),
                "barometer_temperature": _dl("Barometer temperature", 24.05, "°C"),
                "barometric_pressure": _dl("Barometric pressure", 96800, "Pa"),
                "battery_voltage": _dl("Battery voltage", 3.109, "V"),
            }
        },
    ),
    (
        "decentlab-dl-lp8p",
        1,
        "02057800080C25",
        {
            "data": {
                "protocol_version": 2,
                "device_id": 1400,
                "battery_voltage": _dl("Battery voltage", 3.109, "V"),
            }
        },
    ),
    # Milesight: negative temperature, the AM307's other channels, a tilted EM310.
    (
        "milesight-em300-th",
        85,
        "03679CFF04687F",
        {"data": {"temperature": -10.0, "humidity": 63.5}},
    ),
    (
        "milesight-am307",
        85,
        "05000106CB020A7D0A000B7D23000C7D28000D7D05000E0101",
        {
            "data": {
                "pir": "trigger",
                "light_level": 2,
                "hcho": 0.1,
                "pm2_5": 35,
                "pm10": 40,
                "o3": 0.05,
                "beep": "yes",
            }
        },
    ),
    (
        "milesight-em310-udl",
        85,
        "03822C010400 00".replace(" ", ""),
        {"data": {"distance": 300, "tilt": "normal"}},
    ),
    # Dragino LDDS75 (examples of its codec definition, and a 5-byte reading).
    ("dragino-ldds75", 2, "0E1C0B05", {"data": {"distance": "No Sensor"}}),
    ("dragino-ldds75", 42, "0E1C0B05", {"errors": ["unknown FPort"]}),
    ("dragino-ldds75", 2, "0B4505DC00", {"data": {"value": 1500, "distance": 1500}}),
    ("dragino-ldds75", 2, "0B45001000", {"data": {"value": 16, "distance": "Invalid Reading"}}),
    # Dragino LHT65 without external sensor, LSE01 below freezing.
    (
        "dragino-lht65",
        2,
        "CBF6FF380376007FFF7FFF",
        {
            "data": {
                "BatV": 3.062,
                "Bat_status": 3,
                "TempC_SHT": -2.0,
                "Hum_SHT": 88.6,
                "Ext_sensor": "No external sensor",
            }
        },
    ),
    ("dragino-lht65", 42, "CBF60B0D0376010ADD7FFF", {"errors": ["unknown FPort"]}),
    (
        "dragino-lse01",
        2,
        "0E29FFEC07A5FF9C6E2890",
        {
            "data": {
                "Bat": 3.625,
                "TempC_DS18B20": "-2.0",
                "water_SOIL": "19.57",
                "temp_SOIL": "-0.99",
                "conduct_SOIL": 28200,
            }
        },
    ),
    # Browan: a TBMS100 with no motion, a TBHH100 on another port.
    (
        "browan-tbms100",
        102,
        "00BB350A00E8030000",
        {"data": {"status": 0, "battery": 3.6, "temperatureBoard": 21, "time": 10, "count": 1000}},
    ),
    ("browan-tbms100", 103, "01BB340400DC7801", {"errors": ["unknown FPort"]}),
    ("browan-tbhh100", 102, "08AB3522", {"errors": ["unknown FPort"]}),
    # Nwave: tag registration (from the codec definition) and an overflowed duration.
    (
        "nwave-nps",
        10,
        "D11F345678",
        {
            "data": {
                "type": "user_registration",
                "occupied": True,
                "previous_state_duration": 160,
                "previous_state_duration_error": 4,
                "previous_state_duration_overflow": False,
                "tag_id": "1F345678",
            }
        },
    ),
    (
        "nwave-nps",
        1,
        "FF",
        {
            "data": {
                "type": "parking_status",
                "occupied": True,
                "previous_state_duration": 660,
                "previous_state_duration_error": None,
                "previous_state_duration_overflow": True,
            }
        },
    ),
    # Bosch: start-up (from the codec definition); a PLS heartbeat without temperature.
    (
        "bosch-tps110",
        3,
        "240300007503000000000000001D020301",
        {
            "data": {
                "type": "startup",
                "debugCodes": [804, 885],
                "firmwareVersion": "0.29.2",
                "resetCause": "system request",
                "occupied": True,
            }
        },
    ),
    ("bosch-pls", 1, "00", {"data": {"type": "parking status", "occupied": False}}),
    ("bosch-pls", 2, "01", {"data": {"type": "heartbeat", "occupied": True}}),
    ("bosch-pls", 2, "0019", {"data": {"type": "heartbeat", "occupied": False, "temperature": 25}}),
]


@pytest.mark.parametrize(("name", "port", "hex_bytes", "expected"), OWN_CASES)
def test_documented_cases(name: str, port: int, hex_bytes: str, expected: dict[str, Any]):
    check(get_decoder(name).decode(port, bytes.fromhex(hex_bytes)), expected)


BAD_BYTES: list[tuple[str, int, str, str]] = [
    ("elsys", 5, "0100", "payload too short: temperature at byte 1 needs 2 byte(s), 1 left"),
    ("decentlab-dl-sht35", 1, "03030E00020C60", "protocol version 3 doesn't match v2"),
    ("decentlab-dl-sht35", 1, "02030E0003", "payload too short: air_temperature"),
    ("decentlab-dl-pm", 1, "", "payload too short: protocol version"),
    ("milesight-em300-th", 85, "0175", "payload too short: battery"),
    ("milesight-am307", 85, "01", "payload too short: channel type"),
    ("dragino-lht65", 2, "CBF60B0D03", "payload must be 11 bytes, got 5"),
    ("dragino-lse01", 2, "CE2900F1", "payload too short: LSE01 needs at least 10 bytes, got 4"),
    ("dragino-lse01", 3, "CE2900F107A5099B6E2890", "unknown FPort"),
    ("browan-tbhh100", 103, "08AB", "payload too short: TBHH100 needs at least 4 bytes, got 2"),
    ("browan-tbms100", 102, "0000000000000000", "empty payload"),
    ("browan-tbms100", 102, "01BB34", "payload too short: TBMS100 needs at least 8 bytes, got 3"),
    ("nwave-nps", 2, "00D3", "payload too short: this message needs at least 3 bytes, got 2"),
    ("nwave-nps", 7, "00", "unknown FPort"),
    ("bosch-tps110", 3, "2403", "payload too short: this message needs at least 17 bytes, got 2"),
    ("bosch-tps110", 9, "01", "unknown FPort"),
    ("bosch-pls", 1, "", "payload too short: this message needs at least 1 bytes, got 0"),
]


@pytest.mark.parametrize(("name", "port", "hex_bytes", "error"), BAD_BYTES)
def test_bad_bytes_are_errors(name: str, port: int, hex_bytes: str, error: str):
    result = get_decoder(name).decode(port, bytes.fromhex(hex_bytes))
    assert len(result.errors) == 1
    assert result.errors[0].startswith(error)
    assert result.data == {}


@pytest.mark.parametrize("name", decoder_names())
def test_garbage_never_raises(name: str):
    decoder = get_decoder(name)
    rng = random.Random(name)
    for _ in range(400):
        payload = rng.randbytes(rng.randrange(0, 24))
        port = rng.choice([0, 1, 2, 3, 4, 5, 6, 10, 85, 102, 103, 224, 255])
        result = decoder.decode(port, payload)
        assert isinstance(result, DecodeResult)
        json.dumps(result.as_json(), allow_nan=False)


def test_every_builtin_describes_itself():
    decoders = builtin_decoders()
    assert list(decoders) == decoder_names()
    assert len(decoders) == 16
    for name, decoder in decoders.items():
        assert decoder.name == name
        assert decoder.description
        assert decoder.fields
        assert all(isinstance(info, FieldInfo) for info in decoder.fields.values())


def test_fields_name_what_is_measured_and_its_unit():
    sht35 = get_decoder("decentlab-dl-sht35").fields
    assert sht35["air_temperature"] == FieldInfo("Air temperature", "°C", "degree Celsius")
    assert get_decoder("elsys").fields["co2"].unit_symbol == "ppm"
    assert get_decoder("milesight-em310-udl").fields["distance"].unit_symbol == "mm"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError) as raised:
        get_decoder("elsys-ers-9000")
    assert isinstance(raised.value, UnknownDecoder)
    message = str(raised.value)
    assert "'elsys-ers-9000'" in message
    assert all(name in message for name in decoder_names())


def test_third_party_decoder_by_dotted_path():
    decoder = get_decoder("cityhub.lorawan.decoders.elsys:ElsysDecoder")
    assert isinstance(decoder, ElsysDecoder)
    assert decoder.decode(5, bytes.fromhex("0100E2")).data == {"temperature": 22.6}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("no_such_package.decoders:Thing", "cannot import 'no_such_package.decoders'"),
        ("cityhub.lorawan.decoders.elsys:Nothing", "has no class 'Nothing'"),
        ("collections:OrderedDict", "it is not a decoder"),
        ("cityhub.lorawan.decoders.binary:Reader", "cannot make it without arguments"),
    ],
)
def test_third_party_decoder_that_cannot_be_used(path: str, reason: str):
    with pytest.raises(UnknownDecoder, match=reason):
        get_decoder(path)
