"""Payload decoders: bytes on an FPort to named values, in the TTN codec result shape.

Built-in decoders are registered by short name; user codecs (JavaScript in the TTN device
repository format) are attached to a name at run time. ``get_decoder`` is the one way in.
"""

from cityhub.lorawan.decoders.base import Decoder, DecodeResult, FieldInfo
from cityhub.lorawan.decoders.javascript import JavaScriptCodec
from cityhub.lorawan.decoders.registry import (
    UnknownDecoder,
    builtin_decoders,
    decoder_names,
    get_decoder,
)

__all__ = [
    "DecodeResult",
    "Decoder",
    "FieldInfo",
    "JavaScriptCodec",
    "UnknownDecoder",
    "builtin_decoders",
    "decoder_names",
    "get_decoder",
]
