"""A fresh, migrated database for one benchmark run, dropped at the end.

On the server named by TIMELINE_DATABASE_URL when it is set; otherwise on a private embedded
PostgreSQL in a throwaway folder, stopped and deleted afterwards (never ./.timeline).
"""

from __future__ import annotations

import asyncio
import atexit
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from store import migrate
from store.database import release_without_reset
from store.embedded import start_embedded
from store.settings import configured_database_url, with_database


@dataclass(frozen=True, slots=True)
class ConnectionParameters:
    """A URL taken apart for drivers that want keywords (psycopg via eventsourcing)."""

    dbname: str
    host: str
    port: int
    user: str
    password: str


def connection_parameters(url: str) -> ConnectionParameters:
    """Keywords for `postgresql://user:password@host:port/dbname?host=/socket/dir` URLs;
    a `host` query parameter (a Unix socket folder) wins over the network location."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "localhost"])[0]
    port = int(query.get("port", [str(parts.port or 5432)])[0])
    return ConnectionParameters(
        dbname=unquote(parts.path.lstrip("/")),
        host=host,
        port=port,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
    )


async def _execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def database_server() -> Iterator[str]:
    """The URL of the server to make databases on, while the block runs. A run that makes
    several databases starts it once: store/embedded.py sets XDG_RUNTIME_DIR once per
    process, so a second embedded server would keep its runtime files in the first one's
    (deleted) folder, and leave that behind in the temporary directory."""
    configured = configured_database_url()
    if configured is not None:
        yield configured
        return
    folder = Path(tempfile.mkdtemp(prefix="timeline-bench-"))
    try:
        yield start_embedded(folder)
    finally:
        _stop_embedded(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _stop_embedded(folder: Path) -> None:
    import pgserver  # noqa: PLC0415  (already imported by start_embedded)

    server: Any = pgserver.get_server(  # type: ignore[attr-defined]
        folder / "pgdata", cleanup_mode="stop"
    )
    server.cleanup()
    atexit.unregister(server._cleanup)  # its folder is about to go


async def open_pool(url: str, *, size: int = 1, server_reset: bool = False) -> asyncpg.Pool:
    """A pool of `size` connections released as the service's are (`create_pool` in
    store/database.py); with `server_reset`, as asyncpg's default does."""
    pool = await asyncpg.create_pool(
        url,
        min_size=size,
        max_size=size,
        reset=None if server_reset else release_without_reset,  # None: asyncpg's default
    )
    assert pool is not None
    return pool


@contextmanager
def fresh_database(prefix: str = "timeline_bench", *, on: str | None = None) -> Iterator[str]:
    """Yield the URL of a new database migrated to head; drop it afterwards. On the server
    at URL `on`, else on one of its own (`database_server`)."""
    with ExitStack() as stack:
        server_url = on if on is not None else stack.enter_context(database_server())
        name = f"{prefix}_{secrets.token_hex(4)}"
        asyncio.run(_execute(server_url, f'CREATE DATABASE "{name}"'))
        try:
            url = with_database(server_url, name)
            migrate.upgrade(url)
            yield url
        finally:
            asyncio.run(_execute(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))
