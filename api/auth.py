"""Who is calling: API keys from `Authorization: Bearer <key>` or `X-API-Key: <key>`, checked
against a small in-process cache of key hashes, and guards that ask for a role.

The cache keeps each looked-up key for a minute, and is emptied whenever a key is created or
revoked (NOTIFY on `store.api_keys.KEYS_CHANNEL`), so a revocation takes effect at once in
every API process that hears it, and within a minute in one that missed the notification.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from api.services import services_of
from store.api_keys import ApiKey, Role, find_key, key_hash

CACHE_SECONDS = 60.0
MAX_CACHED = 10_000


class KeyCache:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._known: dict[bytes, tuple[float, ApiKey | None]] = {}

    def clear(self, *_: object) -> None:
        self._known.clear()

    async def lookup(self, secret: str) -> ApiKey | None:
        """The active key `secret` belongs to, or None (unknown or revoked)."""
        digest = key_hash(secret)
        now = time.monotonic()
        cached = self._known.get(digest)
        if cached is None or now - cached[0] > CACHE_SECONDS:
            if len(self._known) >= MAX_CACHED:
                self._known.clear()
            cached = (now, await find_key(self._pool, secret))
            self._known[digest] = cached
        return _active(cached[1])

    def known(self, secret: str) -> ApiKey | None:
        """What `lookup` would answer without asking the database: the active key `secret`
        belongs to if it was looked up within the cache's minute, else None."""
        cached = self._known.get(key_hash(secret))
        if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
            return None
        return _active(cached[1])


def _active(key: ApiKey | None) -> ApiKey | None:
    return key if key is not None and key.revoked_at is None else None


def bearer_secret(authorization: str) -> str | None:
    """The key in an `Authorization: Bearer <key>` header; None if it reads otherwise."""
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    return credentials if scheme.lower() == "bearer" and credentials else None


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    authorization = connection.headers.get("authorization")
    if authorization:
        secret = bearer_secret(authorization)
        if secret is None:
            raise NotAuthorizedException(
                detail="the Authorization header must read 'Bearer <API key>'"
            )
        return secret
    return connection.headers.get("x-api-key") or None


def requires(role: Role) -> Guard:
    """A guard letting through keys whose role includes `role` (reads may be public)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        services = services_of(connection.app)
        if role is Role.READER and services.settings.public_reads:
            return
        secret = presented_key(connection)
        if secret is None:
            raise NotAuthorizedException(
                detail=f"this needs an API key with the {role.value} role: send "
                "'Authorization: Bearer <key>' or 'X-API-Key: <key>' "
                "(create one with `timeline keys create`)"
            )
        key = await services.api_keys.lookup(secret)
        if key is None:
            raise NotAuthorizedException(detail="the API key is unknown or has been revoked")
        if not key.role.allows(role):
            raise PermissionDeniedException(
                detail=f"this needs the {role.value} role; the key {key.name!r} "
                f"has the {key.role.value} role"
            )
        connection.scope["state"]["api_key"] = key

    guard.__name__ = f"requires_{role.value}"
    return guard


requires_reader = requires(Role.READER)
requires_editor = requires(Role.EDITOR)
requires_admin = requires(Role.ADMIN)
