"""A fresh, migrated database for one benchmark run, dropped at the end, and what the
benchmarks ask of it besides their measurements: a quiet start, an API key, how far the
views have come, the eventsourcing library's own recorder on our table.

On the server named by TIMELINE_DATABASE_URL when it is set; otherwise on a private embedded
PostgreSQL in a throwaway folder, stopped and deleted afterwards (never ./.timeline).
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from projections.registry import VIEWS
from store import migrate
from store.api_keys import Role, create_key
from store.database import release_without_reset
from store.embedded import start_embedded
from store.settings import configured_database_url, with_database

# The views' lowest serving position, -1 until every view's runner has created its generation.
LOWEST_POSITION = """
SELECT CASE WHEN count(*) = $1 THEN min(position) ELSE -1 END
FROM projection_generations WHERE state = 'serving'
"""


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
    # A run stopped with SIGTERM (kill, a timeout) would end without this block's `finally`,
    # and leave its server running: SIGTERM exits as Ctrl-C does, through the cleanup.
    stopped = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield start_embedded(folder)
    finally:
        _stop_embedded(folder)
        shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signal.SIGTERM, stopped)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


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


class Settle:
    """Called before each measurement: a CHECKPOINT, so that no dirty buffers left by the
    one before are written during it, and a collection of Python's garbage."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._can_checkpoint = True

    async def __call__(self) -> None:
        if self._can_checkpoint:
            try:
                await self._pool.execute("CHECKPOINT")
            except asyncpg.InsufficientPrivilegeError:
                self._can_checkpoint = False  # a server we may not checkpoint: skip it
        gc.collect()


async def new_key(url: str, name: str, role: Role = Role.READER) -> str:
    """The secret of a new API key, as an operator makes one."""
    pool = await open_pool(url)
    try:
        return (await create_key(pool, name, role)).secret
    finally:
        await pool.close()


async def lowest_serving_position(connection: asyncpg.Connection | asyncpg.Pool) -> int:
    """How far every view has come (LOWEST_POSITION)."""
    return int(await connection.fetchval(LOWEST_POSITION, len(VIEWS)))


async def views_reach(
    connection: asyncpg.Connection | asyncpg.Pool,
    position: int,
    *,
    every: float,
    check: Callable[[], None] = lambda: None,
) -> None:
    """Until every view serves `position`, asking every `every` seconds (the caller bounds
    the wait); `check` raises if whatever keeps the views has stopped."""
    while True:
        check()
        if await lowest_serving_position(connection) >= position:
            return
        await asyncio.sleep(every)


def library_recorder(url: str) -> PostgresApplicationRecorder:
    """The eventsourcing library's own recorder on our table. The table, its index and the
    composite type come from our migration (alembic owns the schema), so no create_table()."""
    parameters = connection_parameters(url)
    datastore = PostgresDatastore(
        dbname=parameters.dbname,
        host=parameters.host,
        port=parameters.port,
        user=parameters.user,
        password=parameters.password,
    )
    return PostgresApplicationRecorder(datastore, events_table_name="timeline_events")
