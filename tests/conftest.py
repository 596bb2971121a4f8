"""A real PostgreSQL for the suite: TIMELINE_TEST_DATABASE_URL when set, else a private
embedded server in a temporary folder. Each session gets a fresh database, migrated to
head; each test starts from an empty log.

Tests set up and inspect the database as the owner (`database_url`, `pool`); the service
under test (the app, the CLI) logs in as the service role (`service_url`), as it does in
production. With TIMELINE_TEST_DATABASE_URL, the service role gets that URL's password."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

from store import migrate, roles
from store.embedded import start_embedded
from store.event_store import EventStore
from store.settings import password_of, with_database, with_user

TEST_DATABASE_URL_VARIABLE = "TIMELINE_TEST_DATABASE_URL"
# Emptied before each test: the log, and every view derived from it.
TABLES = (
    "timeline_events",
    "timeline_idempotency_keys",
    "projection_generations",
    "view_rows",
    "timeline_entries",
    "timeline_superseded",
    "report_versions",
    "projection_quarantine",
    "api_keys",
    "timeline_import_rows",
)


async def _execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A URL of the server the suite may create databases on."""
    configured = os.environ.get(TEST_DATABASE_URL_VARIABLE)
    if configured:
        return configured
    return start_embedded(Path(tmp_path_factory.mktemp("timeline")))


@contextmanager
def scratch_database(server_url: str, prefix: str, *, migrated: bool = True) -> Iterator[str]:
    """A new database on the server (migrated to head unless asked not to), dropped after."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = with_database(server_url, name)
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_execute(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database for this session, migrated to head, dropped afterwards."""
    with scratch_database(server_url, "timeline_test") as url:
        yield url


async def _make_roles(owner_url: str, service_url: str) -> None:
    connection = await asyncpg.connect(owner_url)
    try:
        await roles.make_roles(connection, await roles.plan_roles(connection, service_url))
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def service_url(database_url: str) -> str:
    """The session database as the service logs in to it: as the service role, which reads
    the log and appends only through timeline_append (migration 0009)."""
    url = with_user(database_url, roles.SERVICE_ROLE, password_of(database_url))
    asyncio.run(_make_roles(database_url, url))
    return url


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the session database, with the log emptied before the test."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    assert pool is not None
    await pool.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
    yield pool
    await pool.close()


@pytest.fixture
def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)
