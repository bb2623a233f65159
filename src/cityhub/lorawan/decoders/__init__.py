"""Payload decoders: bytes on an FPort to named values, in the TTN codec result shape.

Built-in decoders are registered by short name; user codecs (JavaScript in the TTN device
repository format) are attached to a name at run time. ``get_decoder`` is the one way in.
"""
