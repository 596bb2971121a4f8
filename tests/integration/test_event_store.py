"""The event store's guarantees on a real PostgreSQL: optimistic concurrency on versions,
idempotent appends, all-or-nothing batches, reads by report and by log position."""

from __future__ import annotations

import hashlib
from uuid import uuid4

import asyncpg
import msgspec
import pytest

from domain import report as rules
from domain.errors import VersionConflict
from domain.events import DomainEvent
from store.event_store import (
    AppendResult,
    EventStore,
    Idempotency,
    IdempotencyKeyReused,
    MalformedAppend,
)
from tests.seed_values import (
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    RUSSIAN_DEFENCE_MINISTRY,
    berdiansk_strike,
    filed,
    kursk_at_peak,
    kursk_held_now,
    kursk_story,
    port_damage_since_july_2023,
)

Rows = list[tuple[object, ...]]


async def everything_stored(pool: asyncpg.Pool) -> tuple[Rows, Rows]:
    """Every row of the log and of the idempotency keys, to prove nothing changed."""
    events = await pool.fetch("SELECT * FROM timeline_events ORDER BY notification_id")
    keys = await pool.fetch("SELECT * FROM timeline_idempotency_keys ORDER BY key")
    return [tuple(row) for row in events], [tuple(row) for row in keys]


def retry_key(key: str, *events: DomainEvent) -> Idempotency:
    """A caller's key with a fingerprint of what it asked for."""
    digest = hashlib.sha256()
    for event in events:
        digest.update(msgspec.json.encode(event))
    return Idempotency(key=key, fingerprint=digest.digest())


def positions(*results: AppendResult) -> list[int]:
    return [appended.position for result in results for appended in result.events]


# --- reading ----------------------------------------------------------------------------


async def test_a_report_reads_back_in_version_order_among_other_reports(
    store: EventStore,
) -> None:
    # Given the Kursk report's life, appended step by step between other reports
    filing, corroboration, correction = kursk_story()
    berdiansk = filed(berdiansk_strike())
    port_damage = filed(port_damage_since_july_2023())
    kursk_filed = await store.append([filing])
    await store.append([berdiansk])
    kursk_corroborated = await store.append([corroboration])
    await store.append([port_damage])
    kursk_corrected = await store.append([correction])

    # When we read the Kursk report
    recorded = await store.read_report(filing.originator_id)

    # Then we get its events alone, in version order, where the appends put them
    assert [r.event for r in recorded] == [filing, corroboration, correction]
    assert [r.position for r in recorded] == positions(
        kursk_filed, kursk_corroborated, kursk_corrected
    )
    assert [r.recorded_at for r in recorded] == [
        result.events[0].recorded_at
        for result in (kursk_filed, kursk_corroborated, kursk_corrected)
    ]
    assert [r.event for r in await store.read_report(berdiansk.originator_id)] == [berdiansk]
    assert await store.read_report(uuid4()) == []


async def test_the_log_reads_in_pages_from_any_position(store: EventStore) -> None:
    # Given seven events: the Kursk story in one batch, then four more appends
    kursk = kursk_story()
    berdiansk = filed(berdiansk_strike())
    disputed = rules.dispute(
        rules.evolve(None, berdiansk),
        by=RUSSIAN_DEFENCE_MINISTRY,
        reason="says the missiles were shot down over the Sea of Azov",
    )
    appended_events: list[DomainEvent] = [*kursk]
    results = [await store.append(kursk)]
    for event in (
        berdiansk,
        filed(port_damage_since_july_2023()),
        filed(kursk_at_peak()),
        disputed,
    ):
        results.append(await store.append([event]))
        appended_events.append(event)
    everything = positions(*results)

    # When a reader pages through the log three events at a time
    pages = []
    after = 0
    while True:
        page = await store.read_log(after=after, limit=3)
        pages.append(page)
        if not page:
            break
        after = page[-1].position

    # Then the pages are full but the last, an empty page marks the end,
    # and together they are the whole log in append order
    assert [len(page) for page in pages] == [3, 3, 1, 0]
    read = [recorded for page in pages for recorded in page]
    assert [r.position for r in read] == everything
    assert [r.event for r in read] == appended_events
    assert await store.read_log() == read
    assert await store.position() == everything[-1]

    # And a reader can start anywhere, and finds nothing past the end
    assert await store.read_log(after=everything[4], limit=100) == read[5:]
    assert await store.read_log(after=everything[-1]) == []

    # And transaction time never goes backwards; one batch shares one instant
    recorded_at = [r.recorded_at for r in read]
    assert recorded_at == sorted(recorded_at)
    assert len({r.recorded_at for r in read[:3]}) == 1


async def test_an_empty_log_reads_as_empty(store: EventStore) -> None:
    assert await store.read_log() == []
    assert await store.position() == 0


# --- optimistic concurrency -------------------------------------------------------------


async def test_a_stale_version_is_a_conflict_and_writes_nothing(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report filed and then corroborated by analysts (version 2)
    filing, corroboration, _ = kursk_story()
    await store.append([filing, corroboration])
    before = await everything_stored(pool)

    # When a second editor, who read version 1, records Moscow's dispute
    as_read = rules.evolve(None, filing)
    stale = rules.dispute(as_read, by=RUSSIAN_DEFENCE_MINISTRY, reason="denies the figure")

    # Then the store says the report moved on, and writes nothing
    with pytest.raises(VersionConflict) as conflict:
        await store.append([stale], idempotency=retry_key("dispute-kursk", stale))
    assert (conflict.value.report_id, conflict.value.expected, conflict.value.actual) == (
        filing.originator_id,
        1,
        2,
    )
    assert "reload it" in str(conflict.value)
    assert await everything_stored(pool) == before


async def test_a_batch_with_one_stale_event_writes_none_of_it(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report at version 2
    filing, corroboration, _ = kursk_story()
    await store.append([filing, corroboration])
    before = await everything_stored(pool)

    # When a bulk import files two new reports and a dispute built on version 1
    stale = rules.dispute(
        rules.evolve(None, filing), by=RUSSIAN_DEFENCE_MINISTRY, reason="denies the figure"
    )
    batch: list[DomainEvent] = [
        filed(berdiansk_strike()),
        stale,
        filed(port_damage_since_july_2023()),
    ]

    # Then the whole batch is refused, naming the stale report; no filing and no key is kept
    with pytest.raises(VersionConflict) as conflict:
        await store.append(batch, idempotency=retry_key("import-2024-11-23", *batch))
    assert conflict.value.report_id == filing.originator_id
    assert await everything_stored(pool) == before


async def test_a_version_that_skips_ahead_is_rejected(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report filed (version 1)
    filing, _, correction = kursk_story()
    await store.append([filing])
    before = await everything_stored(pool)

    # When a correction claims version 3, skipping version 2
    assert correction.originator_version == 3

    # Then it is a conflict: the report is at 1, the correction expected 2
    with pytest.raises(VersionConflict) as conflict:
        await store.append([correction])
    assert (conflict.value.expected, conflict.value.actual) == (2, 1)
    assert await everything_stored(pool) == before


async def test_an_assessment_of_a_report_never_filed_is_rejected(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given a corroboration of a Berdiansk report that never reached the log
    never_filed = rules.evolve(None, filed(berdiansk_strike()))
    corroboration = rules.corroborate(never_filed, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)

    # Then it cannot be appended
    with pytest.raises(VersionConflict) as conflict:
        await store.append([corroboration])
    assert (conflict.value.expected, conflict.value.actual) == (1, 0)
    assert await everything_stored(pool) == ([], [])


# --- bad input --------------------------------------------------------------------------


async def test_appending_nothing_is_refused(store: EventStore, pool: asyncpg.Pool) -> None:
    with pytest.raises(ValueError, match="nothing to append"):
        await store.append([])
    with pytest.raises(ValueError, match="nothing to append"):
        await store.append([], idempotency=retry_key("empty-import"))
    assert await everything_stored(pool) == ([], [])


async def test_a_batch_repeating_a_version_stores_nothing(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report filed
    filing, corroboration, _ = kursk_story()
    await store.append([filing])
    before = await everything_stored(pool)

    # When a batch carries a new report, then two different events both at version 2
    dispute = rules.dispute(
        rules.evolve(None, filing), by=RUSSIAN_DEFENCE_MINISTRY, reason="denies the figure"
    )
    batch: list[DomainEvent] = [filed(berdiansk_strike()), corroboration, dispute]

    # Then it is refused and nothing of it is stored, not even the valid filing
    with pytest.raises(MalformedAppend):
        await store.append(batch, idempotency=retry_key("import-with-duplicate", *batch))
    assert await everything_stored(pool) == before


async def test_a_batch_that_skips_a_version_inside_itself_stores_nothing(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the Kursk report filed (version 1)
    filing, corroboration, correction = kursk_story()
    await store.append([filing])
    before = await everything_stored(pool)

    # When one batch carries version 2 and then version 4
    skipping = msgspec.structs.replace(correction, originator_version=4)

    # Then it is refused and nothing is stored
    with pytest.raises(MalformedAppend):
        await store.append([corroboration, skipping])
    assert await everything_stored(pool) == before


async def test_a_report_cannot_begin_below_version_one(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    filing = msgspec.structs.replace(filed(berdiansk_strike()), originator_version=0)
    with pytest.raises(MalformedAppend):
        await store.append([filing])
    assert await everything_stored(pool) == ([], [])


# --- idempotent appends -----------------------------------------------------------------


async def test_a_retry_with_the_same_key_and_content_gets_the_first_answer(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given an import of two reports under a key, and the Kursk report filed after it
    batch: list[DomainEvent] = [
        filed(berdiansk_strike()),
        filed(port_damage_since_july_2023()),
    ]
    key = retry_key("import-2024-11-23", *batch)
    first = await store.append(batch, idempotency=key)
    await store.append([filed(kursk_held_now())])
    before = await everything_stored(pool)

    # When the importer, unsure the first attempt landed, sends the same batch again
    retried = await store.append(batch, idempotency=key)

    # Then it gets the first answer back, marked as a replay, and nothing is written
    assert first.replayed is False
    assert retried.replayed is True
    assert retried.events == first.events
    assert [a.report_id for a in retried.events] == [e.originator_id for e in batch]
    assert await everything_stored(pool) == before

    # And the same answer is there for a caller who asks before building events
    assert await store.replay(key) == retried


async def test_a_key_reused_for_other_content_is_refused(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the Berdiansk strike filed under a key
    berdiansk = filed(berdiansk_strike())
    await store.append([berdiansk], idempotency=retry_key("file-2024-11-23-1", berdiansk))
    before = await everything_stored(pool)

    # When another report is sent under the same key
    port_damage = filed(port_damage_since_july_2023())
    reused = retry_key("file-2024-11-23-1", port_damage)

    # Then the store refuses it, names the key, and writes nothing
    with pytest.raises(IdempotencyKeyReused) as refused:
        await store.append([port_damage], idempotency=reused)
    assert refused.value.key == "file-2024-11-23-1"
    assert await everything_stored(pool) == before
    with pytest.raises(IdempotencyKeyReused):
        await store.replay(reused)

    # And a key never used has no answer yet
    assert await store.replay(retry_key("file-2024-11-23-2", port_damage)) is None
