"""The chain in PostgreSQL: every writer's events are linked as they are appended, the
database and store/chain.py agree byte for byte, `verify_chain` names the exact position of
an edit or a deletion made behind the service's back, and the events table refuses UPDATE and
DELETE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.reports import ReportService
from domain import report as rules
from domain.errors import VersionConflict
from seed.demo import load_demo
from store import migrate
from store.chain import GENESIS, canonical_bytes, chain_head, link, verify_chain
from store.event_store import EventStore
from store.mapper import encode_event
from tests.conftest import scratch_database
from tests.integration.old_schemas import append_before_scopes, demo_events, run_on
from tests.integration.test_library_interop import TimelineLibraryApp, library_env
from tests.seed_values import (
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    RUSSIAN_DEFENCE_MINISTRY,
    berdiansk_strike,
    filed,
    kursk_held_now,
    kursk_story,
    port_damage_since_july_2023,
)

T = TypeVar("T")

CHAIN_BYTES = "SELECT timeline_chain_bytes($1, $2, $3, $4, $5, sha256($6))"


async def recomputed_chain(pool: asyncpg.Pool) -> list[tuple[int, bytes, bytes]]:
    """(position, stored hash, hash recomputed in Python from the stored row) for the log."""
    rows = await pool.fetch(
        "SELECT notification_id, originator_id, originator_version, topic, recorded_at, state, "
        "chain_hash FROM timeline_events ORDER BY notification_id"
    )
    chain, previous = [], GENESIS
    for position, report_id, version, topic, recorded_at, state, stored in rows:
        previous = link(
            previous,
            canonical_bytes(
                position=position,
                report_id=report_id,
                version=version,
                topic=topic,
                recorded_at=recorded_at,
                state=state,
            ),
        )
        chain.append((position, stored, previous))
    return chain


@pytest.fixture
async def guard_lifted(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """The append-only guard disabled, as someone with the table owner's rights could do;
    put back afterwards whatever happens, since the database serves the whole session."""
    await pool.execute("ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only")
    try:
        yield pool
    finally:
        await pool.execute("ALTER TABLE timeline_events ENABLE TRIGGER timeline_events_append_only")


# --- the database computes what store/chain.py documents --------------------------------

TOPICS = st.sampled_from(["report-filed", "report-corrected@v2", "Кременная", "報告", ""])
INT8 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
EVENTS = st.tuples(
    INT8,
    st.uuids(),
    INT8,
    (TOPICS | st.text(max_size=40)).map(lambda text: text.replace("\x00", "")),  # no NUL in text
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    st.binary(max_size=3000),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=EVENTS)
def test_the_database_and_python_agree_on_canonical_bytes(
    database_url: str, event: tuple[int, UUID, int, str, datetime, bytes]
) -> None:
    position, report_id, version, topic, recorded_at, state = event
    in_database = asyncio.run(_fetchval(database_url, CHAIN_BYTES, *event))
    assert in_database == canonical_bytes(
        position=position,
        report_id=report_id,
        version=version,
        topic=topic,
        recorded_at=recorded_at,
        state=state,
    )


async def _fetchval(url: str, query: str, *args: object) -> object:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


# --- every writer's events are linked -----------------------------------------------------


async def test_the_demo_is_linked_as_it_is_appended(pool: asyncpg.Pool, store: EventStore) -> None:
    # Given the seed article's reports recorded through the service, one append each
    await load_demo(ReportService(store))

    # Then every stored hash is the one Python computes from the stored rows
    chain = await recomputed_chain(pool)
    assert len(chain) == 16
    assert all(stored == recomputed for _, stored, recomputed in chain)

    # And the log verifies, with the head the API will show
    result = await verify_chain(pool)
    head = await chain_head(pool)
    assert result.describe() == f"intact up to position 16, head hash {chain[-1][2].hex()}"
    assert (head.position, head.head_hash) == (16, chain[-1][2].hex())


async def test_a_batch_links_each_event_to_the_one_before_it(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    await store.append([filed(berdiansk_strike())])
    await store.append([*kursk_story(), filed(port_damage_since_july_2023())])

    chain = await recomputed_chain(pool)

    assert [position for position, _, _ in chain] == [1, 2, 3, 4, 5]
    assert all(stored == recomputed for _, stored, recomputed in chain)


async def test_events_the_library_appends_are_linked_in_between_ours(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given the library's own Application and our store writing at the same time
    library = TimelineLibraryApp(env=library_env(database_url))

    def library_writer() -> None:
        for _ in range(30):
            filing = filed(berdiansk_strike())
            report = rules.evolve(None, filing)
            library.save(filing, rules.corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR))

    async def our_writer() -> None:
        for _ in range(30):
            await store.append([filed(kursk_held_now()), filed(port_damage_since_july_2023())])

    try:
        await asyncio.gather(asyncio.to_thread(library_writer), our_writer(), our_writer())
    finally:
        library.close()

    # Then one chain runs through all 180 events, whoever wrote them
    chain = await recomputed_chain(pool)
    assert len(chain) == 180
    assert all(stored == recomputed for _, stored, recomputed in chain)
    assert (await verify_chain(pool)).intact


async def test_positions_skipped_by_a_failed_append_leave_the_chain_intact(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given a corroboration appended, then a second version 2 that loses on the primary key
    # after reserving its position
    filing, corroboration, _ = kursk_story()
    await store.append([filing, corroboration])
    rival = rules.dispute(
        rules.evolve(None, filing), by=RUSSIAN_DEFENCE_MINISTRY, reason="denies the figure"
    )
    with pytest.raises(VersionConflict):
        await store.append([rival])
    await store.append([filed(berdiansk_strike())])

    # Then the log skips a position, and the chain does not mind
    assert [position for position, _, _ in await recomputed_chain(pool)] == [1, 2, 4]
    assert (await verify_chain(pool)).describe().startswith("intact up to position 4")


async def test_verify_through_a_position_stops_there(pool: asyncpg.Pool, store: EventStore) -> None:
    await load_demo(ReportService(store))
    chain = await recomputed_chain(pool)
    result = await verify_chain(pool, through=5)
    assert (result.intact, result.position, result.head_hash) == (True, 5, chain[4][2].hex())


async def test_an_empty_log_has_the_genesis_head(pool: asyncpg.Pool) -> None:
    head = await chain_head(pool)
    assert (head.position, head.head_hash) == (0, GENESIS.hex())
    assert (await verify_chain(pool)).describe() == f"intact up to position 0, head hash {'0' * 64}"


# --- tampering behind the service's back ---------------------------------------------------


async def test_a_state_edited_with_sql_is_found_at_its_position(
    guard_lifted: asyncpg.Pool, store: EventStore
) -> None:
    # Given the demo, and someone who lifts the guard and turns the 800 km² figure into 900
    pool = guard_lifted
    await load_demo(ReportService(store))
    position = await pool.fetchval(
        "SELECT notification_id FROM timeline_events "
        "WHERE convert_from(state, 'UTF8') LIKE '%\"value\":800.0,%' ORDER BY 1 LIMIT 1"
    )
    edited = await pool.execute(
        "UPDATE timeline_events SET state = convert_to(replace(convert_from(state, 'UTF8'), "
        "'\"value\":800.0,', '\"value\":900.0,'), 'UTF8') WHERE notification_id = $1",
        position,
    )
    assert edited == "UPDATE 1"

    # When the log is verified
    result = await verify_chain(pool)

    # Then the chain breaks exactly there, and holds up to the event before it
    assert not result.intact
    assert result.broken_at == position
    assert result.position == position - 1
    assert result.reason == "its content or chain hash changed after it was linked"


async def test_a_recorded_time_moved_by_a_microsecond_is_found(
    guard_lifted: asyncpg.Pool, store: EventStore
) -> None:
    pool = guard_lifted
    await load_demo(ReportService(store))
    await pool.execute(
        "UPDATE timeline_events SET recorded_at = recorded_at + interval '1 microsecond' "
        "WHERE notification_id = 7"
    )
    assert (await verify_chain(pool)).broken_at == 7


async def test_a_row_deleted_with_sql_is_named_by_its_position(
    guard_lifted: asyncpg.Pool, store: EventStore
) -> None:
    # Given the demo, and someone who lifts the guard and deletes the event at position 9
    pool = guard_lifted
    await load_demo(ReportService(store))
    await pool.execute("DELETE FROM timeline_events WHERE notification_id = 9")

    # When the log is verified
    result = await verify_chain(pool)

    # Then the missing position is named
    assert not result.intact
    assert result.broken_at == 9
    assert result.position == 8
    assert result.describe().startswith("broken at position 9: position 9 missing")


async def test_an_append_after_a_deletion_at_the_head_needs_the_head_kept_elsewhere(
    guard_lifted: asyncpg.Pool, store: EventStore
) -> None:
    # What the chain alone cannot show: the newest event deleted, then the log carrying on
    # from the one before. Only a head hash kept elsewhere tells.
    pool = guard_lifted
    await load_demo(ReportService(store))
    kept = await chain_head(pool)
    await pool.execute("DELETE FROM timeline_events WHERE notification_id = 16")
    await store.append([filed(berdiansk_strike())])

    assert (await verify_chain(pool)).intact
    later = await verify_chain(pool, through=kept.position)
    assert later.head_hash != kept.head_hash


# --- the guard --------------------------------------------------------------------------


async def test_events_cannot_be_updated_or_deleted(pool: asyncpg.Pool, store: EventStore) -> None:
    await load_demo(ReportService(store))
    before = await pool.fetch("SELECT * FROM timeline_events ORDER BY notification_id")

    with pytest.raises(asyncpg.PostgresError) as updated:
        await pool.execute("UPDATE timeline_events SET topic = 'report-retracted'")
    with pytest.raises(asyncpg.PostgresError) as deleted:
        await pool.execute("DELETE FROM timeline_events WHERE notification_id = 3")

    assert updated.value.sqlstate == deleted.value.sqlstate == "TL403"
    assert str(updated.value) == (
        "timeline_events is append-only: UPDATE of events is not allowed "
        "(record a correction or a retraction as a new event)"
    )
    assert str(deleted.value).startswith("timeline_events is append-only: DELETE of events")
    assert await pool.fetch("SELECT * FROM timeline_events ORDER BY notification_id") == before


async def test_the_log_can_still_be_truncated(pool: asyncpg.Pool, store: EventStore) -> None:
    await store.append([filed(berdiansk_strike())])
    await pool.execute("TRUNCATE timeline_events, timeline_idempotency_keys RESTART IDENTITY")
    assert await store.position() == 0


async def test_a_row_inserted_below_the_head_is_refused(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    # A writer that picks its own positions cannot slip an event in before the head.
    await store.append([filed(berdiansk_strike()), filed(kursk_held_now())])
    topic, state = encode_event(filed(port_damage_since_july_2023()))
    with pytest.raises(asyncpg.PostgresError, match="position 1 cannot follow position 2"):
        await pool.execute(
            "INSERT INTO timeline_events "
            "(notification_id, originator_id, originator_version, topic, state) "
            "VALUES (1, gen_random_uuid(), 1, $1, $2)",
            topic,
            state,
        )


# --- the migration ----------------------------------------------------------------------


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, "timeline_test_chain", migrated=False) as url:
        yield url


async def triggers_and_columns(pool: asyncpg.Pool) -> tuple[int, set[str]]:
    triggers = await pool.fetchval(
        "SELECT count(*) FROM pg_trigger "
        "WHERE tgrelid = 'timeline_events'::regclass AND NOT tgisinternal"
    )
    columns = await pool.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'timeline_events'"
    )
    return triggers, {row[0] for row in columns}


def test_the_migration_links_events_recorded_before_it_and_comes_back_down(
    fresh_database: str, server_url: str
) -> None:
    url = fresh_database

    # Given the demo recorded before the chain existed
    migrate.upgrade(url, "0003")
    events = demo_events(server_url)
    run_on(url, lambda pool: append_before_scopes(pool, events))

    # When the migration runs, those events are linked in log order
    migrate.upgrade(url)
    verified = run_on(url, verify_chain)
    assert (verified.intact, verified.position) == (True, 16)
    assert run_on(url, triggers_and_columns)[0] == 3

    # And going back down leaves the table as before, and appends still work
    migrate.downgrade(url, "0003")
    assert run_on(url, triggers_and_columns) == (
        0,
        {"originator_id", "originator_version", "topic", "state", "notification_id", "recorded_at"},
    )
    run_on(url, lambda pool: append_before_scopes(pool, [filed(berdiansk_strike())]))

    # And up again all 17 are linked
    migrate.upgrade(url)
    assert run_on(url, verify_chain).describe().startswith("intact up to position 17")
