"""Group commit on a real PostgreSQL: appends made at the same time share one transaction (one
lock, one commit), and each keeps its own version check, idempotency key and answer.

The appends of a test are started together (asyncio.gather), so every one of them is waiting
before the first group is sent: how many transactions they took is counted by the store
(`append_groups`), never guessed from timings."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from uuid import uuid4

import asyncpg

from application.commands import FileReport
from domain import report as rules
from domain.errors import VersionConflict
from domain.events import DomainEvent, ReportFiled
from store.chain import verify_chain
from store.event_store import (
    AppendResult,
    EventStore,
    Idempotency,
    IdempotencyKeyReused,
    WriteOutcomeUnknown,
)
from store.group_commit import AppendAnswer, AppendCall, GroupCommitter
from store.mapper import encode_event
from tests.pg_proxy import CuttingProxy
from tests.seed_values import (
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    RUSSIAN_DEFENCE_MINISTRY,
    berdiansk_strike,
    filed,
    kursk_at_peak,
    kursk_held_now,
    port_damage_since_july_2023,
)

SEED_FILINGS: tuple[Callable[[], FileReport], ...] = (
    kursk_held_now,
    kursk_at_peak,
    berdiansk_strike,
    port_damage_since_july_2023,
)


def filings(count: int) -> list[ReportFiled]:
    """`count` new reports, the seed article's four in turn."""
    return [filed(SEED_FILINGS[n % len(SEED_FILINGS)]()) for n in range(count)]


def key(name: str, *events: DomainEvent) -> Idempotency:
    return Idempotency(key=name, fingerprint=hashlib.sha256(repr(events).encode()).digest())


async def log_positions(pool: asyncpg.Pool) -> list[int]:
    rows = await pool.fetch("SELECT notification_id FROM timeline_events ORDER BY 1")
    return [row[0] for row in rows]


async def test_forty_editors_filing_at_once_share_one_transaction_in_the_order_they_came(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given forty filings sent at the same moment, each with its own key
    events = filings(40)
    results = await asyncio.gather(
        *(
            store.append([event], idempotency=key(f"filing-{n}", event))
            for n, event in enumerate(events)
        )
    )

    # Then they were committed together, in one transaction
    assert store.append_groups.groups == 1
    assert store.append_groups.appends == 40
    # and each was answered with its own position, in the order they came
    assert [r.events[0].report_id for r in results] == [e.originator_id for e in events]
    assert [r.last_position for r in results] == list(range(1, 41))
    assert await log_positions(pool) == list(range(1, 41))
    # and the chain links them one after another
    verification = await verify_chain(pool)
    assert verification.intact
    assert verification.events == 40


async def test_a_group_holds_at_most_the_configured_number_of_appends(
    pool: asyncpg.Pool,
) -> None:
    # Given a store whose groups hold eight appends (TIMELINE_APPEND_GROUP_MAX=8)
    store = EventStore(pool, max_append_group=8)

    # When forty filings come at once
    await asyncio.gather(*(store.append([event]) for event in filings(40)))

    # Then they took five transactions of eight, still in order
    assert (store.append_groups.groups, store.append_groups.largest) == (5, 8)
    assert await log_positions(pool) == list(range(1, 41))
    assert (await verify_chain(pool)).intact


async def test_a_lone_append_is_sent_alone_at_once(store: EventStore) -> None:
    result = await store.append(filings(1))

    assert result.last_position == 1
    assert (store.append_groups.groups, store.append_groups.largest) == (1, 1)


async def test_a_stale_version_in_a_group_fails_that_append_only(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given the 800 km² report, filed, at version 1
    filing = filed(kursk_held_now())
    await store.append([filing])
    report = rules.evolve(None, filing)
    # and two editors who both read it at version 1: analysts corroborate it, Moscow disputes it
    corroboration = rules.corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)
    dispute = rules.dispute(report, by=RUSSIAN_DEFENCE_MINISTRY, reason="no such gains")
    others = filings(6)

    # When they all reach the store in one group with six new filings
    outcomes = await asyncio.gather(
        store.append([others[0]]),
        store.append([corroboration]),
        store.append([others[1]], idempotency=key("kursk-peak-1376-km2", others[1])),
        store.append([dispute]),
        *(store.append([event]) for event in others[2:]),
        return_exceptions=True,
    )

    # Then the dispute, written against a version that has moved on, is refused alone
    assert store.append_groups.groups == 2  # the first filing, then the group
    refused = outcomes[3]
    assert isinstance(refused, VersionConflict)
    assert (refused.report_id, refused.expected, refused.actual) == (filing.originator_id, 1, 2)
    # and every other append of the group is recorded, with its own answer
    recorded = [o for n, o in enumerate(outcomes) if n != 3]
    assert all(isinstance(o, AppendResult) for o in recorded)
    assert [e.originator_version for e in await _report_events(store, filing)] == [1, 2]
    assert len(await log_positions(pool)) == 8
    assert (await verify_chain(pool)).intact


async def _report_events(store: EventStore, filing: ReportFiled) -> list[DomainEvent]:
    return [recorded.event for recorded in await store.read_report(filing.originator_id)]


async def test_a_version_that_skips_ahead_in_a_group_fails_that_append_only(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given the Berdiansk strike, filed, at version 1
    filing = filed(berdiansk_strike())
    await store.append([filing])
    report = rules.evolve(None, filing)
    corroboration = rules.corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)
    # and an assessment that claims to follow a version 2 nobody recorded
    after_two = rules.evolve(report, corroboration)
    skipping = rules.dispute(after_two, by=RUSSIAN_DEFENCE_MINISTRY, reason="no strike")

    outcomes = await asyncio.gather(
        store.append(filings(1)),
        store.append([skipping]),
        store.append(filings(1)),
        return_exceptions=True,
    )

    assert isinstance(outcomes[1], VersionConflict)
    assert (outcomes[1].expected, outcomes[1].actual) == (2, 1)
    assert isinstance(outcomes[0], AppendResult)
    assert isinstance(outcomes[2], AppendResult)
    assert store.append_groups.groups == 2
    assert len(await log_positions(pool)) == 3
    assert (await verify_chain(pool)).intact


async def test_a_key_sent_twice_in_one_group_records_once_and_answers_the_same(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given an editor's filing, and its retry sent before the first attempt was answered (a
    # retry decides again, so it brings a fresh report id), both with one Idempotency-Key
    first, retry = filed(kursk_held_now()), filed(kursk_held_now())
    same_body = Idempotency(key="kursk-800-km2 2024-11-23", fingerprint=b"the 800 km2 filing")
    # and another caller's mistake: that key again, with another body
    other_body = Idempotency(key="kursk-800-km2 2024-11-23", fingerprint=b"the 1,376 km2 peak")

    outcomes = await asyncio.gather(
        store.append([first], idempotency=same_body),
        store.append(filings(1)),
        store.append([retry], idempotency=same_body),
        store.append([filed(kursk_at_peak())], idempotency=other_body),
        store.append(filings(1)),
        return_exceptions=True,
    )

    # Then one group; the key recorded the first filing once, and the retry got its answer
    assert store.append_groups.groups == 1
    original, replayed = outcomes[0], outcomes[2]
    assert isinstance(original, AppendResult)
    assert isinstance(replayed, AppendResult)
    assert not original.replayed
    assert replayed.replayed
    assert replayed.events == original.events
    # the other body is refused alone
    assert isinstance(outcomes[3], IdempotencyKeyReused)
    assert all(isinstance(outcomes[n], AppendResult) for n in (1, 4))
    # and the log holds three reports: the first filing and the two others
    assert len(await log_positions(pool)) == 3
    assert await store.read_report(retry.originator_id) == []
    assert (await verify_chain(pool)).intact


async def test_an_append_the_database_refuses_outright_fails_alone_and_the_rest_commit(
    pool: asyncpg.Pool,
) -> None:
    # Given a group in which one append carries a type PostgreSQL cannot store (a NUL
    # character in text): the whole call fails, and nothing of the group is written
    committer = GroupCommitter(pool)
    good = [_call(event) for event in filings(3)]
    bad = _call(filings(1)[0], topic="report-filed\x00")

    outcomes = await asyncio.gather(
        committer.append(good[0]),
        committer.append(bad),
        committer.append(good[1]),
        committer.append(good[2]),
        return_exceptions=True,
    )

    # Then the appends are tried again one by one: the bad one fails with its own error
    assert isinstance(outcomes[1], asyncpg.PostgresError)
    # and the others are recorded, in their order
    answers = [o for n, o in enumerate(outcomes) if n != 1]
    assert all(isinstance(a, AppendAnswer) and a.refused is None for a in answers)
    first_positions = [a.first_position for a in answers if isinstance(a, AppendAnswer)]
    assert first_positions == sorted(first_positions)
    assert committer.figures.groups == 3
    assert len(await log_positions(pool)) == 3
    assert (await verify_chain(pool)).intact


def _call(event: DomainEvent, *, topic: str | None = None) -> AppendCall:
    stored_topic, state = encode_event(event)
    return AppendCall(
        [event.originator_id], [event.originator_version], [topic or stored_topic], [state]
    )


async def test_a_group_whose_connection_is_lost_after_the_commit_tells_each_append_so(
    pool: asyncpg.Pool, proxy: CuttingProxy
) -> None:
    # Given a store that reaches PostgreSQL through a proxy that cuts the connection once the
    # next append has committed, before its answer
    via_proxy = await asyncpg.create_pool(proxy.url, min_size=1, max_size=2)
    assert via_proxy is not None
    try:
        store = EventStore(via_proxy)
        await store.append(filings(1))  # the pool's connection is open and warmed
        proxy.cut_next_append = True
        keyed, unkeyed = filings(2)
        kursk = key("kursk-800-km2 2024-11-23", keyed)

        # When two filings go in one group, one with a key and one without
        lost = await asyncio.gather(
            store.append([keyed], idempotency=kursk),
            store.append([unkeyed]),
            return_exceptions=True,
        )

        # Then each is told that it may or may not be recorded, with its own advice
        assert proxy.cuts == 1
        assert [type(o) for o in lost] == [WriteOutcomeUnknown, WriteOutcomeUnknown]
        assert [o.keyed for o in lost if isinstance(o, WriteOutcomeUnknown)] == [True, False]
        # (both were)
        assert len(await log_positions(pool)) == 3
        # and the keyed one's retry gets its first answer, writing nothing more
        retry = await store.append([keyed], idempotency=kursk)
        assert retry.replayed
        assert retry.last_position == 2
        assert len(await log_positions(pool)) == 3
    finally:
        await via_proxy.close()


async def test_a_database_that_cannot_be_reached_fails_every_append_of_the_group_unsent(
    pool: asyncpg.Pool, proxy: CuttingProxy
) -> None:
    via_proxy = await asyncpg.create_pool(proxy.url, min_size=0, max_size=2)
    assert via_proxy is not None
    try:
        store = EventStore(via_proxy)
        proxy.call(proxy.stop_accepting_and_drop_all())

        outcomes = await asyncio.gather(
            *(store.append([event], idempotency=key(str(uuid4()), event)) for event in filings(3)),
            return_exceptions=True,
        )

        # Then no append was sent: the pool's error, not an unknown outcome
        assert all(isinstance(o, OSError) for o in outcomes), outcomes
        assert await log_positions(pool) == []
    finally:
        await via_proxy.close()
