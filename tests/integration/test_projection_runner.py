"""The projection runner against the real database: exactly once, one active runner per
view, woken by NOTIFY, and every concurrent write reaching the view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import ClassVar

import asyncpg
import msgspec

from application.reports import ReportService
from domain.claims import Claim
from domain.report import Report
from projections.core import View, fold, render_all
from projections.row_stores import Generation, read_rows
from projections.runner import ProjectionRunner
from projections.tracked import Tracked
from seed.demo import load_demo
from store.event_store import EventStore
from tests.projection_support import demo_events
from tests.seed_values import berdiansk_strike, filed


class KindTally(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    live: int
    retracted: int
    last_position: int


class ReportsByKind:
    """A small view for testing the runner: how many reports of each kind are live."""

    name: ClassVar[str] = "test-reports-by-kind"

    def follows(self, claim: Claim) -> bool:
        return True

    def keys(self, report: Report) -> tuple[str, ...]:
        return (report.kind,)

    def render(self, key: str, reports: Sequence[Tracked], as_of: datetime | None) -> KindTally:
        retracted = sum(1 for t in reports if t.report.is_retracted)
        return KindTally(
            kind=key,
            live=len(reports) - retracted,
            retracted=retracted,
            last_position=max(t.last_position for t in reports),
        )


VIEW: View = ReportsByKind()


async def _expected_rows(store: EventStore) -> list[tuple[str, str]]:
    state, _ = fold(VIEW, await store.read_log(limit=1_000_000))
    return [(k, msgspec.json.encode(row).decode()) for k, row in render_all(VIEW, state).items()]


async def _persisted(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    # Stored as the view encoded them (text, never reparsed): compared byte for byte.
    return list(await read_rows(pool, VIEW.name))


@asynccontextmanager
async def running(runner: ProjectionRunner) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def _caught_up(runner: ProjectionRunner, store: EventStore, within: float = 10) -> None:
    head = await store.position()
    deadline = asyncio.get_running_loop().time() + within
    while runner.generation is None or runner.generation.position < head:
        assert asyncio.get_running_loop().time() < deadline, "the runner did not catch up"
        await asyncio.sleep(0.02)


async def test_the_view_holds_exactly_what_a_fold_of_the_log_gives(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given the seed article's reports recorded
    await load_demo(ReportService(store))
    runner = ProjectionRunner(VIEW, pool, database_url, batch_size=5)

    # When the runner runs until it reaches the head of the log
    async with running(runner):
        await _caught_up(runner, store)

    # Then its rows are the pure fold's rows, and its position is the log's
    assert await _persisted(pool) == await _expected_rows(store)
    assert runner.generation is not None
    assert runner.generation.position == await store.position() == len(demo_events())


async def test_a_restarted_runner_counts_nothing_twice_and_misses_nothing(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given a runner stopped after its first batch of 3 events
    service = ReportService(store)
    await load_demo(service)
    batches: list[Generation] = []
    first_batch = asyncio.Event()

    def stop_after_first(generation: Generation) -> None:
        batches.append(generation)
        first_batch.set()

    first = ProjectionRunner(VIEW, pool, database_url, batch_size=3, on_batch=stop_after_first)
    async with running(first) as stop:
        await asyncio.wait_for(first_batch.wait(), timeout=10)
        stop.set()
    assert 3 <= batches[-1].position < await store.position()

    # When more is recorded and a new runner starts from the stored position
    await store.append([filed(berdiansk_strike())])
    second = ProjectionRunner(VIEW, pool, database_url, batch_size=4)
    async with running(second):
        await _caught_up(second, store)

    # Then the view equals a fold of the whole log
    assert await _persisted(pool) == await _expected_rows(store)


async def test_only_one_runner_applies_events_and_the_other_takes_over(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given two runners for the same view, the first one started first
    await load_demo(ReportService(store))
    first = ProjectionRunner(VIEW, pool, database_url, poll_interval=0.05)
    second = ProjectionRunner(VIEW, pool, database_url, poll_interval=0.05)
    async with running(first):
        await _caught_up(first, store)
        async with running(second):
            # When the log moves on
            await store.append([filed(berdiansk_strike())])
            await _caught_up(first, store)
            await asyncio.sleep(0.3)
            # Then only the first applies events; the second waits
            assert (first.active, second.active, second.generation) == (True, False, None)

    # When the first is gone, a waiting runner takes over where it stopped
    async with running(second):
        await store.append([filed(berdiansk_strike())])
        await _caught_up(second, store)
        assert second.active
    assert await _persisted(pool) == await _expected_rows(store)


async def test_a_notify_wakes_the_runner_long_before_its_poll(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    runner = ProjectionRunner(VIEW, pool, database_url, poll_interval=60)
    async with running(runner):
        await _caught_up(runner, store)
        await asyncio.sleep(0.2)  # the runner is now asleep until a notification or 60 s
        await store.append([filed(berdiansk_strike())])
        await _caught_up(runner, store, within=5)
    assert await _persisted(pool) == await _expected_rows(store)


async def test_every_event_from_eight_concurrent_writers_reaches_the_view(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    runner = ProjectionRunner(VIEW, pool, database_url, batch_size=50, poll_interval=0.1)

    async def writer() -> None:
        for _ in range(40):
            await store.append([filed(berdiansk_strike()) for _ in range(2)])

    async with running(runner):
        await asyncio.gather(*(writer() for _ in range(8)))
        await _caught_up(runner, store)
    rows = await _persisted(pool)
    assert rows == await _expected_rows(store)
    assert msgspec.json.decode(rows[0][1], type=KindTally).live == 8 * 40 * 2
