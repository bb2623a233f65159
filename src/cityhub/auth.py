"""API tokens and roles. Reads are public; every write needs a token of a writing role.

Tokens are random, shown once, and stored only as SHA-256 hashes (they carry 256 bits of
entropy, so a slow password hash would add nothing but latency on every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update
from starlette.requests import HTTPConnection

from cityhub.errors import Forbidden, Unauthorized
from cityhub.settings import Settings
from cityhub.store import schema
from cityhub.store.access import ANYONE, EVERYTHING, Reader
from cityhub.store.database import Store

ROLES = ("admin", "publisher", "reader")
WRITE_ROLES = frozenset({"admin", "publisher"})
TOKEN_PREFIX = "chub_"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a token's name and role, or anonymous (role ``None``)."""

    name: str
    role: str | None
    #: The dataset the token is bound to: it reads it even if restricted, and what it
    #: creates joins it.
    dataset_id: int | None = None

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def reader(self) -> Reader:
        """What this principal may read (see ``store.access``)."""
        if self.role == "admin":
            return EVERYTHING
        if self.dataset_id is not None:
            return Reader(datasets=frozenset({self.dataset_id}))
        return ANYONE


ANONYMOUS = Principal("anonymous", None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    connection: Connection, role: str, name: str, dataset_id: int | None = None
) -> str:
    """Store a new token's hash and return the token itself (the only time it is seen).
    ``dataset_id`` binds the token to a dataset (see ``Principal.dataset_id``)."""
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'; choose one of {', '.join(ROLES)}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    connection.execute(
        insert(schema.api_tokens).values(
            name=name,
            role=role,
            token_hash=hash_token(token),
            created_at=datetime.now(UTC),
            dataset_id=dataset_id,
        )
    )
    return token


def list_tokens(connection: Connection) -> list[dict[str, object]]:
    table = schema.api_tokens
    rows = connection.execute(
        select(
            table.c.id,
            table.c.name,
            table.c.role,
            table.c.dataset_id,
            table.c.created_at,
            table.c.revoked_at,
        ).order_by(table.c.id)
    )
    return [dict(row) for row in rows.mappings()]


def revoke_token(connection: Connection, token_id: int) -> bool:
    table = schema.api_tokens
    result = connection.execute(
        update(table)
        .where(table.c.id == token_id, table.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return result.rowcount > 0


def _find(connection: Connection, token_hash: str) -> Principal | None:
    table = schema.api_tokens
    row = connection.execute(
        select(table.c.name, table.c.role, table.c.dataset_id).where(
            table.c.token_hash == token_hash, table.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else Principal(row.name, row.role, row.dataset_id)


class Authenticator:
    """Turns an ``Authorization`` header into a Principal, remembering answers briefly."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._admin_token = (
            settings.admin_token.get_secret_value() if settings.admin_token else None
        )
        self._ttl = settings.token_cache_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def principal(self, request: HTTPConnection) -> Principal:
        header = request.headers.get("authorization")
        if header is None:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        return await self.token_principal(token)

    async def token_principal(self, token: str) -> Principal:
        """The principal of a token however it came (HTTP header, MQTT password)."""
        if self._admin_token and hmac.compare_digest(token, self._admin_token):
            return Principal("CITYHUB_ADMIN_TOKEN", "admin")
        token_hash = hash_token(token)
        cached = self._cache.get(token_hash)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        principal = await self._store.read(lambda c: _find(c, token_hash))
        if principal is None:
            raise Unauthorized("the token is unknown or has been revoked")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token_hash] = (principal, time.monotonic() + self._ttl)
        return principal

    def forget(self) -> None:
        """Drop remembered answers, so a token revoked in this process stops working at once.

        Other processes notice a revocation after ``token_cache_seconds``.
        """
        self._cache.clear()

    async def writer(self, request: HTTPConnection) -> Principal:
        """The principal of a write request: 401 without a token, 403 with a read-only one."""
        principal = await self.principal(request)
        if principal.role is None:
            raise Unauthorized("writing needs a token: send 'Authorization: Bearer <token>'")
        if not principal.can_write:
            raise Forbidden(
                f"the token '{principal.name}' has the role '{principal.role}', which may not "
                "write; use a token of role publisher or admin"
            )
        return principal

    async def admin(self, request: HTTPConnection) -> Principal:
        """The principal of an admin request: 401 without a token, 403 unless role admin."""
        principal = await self.principal(request)
        if principal.role is None:
            raise Unauthorized("the admin API needs a token: send 'Authorization: Bearer <token>'")
        if principal.role != "admin":
            raise Forbidden(
                f"the token '{principal.name}' has the role '{principal.role}'; "
                "the admin API needs a token of role admin"
            )
        return principal
