"""What every network server's messages come down to: an uplink or another device event.

The wire formats (``formats``) parse into these; everything after them — deduplication,
decoding, the device registry, storing — sees only these types, whichever network sent them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

#: The network servers cityhub takes uplinks from, as named in ``[[lorawan]]`` settings.
Network = Literal["ttn", "chirpstack", "chirpstack3"]
NETWORKS: tuple[Network, ...] = ("ttn", "chirpstack", "chirpstack3")

#: Device events that are not measurements: recognised, never stored as Observations.
EventKind = Literal["join", "status", "ack", "location", "txack", "log", "other"]


class FormatError(ValueError):
    """A message that is not a valid uplink or event of its network; ``where`` names the
    offending member (a JSON path such as ``uplink_message.f_cnt``) or is empty."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message
        self.where = where


@dataclass(frozen=True)
class Radio:
    """Radio metadata of one uplink, as the network server reports it (best gateway)."""

    rssi: float | None = None
    snr: float | None = None
    spreading_factor: int | None = None
    gateway_count: int = 0
    frequency: int | None = None


@dataclass(frozen=True)
class Uplink:
    """One uplink of one device, normalised across network servers.

    ``dev_eui`` is 16 upper-case hex digits. ``session`` identifies the device's session
    (TTS ``session_key_id``, ChirpStack ``devAddr``…) so that a frame counter that restarts
    after a rejoin is a new session, not a duplicate. ``dedup_id`` is the network server's
    own deduplication or correlation id where it gives one. ``decoded`` is the payload the
    network server already decoded (``decoded_payload``, ``object``, ``objectJSON``), if any.
    ``received_at`` is when the network received it (timezone-aware, UTC). ``simulated``
    marks an uplink the network server did not receive from the device but was asked to
    pretend it did (The Things Stack's simulated uplinks).
    """

    network: Network
    dev_eui: str
    received_at: datetime
    payload: bytes = b""
    f_port: int | None = None
    f_cnt: int | None = None
    session: str | None = None
    dedup_id: str | None = None
    device_name: str | None = None
    application: str | None = None
    decoded: dict[str, Any] | None = None
    radio: Radio = field(default_factory=Radio)
    simulated: bool = False


@dataclass(frozen=True)
class Event:
    """A device event that is not an uplink: join, status (battery, margin), ack, location…"""

    network: Network
    kind: EventKind
    dev_eui: str
    received_at: datetime
    details: dict[str, Any] = field(default_factory=dict)


Message = Uplink | Event
