"""Writing to a database at an older revision, as the code of that time did, for the tests
of the migrations that come after it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from application.reports import ReportService
from domain.events import DomainEvent
from seed.demo import load_demo
from store.event_store import EventStore, Idempotency
from store.mapper import encode_event
from tests.conftest import scratch_database

T = TypeVar("T")

# Before 0008 the append function took no scope.
APPEND_BEFORE_SCOPES = """
SELECT * FROM timeline_append($1::uuid[], $2::int8[], $3::text[], $4::bytea[], $5, $6)
"""


def run_on(url: str, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """`work` on a pool of its own (alembic runs its own event loop, so no test loop here)."""

    async def run() -> T:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        assert pool is not None
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(run())


async def append_before_scopes(
    pool: asyncpg.Pool, events: Sequence[DomainEvent], key: Idempotency | None = None
) -> bool:
    """Append as the code before 0008 did; whether it was a replay."""
    encoded = [encode_event(event) for event in events]
    row = await pool.fetchrow(
        APPEND_BEFORE_SCOPES,
        [event.originator_id for event in events],
        [event.originator_version for event in events],
        [topic for topic, _ in encoded],
        [state for _, state in encoded],
        None if key is None else key.key,
        None if key is None else key.fingerprint,
    )
    return bool(row["out_replayed"])


async def _demo_log(pool: asyncpg.Pool) -> list[DomainEvent]:
    await load_demo(ReportService(EventStore(pool)))
    return [recorded.event for recorded in await EventStore(pool).read_log(limit=10_000)]


def demo_events(server_url: str) -> list[DomainEvent]:
    """The events `timeline demo` records, in log order (recorded on a scratch database)."""
    with scratch_database(server_url, "timeline_test_demo") as url:
        return run_on(url, _demo_log)
