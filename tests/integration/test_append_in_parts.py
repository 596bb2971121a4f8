"""A large append in parts on a real PostgreSQL: an append of more than APPEND_PART events
with no idempotency key (an import's) goes in calls of that many, in one transaction: all
of it or none, contiguous positions, one recorded time, an intact chain."""

from __future__ import annotations

import asyncpg
import pytest

from domain import report as rules
from domain.errors import VersionConflict
from store.append_parts import APPEND_PART
from store.chain import verify_chain
from store.event_store import EventStore, WriteOutcomeUnknown
from tests.integration.test_group_commit import filings, log_positions
from tests.pg_proxy import CuttingProxy
from tests.seed_values import INSTITUTE_FOR_THE_STUDY_OF_WAR, filed, kursk_held_now


async def test_an_append_larger_than_a_part_is_stored_whole_in_order(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given one filing already in the log
    await store.append(filings(1))
    events = filings(2 * APPEND_PART + 7)

    # When an append of two parts and a bit is made
    result = await store.append(events)

    # Then its events follow the first one, in the order given, one position each
    assert [appended.position for appended in result.events] == list(range(2, len(events) + 2))
    assert [appended.report_id for appended in result.events] == [
        event.originator_id for event in events
    ]
    assert await log_positions(pool) == list(range(1, len(events) + 2))
    stored = await store.read_log(after=1 + APPEND_PART - 1, limit=2)
    assert [recorded.event.originator_id for recorded in stored] == [
        event.originator_id for event in events[APPEND_PART - 1 : APPEND_PART + 1]
    ]
    # all recorded at one time, the first part's: a question about any moment sees all of
    # the append or none of it
    times = {appended.recorded_at for appended in result.events}
    stored_times = {
        recorded.recorded_at for recorded in await store.read_log(after=1, limit=len(events))
    }
    assert len(times) == 1
    assert stored_times == times
    assert (await verify_chain(pool)).intact


async def test_a_refused_event_in_the_last_part_leaves_none_of_the_append_written(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given the 800 km² report, filed and corroborated: at version 2
    filing = filed(kursk_held_now())
    await store.append([filing])
    report = rules.evolve(None, filing)
    await store.append([rules.corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)])
    # and an editor who read it at version 1, whose corroboration ends a large append
    stale = rules.corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)
    events = [*filings(APPEND_PART + 10), stale]

    # When the append is made, then it is refused as a conflict on that report
    with pytest.raises(VersionConflict) as refused:
        await store.append(events)
    assert (refused.value.report_id, refused.value.expected, refused.value.actual) == (
        filing.originator_id,
        1,
        2,
    )
    # and its first part, sent and stored before the last was refused, is gone with it
    assert await log_positions(pool) == [1, 2]
    # while the next append follows on from the log as it was (the positions the refused
    # append drew are not drawn again, as for any refused append: positions only go up)
    after = (await store.append(filings(1))).last_position
    assert await log_positions(pool) == [1, 2, after]
    assert (await verify_chain(pool)).intact


async def test_a_connection_lost_between_parts_leaves_an_unknown_outcome_and_nothing_written(
    pool: asyncpg.Pool, proxy: CuttingProxy
) -> None:
    # Given a store that reaches PostgreSQL through a proxy that cuts the connection once the
    # next call of timeline_append has been answered: here the first part of a large append
    via_proxy = await asyncpg.create_pool(proxy.url, min_size=1, max_size=2)
    assert via_proxy is not None
    try:
        store = EventStore(via_proxy)
        await store.append(filings(1))
        proxy.cut_next_append = True

        # When the append is made, then its writer is told the outcome is unknown (no key:
        # a retry could write it twice, were it written)
        with pytest.raises(WriteOutcomeUnknown) as lost:
            await store.append(filings(APPEND_PART + 1))
        assert proxy.cuts == 1
        assert not lost.value.keyed
        # and it was not: the transaction of its parts never committed
        assert await log_positions(pool) == [1]
    finally:
        await via_proxy.close()
