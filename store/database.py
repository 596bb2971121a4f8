"""Opening the database: the configured server or the embedded one, with one-line errors."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import asyncpg

from domain.errors import Unavailable
from store.embedded import start_embedded
from store.migrate import NotMigrated, check_at_head
from store.roles import SERVICE_ROLE
from store.settings import (
    configured_database_url,
    configured_owner_database_url,
    configured_read_database_url,
    data_dir,
    redact,
    user_of,
    with_user,
)

CONNECT_TIMEOUT_SECONDS = 5.0


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached or logged in to; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Database:
    """The service's URL (`url`), the schema owner's (`owner_url`, the same unless given) and
    a hot standby's for reads (`read_url`; None: reads go to `url` too)."""

    url: str
    embedded: bool
    owner_url: str | None = None
    read_url: str | None = None

    @property
    def described(self) -> str:
        return "the embedded PostgreSQL" if self.embedded else redact(self.url)

    def as_owner(self) -> Database:
        """The same database reached as the owner of its schema (to migrate or restore)."""
        owner_url = self.owner_url or self.url
        return Database(url=owner_url, embedded=self.embedded, owner_url=owner_url)

    def for_reads(self) -> Database:
        """Where reads that may lag the primary go: the standby if one is given, else this."""
        if self.read_url is None:
            return self
        return Database(url=self.read_url, embedded=False)


def resolve_database() -> Database:
    """TIMELINE_DATABASE_URL and TIMELINE_OWNER_DATABASE_URL if set (nothing is started),
    else the embedded server: its superuser `postgres` owns the schema and the service
    logs in as the service role (over the server's private socket, with no password).
    TIMELINE_READ_DATABASE_URL, if set, is the standby reads may go to."""
    url = configured_database_url()
    read_url = configured_read_database_url()
    if url is not None:
        return Database(
            url=url, embedded=False, owner_url=configured_owner_database_url(), read_url=read_url
        )
    owner_url = start_embedded(data_dir())
    return Database(
        url=with_user(owner_url, SERVICE_ROLE),
        embedded=True,
        owner_url=owner_url,
        read_url=read_url,
    )


async def release_without_reset(connection: asyncpg.Connection) -> None:
    """Hand a pooled connection back without asyncpg's session-reset query.

    asyncpg has already rolled back any transaction left open and dropped the connection's
    listeners when it calls this. Its default reset (advisory unlock, CLOSE ALL, UNLISTEN *,
    RESET ALL) costs one more round trip on every pooled call, about a quarter of a single
    append's time. The rule that makes this safe: pooled connections never carry session
    state (SET, LISTEN, session advisory locks); whatever needs it holds its own connection.
    """


async def create_pool(
    database: Database, *, min_size: int = 2, max_size: int = 10, require_migrated: bool = True
) -> asyncpg.Pool:
    """A pool on the database; DatabaseUnavailable or NotMigrated with a one-line reason."""
    try:
        pool = await asyncpg.create_pool(
            database.url,
            min_size=min_size,
            max_size=max_size,
            timeout=CONNECT_TIMEOUT_SECONDS,
            reset=release_without_reset,
        )
    except asyncpg.InvalidAuthorizationSpecificationError as error:
        # Most often the service role of a database not yet migrated since roles came in.
        raise DatabaseUnavailable(
            f"cannot log in to {database.described} as {user_of(database.url)}: "
            f"{str(error).splitlines()[0]}; `timeline migrate` creates the service role "
            "(or prints the statements that do)"
        ) from None
    except (TimeoutError, OSError, asyncpg.PostgresError, socket.gaierror) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatabaseUnavailable(f"cannot reach {database.described}: {reason}") from None
    except ValueError as error:
        raise DatabaseUnavailable(f"the database URL is not valid: {error}") from None
    assert pool is not None
    if require_migrated:
        try:
            async with pool.acquire() as connection:
                await check_at_head(connection)
        except NotMigrated:
            await pool.close()
            raise
    return pool
