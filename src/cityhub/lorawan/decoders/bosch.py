"""Bosch Parking Lot Sensor (PLS, part number TPS110): parking status, heartbeat,
start-up, device information and debug messages, one type per FPort."""

from __future__ import annotations

from typing import Any, ClassVar

from cityhub.lorawan.decoders import units
from cityhub.lorawan.decoders.base import FieldInfo
from cityhub.lorawan.decoders.binary import require_length, signed
from cityhub.lorawan.decoders.builtin import BuiltinDecoder

RESET_CAUSES = (None, "watchdog", "power on", "system request", "other")


class BoschParking(BuiltinDecoder):
    name = "bosch-tps110"
    description = "Bosch Parking Lot Sensor TPS110 (firmware 0.29 and later)"
    ports = frozenset({1, 2, 3, 4, 5, 6})
    FIELDS: ClassVar[dict[str, FieldInfo]] = {"temperature": units.DEVICE_TEMPERATURE}

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        require_length(payload, {1: 1, 2: 1, 3: 17, 4: 0, 5: 0, 6: 10}[f_port], "this message")
        if f_port in (1, 2):
            data: dict[str, Any] = {
                "type": "parking status" if f_port == 1 else "heartbeat",
                "occupied": bool(payload[0] & 1),
            }
            if f_port == 2 and len(payload) >= 2:
                data["temperature"] = signed(payload[1], 8)
            return data
        if f_port == 3:
            return _startup(payload)
        if f_port == 6:
            return {
                "type": "debug",
                "timestamp": signed(int.from_bytes(payload[0:4], "little"), 32),
                "debugCode": (payload[5] & 0x0F) << 8 | payload[4],
                "sequenceNumber": payload[9] << 8 | payload[8],
            }
        kind = "device information" if f_port == 4 else "device usage"
        return {"type": kind, "bytes": list(payload)}


def _startup(payload: bytes) -> dict[str, Any]:
    codes = [(payload[i + 1] & 0x0F) << 8 | payload[i] for i in (0, 4, 8)]
    cause = RESET_CAUSES[payload[15]] if payload[15] < len(RESET_CAUSES) else None
    data: dict[str, Any] = {
        "type": "startup",
        "debugCodes": [code for code in codes if code],
        "firmwareVersion": f"{payload[12]}.{payload[13]}.{payload[14]}",
    }
    if cause is not None:  # the vendor's codec leaves it undefined, so it is absent
        data["resetCause"] = cause
    data["occupied"] = bool(payload[16] & 1)
    return data
