"""Network servers' messages → :class:`~cityhub.lorawan.uplink.Uplink` or ``Event``.

One module per network server: ``tts`` (The Things Stack v3, network name ``ttn``),
``chirpstack`` (ChirpStack v4, JSON or protobuf) and ``chirpstack3`` (ChirpStack v3).
:func:`parse` is the one way in; anything it cannot read is a :class:`FormatError` naming
the JSON path of the offending member, never another exception.
"""

from __future__ import annotations

from cityhub.lorawan.formats import chirpstack, chirpstack3, tts
from cityhub.lorawan.formats._reader import Topic, load_object
from cityhub.lorawan.uplink import NETWORKS, FormatError, Message, Network

__all__ = ["Topic", "default_topics", "parse", "parse_topic"]


def parse(
    network: Network, body: bytes, *, topic: str | None = None, event: str | None = None
) -> Message:
    """Parse one message of ``network``.

    ``topic`` is the MQTT topic it came on; ``event`` the event type of a webhook (ChirpStack's
    ``?event=up|join|status|…``; for The Things Stack, which names the kind in the body, the
    member or topic suffix it must be, e.g. ``uplink_message`` or ``up``). When a topic is
    given, the device and application it names must be those of the body.
    """
    if network == "ttn":
        return tts.parse(load_object(body), topic, event)
    if network == "chirpstack":
        return chirpstack.parse(body, topic, event)
    if network == "chirpstack3":
        return chirpstack3.parse(body, topic, event)
    raise FormatError(f"unknown network {network!r}; one of {', '.join(NETWORKS)}", "network")


def default_topics(network: Network) -> list[str]:
    """The MQTT topic filters to subscribe to for every event :func:`parse` reads."""
    modules = {"ttn": tts, "chirpstack": chirpstack, "chirpstack3": chirpstack3}
    if network not in modules:
        raise FormatError(f"unknown network {network!r}; one of {', '.join(NETWORKS)}", "network")
    return list(modules[network].TOPICS)


def parse_topic(network: Network, topic: str) -> Topic:
    """What a device topic of ``network`` names: application, device, event (and tenant)."""
    modules = {"ttn": tts, "chirpstack": chirpstack, "chirpstack3": chirpstack3}
    if network not in modules:
        raise FormatError(f"unknown network {network!r}; one of {', '.join(NETWORKS)}", "network")
    return modules[network].parse_topic(topic)
