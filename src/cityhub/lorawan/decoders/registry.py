"""The built-in decoders by short name, and third-party decoders by dotted path."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from cityhub.lorawan.decoders import browan, decentlab, dragino, elsys, milesight, nwave
from cityhub.lorawan.decoders.base import Decoder
from cityhub.lorawan.decoders.bosch import BoschParking

#: Every built-in decoder: its short name and how to make it.
BUILTINS: dict[str, Callable[[], Decoder]] = {
    "elsys": elsys.ElsysDecoder,
    "decentlab-dl-sht35": decentlab.DLSHT35,
    "decentlab-dl-mbx": decentlab.DLMBX,
    "decentlab-dl-pm": decentlab.DLPM,
    "decentlab-dl-lp8p": decentlab.DLLP8P,
    "milesight-em300-th": milesight.EM300TH,
    "milesight-em310-udl": milesight.EM310UDL,
    "milesight-am307": milesight.AM307,
    "dragino-lht65": dragino.LHT65,
    "dragino-lse01": dragino.LSE01,
    "dragino-ldds75": dragino.LDDS75,
    "browan-tbhh100": browan.TBHH100,
    "browan-tbms100": browan.TBMS100,
    "nwave-nps": nwave.NwaveParking,
    "bosch-tps110": BoschParking,
    "bosch-pls": lambda: BoschParking(
        "bosch-pls",
        "Bosch Parking Lot Sensor PLS (TPS110 before firmware 0.29: heartbeat without temperature)",
    ),
}


class UnknownDecoder(KeyError):
    """No decoder by that name; the message lists the names there are."""

    def __init__(self, name: str, reason: str = "") -> None:
        self.name = name
        known = ", ".join(decoder_names())
        self.message = (
            f"unknown decoder {name!r}{': ' + reason if reason else ''}. Built-in decoders: "
            f"{known}; a third-party decoder is named by its dotted path 'package.module:Class'."
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def decoder_names() -> list[str]:
    """The built-in decoders' names, sorted."""
    return sorted(BUILTINS)


@cache
def _builtin(name: str) -> Decoder:
    return BUILTINS[name]()


def builtin_decoders() -> dict[str, Decoder]:
    """Every built-in decoder by name (decoders keep no state between uplinks)."""
    return {name: _builtin(name) for name in decoder_names()}


def get_decoder(name: str) -> Decoder:
    """The built-in decoder ``name``, or a third-party one by ``package.module:ClassName``
    (made with no arguments)."""
    if name in BUILTINS:
        return _builtin(name)
    if ":" in name:
        return _third_party(name)
    raise UnknownDecoder(name)


def _third_party(path: str) -> Decoder:
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownDecoder(path, f"cannot import {module_name!r} ({exc})") from None
    factory = getattr(module, class_name, None)
    if not callable(factory):
        raise UnknownDecoder(path, f"{module_name!r} has no class {class_name!r}")
    try:
        decoder = factory()
    except TypeError as exc:
        raise UnknownDecoder(path, f"cannot make it without arguments ({exc})") from None
    if not callable(getattr(decoder, "decode", None)) or not hasattr(decoder, "fields"):
        raise UnknownDecoder(path, "it is not a decoder (it needs decode() and fields)")
    return decoder
