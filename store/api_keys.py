"""API keys: created with a role, shown once, kept only as a SHA-256, revoked by stamping.

A key reads `tl_<43 url-safe characters>` (256 random bits): the prefix makes a leaked key
easy to recognise in logs and secret scanners. Every change sends NOTIFY on `KEYS_CHANNEL`,
so API processes drop a revoked key at once instead of when their cache expires.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

import asyncpg
import msgspec

from domain.errors import InvalidReport, NotFound
from domain.limits import NAME

KEY_PREFIX = "tl_"
KEYS_CHANNEL = "timeline_api_keys"

INSERT = """
INSERT INTO api_keys (id, name, role, key_hash) VALUES ($1, $2, $3, $4) RETURNING created_at
"""
REVOKE = """
UPDATE api_keys SET revoked_at = now() WHERE (id::text = $1 OR name = $1) AND revoked_at IS NULL
RETURNING id, name, role, created_at, revoked_at
"""
FIND = "SELECT id, name, role, created_at, revoked_at FROM api_keys WHERE key_hash = $1"
LIST = "SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY created_at, name"


class Role(StrEnum):
    """What a key may do; each role may do everything the ones before it may."""

    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = None


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    key: ApiKey
    secret: str  # shown once; only its hash is stored


class UnknownKey(NotFound):
    def __init__(self, which: str) -> None:
        super().__init__(f"no active API key has the id or name {which!r}")


def key_name(text: str) -> str:
    """A key's name as it is stored (NFC, trimmed), held to the domain's rule of names;
    InvalidReport naming `name` when it breaks it (the API and `timeline keys` both ask)."""
    name = NAME.check(text, "name").strip()
    if not name:
        raise InvalidReport("name", "must not be blank: say who or what uses the key")
    return name


def key_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


async def create_key(pool: asyncpg.Pool, name: str, role: Role) -> CreatedKey:
    name = name.strip()
    if not name:
        raise ValueError("a key needs a name (who or what uses it)")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = uuid4()
    async with pool.acquire() as connection, connection.transaction():
        created_at = await connection.fetchval(INSERT, key_id, name, role.value, key_hash(secret))
        await connection.execute(f"NOTIFY {KEYS_CHANNEL}")
    return CreatedKey(
        key=ApiKey(id=key_id, name=name, role=role, created_at=created_at), secret=secret
    )


async def revoke_key(pool: asyncpg.Pool, which: str) -> list[ApiKey]:
    """Revoke the active key(s) with this id or name; UnknownKey when there is none."""
    async with pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(REVOKE, which)
        if not rows:
            raise UnknownKey(which)
        await connection.execute(f"NOTIFY {KEYS_CHANNEL}")
    return [_key(row) for row in rows]


async def find_key(pool: asyncpg.Pool, secret: str) -> ApiKey | None:
    """The key `secret` belongs to, revoked or not; None when it is nobody's."""
    row = await pool.fetchrow(FIND, key_hash(secret))
    return None if row is None else _key(row)


async def list_keys(pool: asyncpg.Pool) -> list[ApiKey]:
    return [_key(row) for row in await pool.fetch(LIST)]
