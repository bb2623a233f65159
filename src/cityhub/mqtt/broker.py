"""The embedded MQTT broker (amqtt, MQTT 3.1.1), running in its own thread and event loop.

Anyone may connect and subscribe; publishing to the hub's topics is guarded (``guard.py``).
Its own loop keeps broker traffic off the HTTP server's loop. The hub connects to it like any
other client; the broker is only the default for a laptop or a small town. Production uses an
external broker (``mqtt_url``) through the same client code.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
from concurrent.futures import Future
from typing import Any

from cityhub.mqtt.guard import PublishGuard
from cityhub.mqtt.topics import topic_matches

log = logging.getLogger(__name__)

_ANONYMOUS = "amqtt.plugins.authentication.AnonymousAuthPlugin"
_GUARD = "cityhub.mqtt.guard.PublishGuardPlugin"
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0


class PortInUse(RuntimeError):
    """The embedded broker's port is taken, typically by another broker on this machine."""


def port_in_use(host: str, port: int) -> bool:
    """Whether a listener already holds ``host:port`` (asyncio binds with SO_REUSEADDR too)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def port_in_use_message(host: str, port: int) -> str:
    return (
        f"MQTT port {host}:{port} is already in use (another broker, e.g. Mosquitto?), so the "
        f"embedded broker was not started. Choose another port (--mqtt-port 1884), use the "
        f"running broker (--mqtt-url mqtt://{host}:{port}) or turn MQTT off (--no-mqtt)."
    )


class EmbeddedBroker:
    """An amqtt broker listening on ``host:port``; ``subscriptions`` tells who wants what."""

    def __init__(self, host: str, port: int, guard: PublishGuard) -> None:
        self.host = host
        self.port = port
        self._guard = guard
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self._stopped: asyncio.Event | None = None
        self._deliveries: set[asyncio.Future[Any]] = set()

    def start(self) -> None:
        """Listen, or raise ``PortInUse`` / the broker's error; returns once it accepts."""
        if port_in_use(self.host, self.port):
            raise PortInUse(port_in_use_message(self.host, self.port))
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._serve, args=(started,), name="cityhub-mqtt-broker", daemon=True
        )
        self._thread.start()
        started.result(timeout=_START_TIMEOUT)

    def _serve(self, started: Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(started))
        finally:
            loop.close()

    async def _main(self, started: Future[None]) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                _ANONYMOUS: {"allow_anonymous": True},
                _GUARD: {"guard": self._guard},
            },
        }
        self._stopped = asyncio.Event()
        try:
            self._broker = Broker(config)
            await self._broker.start()
        except Exception as exc:  # reported to the starting thread, which decides
            started.set_exception(exc)
            return
        started.set_result(None)
        await self._stopped.wait()
        await self._broker.shutdown()

    def subscriptions(self, excluding_client: str) -> list[str]:
        """Topic filters subscribed by clients other than ``excluding_client`` (the hub)."""
        broker = self._broker
        if broker is None:
            return []
        # tuple() copies in one step under the GIL, safe beside the broker's own thread.
        items = tuple(broker.subscriptions.items())
        return [
            topic_filter
            for topic_filter, sessions in items
            if any(session.client_id != excluding_client for session, _ in tuple(sessions))
        ]

    def deliver(self, topic: str, payload: bytes, qos: int, excluding_client: str) -> None:
        """Hand a notification straight to the subscribers of ``topic`` (thread-safe).

        The hub knows the embedded broker's subscribers, so its notifications skip the round
        trip through its own connection: no inbound processing, and no copy sent back to the
        hub's create subscription only to be ignored there. That is most of what a
        notification costs the in-process broker.
        """
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._deliver, topic, payload, qos, excluding_client)

    def _deliver(self, topic: str, payload: bytes, qos: int, excluding_client: str) -> None:
        broker = self._broker
        sessions = broker.sessions
        for topic_filter, subscribers in tuple(broker.subscriptions.items()):
            if not topic_matches(topic_filter, topic):
                continue
            for session, subscribed_qos in tuple(subscribers):
                if session.client_id == excluding_client:
                    continue
                if session.transitions.state != "connected":
                    continue  # amqtt queues only for its own routing; a notification is not kept
                handler = sessions.get(session.client_id, (None, None))[1]
                if handler is None:
                    continue
                delivery = asyncio.ensure_future(
                    handler.mqtt_publish(topic, payload, min(qos, subscribed_qos), retain=False)
                )
                self._deliveries.add(delivery)
                delivery.add_done_callback(self._delivered)

    def _delivered(self, delivery: asyncio.Future[Any]) -> None:
        self._deliveries.discard(delivery)
        if not delivery.cancelled() and delivery.exception() is not None:
            log.debug("a notification was not delivered: %r", delivery.exception())

    def stop(self) -> None:
        loop, stopped, thread = self._loop, self._stopped, self._thread
        if loop is None or stopped is None or thread is None:
            return
        loop.call_soon_threadsafe(stopped.set)
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            log.warning("the embedded MQTT broker did not stop within %.0f s", _STOP_TIMEOUT)
