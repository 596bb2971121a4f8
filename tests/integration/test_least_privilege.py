"""The service role (migration 0009): it reads the log, appends through timeline_append and
keeps the views, and every way past the append-only guard is refused to it. The issue found
the service running as the table's owner, to whom TRUNCATE, DISABLE TRIGGER and
session_replication_role were all open."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from application.reports import ReportService
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.row_stores import read_rows
from seed.demo import load_demo
from store.event_store import EventStore, Idempotency
from tests.seed_values import berdiansk_strike, filed, kursk_held_now

REFUSED = {
    "update": "UPDATE timeline_events SET topic = topic",
    "delete": "DELETE FROM timeline_events",
    "truncate": "TRUNCATE timeline_events",
    "disable the guard": "ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only",
    "disable every trigger": "ALTER TABLE timeline_events DISABLE TRIGGER ALL",
    "replica mode": "SET session_replication_role = replica",
    "insert past the append function": (
        "INSERT INTO timeline_events (originator_id, originator_version, topic, state) "
        "SELECT gen_random_uuid(), 1, topic, state FROM timeline_events LIMIT 1"
    ),
    "forget idempotency keys": "DELETE FROM timeline_idempotency_keys",
    "replace the append function": (
        "ALTER FUNCTION timeline_append(uuid[], bigint[], text[], bytea[], text, text, bytea, "
        "timestamptz) "
        "SECURITY INVOKER"
    ),
    "drop the log": "DROP TABLE timeline_events",
}


@pytest.fixture
async def as_service(pool: asyncpg.Pool, service_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool logged in as the service role (the `pool` fixture has emptied the log)."""
    service = await asyncpg.create_pool(service_url, min_size=1, max_size=4)
    assert service is not None
    yield service
    await service.close()


async def test_the_service_role_appends_and_keeps_the_views(
    as_service: asyncpg.Pool, store: EventStore
) -> None:
    # The demo: filings, follow-ups with idempotency keys, replays of them
    service_store = EventStore(as_service)
    added = await load_demo(ReportService(service_store))
    assert added == await store.position() == 16
    assert await load_demo(ReportService(service_store)) == 0

    # and every view is built from it, and read back
    await rebuild_views(as_service, list(VIEWS.values()))
    holdings = dict(await read_rows(as_service, "holdings"))
    assert holdings
    assert [e.position for e in await service_store.read_log()] == list(range(1, 17))


async def test_a_rebuild_by_the_service_role_leaves_what_it_loaded_analyzed(
    as_service: asyncpg.Pool, pool: asyncpg.Pool
) -> None:
    # Given the demo recorded, and statistics of the views' tables forgotten
    await load_demo(ReportService(EventStore(as_service)))
    tables = ["view_rows", "timeline_entries", "report_versions"]
    for table in tables:
        await pool.execute(f"SELECT pg_stat_reset_single_table_counters('{table}'::regclass)")

    # When the service role rebuilds every view
    await rebuild_views(as_service, list(VIEWS.values()))

    # Then each table it loaded has been sampled for the planner (a role that does not own
    # them may not ANALYZE them itself: timeline_analyze_views does, with the owner's rights)
    analyzed = await pool.fetch(
        "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname = ANY($1)", tables
    )
    assert {row["relname"] for row in analyzed if row["last_analyze"] is not None} == set(tables)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_service.execute("ALTER FUNCTION timeline_analyze_views() SECURITY INVOKER")


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
async def test_the_service_role_cannot_go_past_the_append_only_guard(
    as_service: asyncpg.Pool, store: EventStore, statement: str
) -> None:
    # Given the Kursk report in the log, appended by the service
    await EventStore(as_service).append([filed(kursk_held_now())])
    before = await store.read_log()

    # When the service role tries to change the log behind the append function's back
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_service.execute(statement)

    # Then it is refused, and the log is as it was
    assert await store.read_log() == before


async def test_a_temporary_table_named_like_the_keys_table_does_not_fool_the_append(
    as_service: asyncpg.Pool, store: EventStore
) -> None:
    # The append runs with its owner's rights: it must not read the caller's own tables.
    # Given a service connection that shadows the keys table with a temporary one claiming
    # the key was already used for the Kursk report at position 1
    await EventStore(as_service).append([filed(kursk_held_now())])
    key = Idempotency(key="berdiansk-strike", fingerprint=b"berdiansk")
    async with as_service.acquire() as connection:
        await connection.execute(
            "CREATE TEMPORARY TABLE timeline_idempotency_keys "
            "(LIKE public.timeline_idempotency_keys)"
        )
        await connection.execute(
            "INSERT INTO timeline_idempotency_keys VALUES ($1, $2, 1, 1, now(), $3)",
            key.key,
            key.fingerprint,
            key.scope,
        )
        store_on_that_connection = EventStore(_OneConnection(connection))

        # When it appends the Berdiansk strike with that key
        result = await store_on_that_connection.append([filed(berdiansk_strike())], idempotency=key)

    # Then the strike is recorded, not answered with the Kursk report
    assert not result.replayed
    assert result.last_position == await store.position() == 2


class _OneConnection:
    """Just enough of a pool for EventStore.append, on one given connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    def acquire(self) -> _OneConnection:
        return self

    async def __aenter__(self) -> asyncpg.Connection:
        return self.connection

    async def __aexit__(self, *_: object) -> None:
        return None
