"""Notification ids follow commit order, so a reader tailing the log never skips an event.

Without the appenders' lock (migrations/versions/0019_append_lock_beside_vacuum.py), an
append can take a lower id than another and commit after it; a reader that has moved past
the higher id never sees the lower one. This test races eight writers, each with an event
store of its own (as eight processes would be: a store sends one group at a time), against
one tailing reader to catch exactly that. And the lock lets autovacuum work beside the
appends: an append does not wait for a vacuum or an analyze of the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
import pytest

from application.commands import FileReport
from domain import report as rules
from domain.errors import VersionConflict
from domain.events import DomainEvent
from domain.recorded import RecordedEvent
from domain.report import Report
from store.event_store import Appended, EventStore
from tests.seed_values import (
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    RUSSIAN_DEFENCE_MINISTRY,
    berdiansk_strike,
    filed,
    kursk_at_peak,
    kursk_held_now,
    port_damage_since_july_2023,
)

WRITERS = 8
RACE_SECONDS = 3.0
PAGE_SIZE = 25
# Far longer than an append takes; a wait for the maintainer's lock would last for ever.
MAINTENANCE_WAIT_SECONDS = 10.0
SEED_FILINGS: tuple[Callable[[], FileReport], ...] = (
    kursk_held_now,
    kursk_at_peak,
    berdiansk_strike,
    port_damage_since_july_2023,
)


@dataclass
class Race:
    acknowledged: list[Appended] = field(default_factory=list)  # what appends returned
    tailed: list[RecordedEvent] = field(default_factory=list)  # what the reader saw
    reads_while_writing: int = 0
    batches: int = 0
    conflicts: int = 0


async def race_writers_against_a_tailing_reader(
    database_url: str, seconds: float = RACE_SECONDS
) -> Race:
    """Eight writers append for `seconds` (single events, batches, and contested
    assessments of one shared report) while a reader tails the log page by page."""
    race = Race()
    pool = await asyncpg.create_pool(database_url, min_size=WRITERS + 1, max_size=WRITERS + 1)
    assert pool is not None
    store = EventStore(pool)
    # One store per writer: eight committers, so eight transactions meet in the database.
    stores = [EventStore(pool) for _ in range(WRITERS)]
    try:
        contested = filed(kursk_held_now())
        race.acknowledged.extend((await store.append([contested])).events)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        writers_done = asyncio.Event()

        async def append(number: int, events: list[DomainEvent]) -> None:
            result = await stores[number].append(events)
            race.acknowledged.extend(result.events)
            race.batches += len(events) > 1

        async def writer(number: int) -> None:
            own: list[Report] = []
            round_ = 0
            while loop.time() < deadline:
                round_ += 1
                filing = filed(SEED_FILINGS[(number + round_) % len(SEED_FILINGS)]())
                match round_ % 4:
                    case 0 if own:
                        # A filing and an assessment of an earlier report, in one batch
                        report = own.pop(0)
                        corroboration = rules.corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)
                        await append(number, [filing, corroboration])
                        own.append(rules.evolve(report, corroboration))
                    case 1:
                        # A whole short story of one report in one batch
                        report = rules.evolve(None, filing)
                        dispute = rules.dispute(
                            report, by=RUSSIAN_DEFENCE_MINISTRY, reason="calls it fabricated"
                        )
                        await append(number, [filing, dispute])
                        own.append(rules.evolve(report, dispute))
                        continue
                    case 2:
                        # Everyone assesses the shared report: most lose the race,
                        # and their rolled-back appends leave holes in the ids
                        events = await store.read_report(contested.originator_id)
                        current = rules.project_report(None, (e.event for e in events))
                        assert current is not None
                        try:
                            await append(
                                number,
                                [rules.corroborate(current, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)],
                            )
                        except VersionConflict:
                            race.conflicts += 1
                        continue
                    case _:
                        await append(number, [filing])
                own.append(rules.evolve(None, filing))

        async def reader() -> None:
            last = 0
            while True:
                # Decide before reading: an empty page after every writer finished is
                # the true end, an empty page before that only means "not yet".
                finished = writers_done.is_set()
                page = await store.read_log(after=last, limit=PAGE_SIZE)
                if page:
                    race.tailed.extend(page)
                    last = page[-1].position
                    race.reads_while_writing += not finished
                elif finished:
                    return
                else:
                    await asyncio.sleep(0)

        async def all_writers() -> None:
            try:
                await asyncio.gather(*(writer(number) for number in range(WRITERS)))
            finally:
                writers_done.set()

        await asyncio.gather(all_writers(), reader())
    finally:
        await pool.close()
    return race


def identities(events: list[RecordedEvent]) -> list[tuple[int, object, int]]:
    return [(r.position, r.event.originator_id, r.event.originator_version) for r in events]


async def test_a_tailing_reader_sees_every_committed_event_once_in_order(
    pool: asyncpg.Pool, database_url: str
) -> None:
    # Given eight writers appending for a few seconds while a reader tails the log
    race = await race_writers_against_a_tailing_reader(database_url)
    store = EventStore(pool)

    # (the race was real: many events, batches among them, read while being written)
    assert len(race.acknowledged) > 200
    assert race.batches > 20
    assert race.reads_while_writing > 20

    # Then the reader saw positions only ever going up, none twice
    seen = [recorded.position for recorded in race.tailed]
    assert seen == sorted(set(seen))

    # And it saw exactly what the writers were told was appended: nothing skipped,
    # nothing from an append that lost a version race
    acknowledged = sorted(
        (appended.position, appended.report_id, appended.version) for appended in race.acknowledged
    )
    assert identities(race.tailed) == acknowledged

    # And the log read afterwards, in one go, is what the reader saw
    final = await store.read_log(limit=len(acknowledged) + 1)
    assert identities(final) == identities(race.tailed)
    assert [r.event for r in final] == [r.event for r in race.tailed]

    # And transaction time never went backwards along the log
    recorded_at = [r.recorded_at for r in final]
    assert recorded_at == sorted(recorded_at)


@pytest.mark.parametrize(
    "maintenance",
    ["ANALYZE timeline_events", "LOCK TABLE timeline_events IN SHARE UPDATE EXCLUSIVE MODE"],
)
async def test_an_append_does_not_wait_for_a_vacuum_or_an_analyze_of_the_log(
    pool: asyncpg.Pool, maintenance: str
) -> None:
    # Given a transaction holding what (auto)vacuum and analyze hold on the log while they
    # work (SHARE UPDATE EXCLUSIVE; ANALYZE keeps it to the end of its transaction)
    store = EventStore(pool)
    async with pool.acquire() as maintainer, maintainer.transaction():
        await maintainer.execute(maintenance)
        # When a report is appended meanwhile, then it is stored without waiting for it
        # (under the library's EXCLUSIVE lock it waited: for autovacuum, until PostgreSQL
        # cancelled it after deadlock_timeout; for this transaction, until it ended)
        async with asyncio.timeout(MAINTENANCE_WAIT_SECONDS):
            result = await store.append([filed(kursk_held_now())])
    assert [r.event.originator_id for r in await store.read_log()] == [result.events[0].report_id]


async def test_a_writer_holding_the_library_lock_still_keeps_appends_out(
    pool: asyncpg.Pool,
) -> None:
    # Given a writer holding the eventsourcing library's EXCLUSIVE lock on the log (its own
    # recorder, or `timeline restore`)
    store = EventStore(pool)
    async with pool.acquire() as library_writer, library_writer.transaction():
        await library_writer.execute("LOCK TABLE timeline_events IN EXCLUSIVE MODE")
        # When a report is appended meanwhile, then it waits for that writer
        append = asyncio.ensure_future(store.append([filed(kursk_held_now())]))
        done, _ = await asyncio.wait([append], timeout=0.5)
        assert not done
    # and is stored once the writer is done
    async with asyncio.timeout(MAINTENANCE_WAIT_SECONDS):
        result = await append
    assert len(await store.read_log()) == len(result.events) == 1
