"""How the SensorThings handlers see a request (``Call``) and a checked one (``Plan``).

An HTTP request and a request inside a batch both become a ``Call``; a planner turns it into
a ``Plan`` whose work can run alone or together with others in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from starlette.responses import Response

from cityhub.auth import ANONYMOUS, Principal
from cityhub.sensorthings.model import EntityType
from cityhub.sensorthings.resource import ResourcePath

VERSION = "v1.1"
#: The dataArray bulk-creation resource (clause 13), outside the entity sets.
CREATE_OBSERVATIONS = "CreateObservations"
#: Methods that carry a JSON body.
BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})

T = TypeVar("T")


@dataclass(slots=True)
class Call:
    """What the planners need of one request, whether it came over HTTP or inside a batch."""

    method: str
    path: ResourcePath
    query: list[tuple[str, str]]
    body: Any  # the parsed JSON body of POST, PATCH and PUT; None otherwise
    base_url: str  # the hub's public address
    url_path: str  # the path the request addresses, e.g. /v1.1/Things, for nextLinks
    content_type: str | None = None  # tells a JSON Patch document from an entity
    principal: Principal = ANONYMOUS  # who asks: what they may read, where they write

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/{VERSION}"


def _no_entity(result: Any) -> tuple[EntityType, int] | None:
    return None


@dataclass(slots=True)
class Plan(Generic[T]):
    """A checked request: ``work`` runs inside a transaction, ``respond`` answers its result.

    ``work`` may raise (an ``ApiError``) to reject the request; the transaction then leaves
    nothing behind. ``entity`` names what the work created or changed, for the ``$1``
    references of a batch.
    """

    work: Callable[[Connection], T]
    respond: Callable[[T], Response]
    writes: bool
    entity: Callable[[T], tuple[EntityType, int] | None] = _no_entity
