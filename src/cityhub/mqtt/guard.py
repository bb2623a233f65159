"""Who may publish what on the embedded broker: the same rule as HTTP.

Reading is public: anyone may connect and subscribe. The ``v1.1/`` topics belong to the hub:
only the hub itself publishes there (its notifications), except that a client whose MQTT
password is an API token of a writing role (publisher, admin) may publish Observations to the
create topics — as ``POST`` needs ``Authorization: Bearer <token>``. Everything else on the
broker is open, as on any broker. An external broker enforces its own ACLs instead.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

from amqtt.contexts import Action
from amqtt.plugins.base import BaseTopicPlugin

from cityhub.auth import Authenticator
from cityhub.errors import ApiError
from cityhub.mqtt.stats import MqttStats
from cityhub.mqtt.topics import VERSION, create_filters, topic_matches

log = logging.getLogger(__name__)

HUB_USERNAME = "cityhub"


class PublishGuard:
    """Decides each PUBLISH to the hub's topics."""

    def __init__(
        self, auth: Authenticator, prefix: str, hub_password: str, stats: MqttStats
    ) -> None:
        self._auth = auth
        self._namespace = f"{prefix}{VERSION}/"
        self._create_filters = create_filters(prefix)
        self._hub_password = hub_password
        self._stats = stats

    async def allows(self, username: str | None, password: str | None, topic: str) -> bool:
        if not topic.startswith(self._namespace):
            return True
        if username == HUB_USERNAME and hmac.compare_digest(password or "", self._hub_password):
            return True
        if any(topic_matches(f, topic) for f in self._create_filters) and password:
            try:
                principal = await self._auth.token_principal(password)
            except ApiError:
                principal = None
            if principal is not None and principal.can_write:
                return True
        log.warning(
            "MQTT publish to %s refused: creating needs the password of a publisher or admin "
            "token (and only the hub publishes to other %s topics)",
            topic,
            self._namespace,
        )
        self._stats.add("refused")
        return False


class PublishGuardPlugin(BaseTopicPlugin):
    """The amqtt plugin that asks a ``PublishGuard`` about every PUBLISH."""

    @dataclass
    class Config:
        guard: Any = None  # a PublishGuard; dataclass typing keeps amqtt's config check happy

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Action | None = None
    ) -> bool:
        if action != Action.PUBLISH or session is None or topic is None:
            return True
        guard: PublishGuard = self.context.config.guard  # type: ignore[union-attr]
        return await guard.allows(session.username, session.password, topic)
