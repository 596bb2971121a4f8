"""Runners starting together fold the log once between them, and each still gets exactly
the state it would have folded alone, at its own position."""

from __future__ import annotations

import asyncio
from typing import cast

import asyncpg
import msgspec

from application.reports import ReportService
from projections.catch_up import SharedCatchUp
from projections.core import fold, render_all
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.row_stores import read_rows, row_store
from projections.workers import run_views
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.event_store import READ_LOG_THROUGH, EventStore

LOWEST_SERVING = "SELECT min(position) FROM projection_generations WHERE state = 'serving'"


class CountingPool:
    """The pool, noting each read of the log: (after, through)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.reads: list[tuple[int, int]] = []

    async def fetch(self, query: str, *args: int) -> list[asyncpg.Record]:
        if query == READ_LOG_THROUGH:
            self.reads.append((args[0], args[1]))
        rows: list[asyncpg.Record] = await self.pool.fetch(query, *args)
        return rows


def _rows(view_name: str, state: object) -> object:
    return render_all(VIEWS[view_name], state)  # type: ignore[arg-type]


async def test_views_asking_together_get_their_own_states_from_one_pass(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    await load_demo(ReportService(store))
    log = await store.read_log(limit=1_000)
    head = log[-1].position
    counting = CountingPool(pool)
    reads = counting.reads
    shared = SharedCatchUp(cast(asyncpg.Pool, counting))

    # When every view asks at the head, and one asks for an earlier position
    asked = {name: shared.state_at(view, head) for name, view in VIEWS.items()}
    earlier = shared.state_at(VIEWS["holdings"], 4)
    states = dict(zip(asked, await asyncio.gather(*asked.values()), strict=True))
    early = await earlier

    # Then the log was read in one pass per position asked (each from the start), not once
    # per view
    assert sorted({through for _, through in reads}) == [4, head]
    assert reads.count((0, head)) == 1
    assert reads.count((0, 4)) == 1
    # and each state is the one its view folds alone, at its own position
    for name, state in states.items():
        alone, _ = fold(VIEWS[name], log)
        assert state.position == head
        assert _rows(name, state) == render_all(VIEWS[name], alone), name
    alone_early, _ = fold(VIEWS["holdings"], [e for e in log if e.position <= 4])
    assert early.position == 4
    assert _rows("holdings", early) == render_all(VIEWS["holdings"], alone_early)


async def test_a_failed_pass_reaches_every_runner_waiting_for_it(database_url: str) -> None:
    broken = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert broken is not None
    await broken.close()
    shared = SharedCatchUp(broken)
    async with asyncio.timeout(10):  # an error that reached nobody would leave them waiting
        results = await asyncio.gather(
            shared.state_at(VIEWS["holdings"], 3),
            shared.state_at(VIEWS["timeline"], 3),
            return_exceptions=True,
        )
    assert all(isinstance(result, asyncpg.InterfaceError) for result in results)


async def test_runners_started_on_views_behind_the_log_carry_on_from_the_shared_fold(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given views rebuilt up to the demo, and more reports filed since
    reports = ReportService(store)
    await load_demo(reports)
    await rebuild_views(pool, list(VIEWS.values()))
    filings = [demo.filing for demo in demo_reports()]
    await reports.file_many([msgspec.structs.replace(f, report_id=None) for f in filings])
    head = await store.position()

    # When the runners start together and catch up
    stop = asyncio.Event()
    running = asyncio.create_task(run_views(list(VIEWS.values()), pool, database_url, stop))
    try:
        async with asyncio.timeout(30):
            while await pool.fetchval(LOWEST_SERVING) != head:  # noqa: ASYNC110 (a poll)
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running

    # Then every view's rows are the fold of the whole log: nothing missed, nothing twice
    log = await store.read_log(limit=1_000)
    for name, view in VIEWS.items():
        alone, _ = fold(view, log)
        stored = row_store(name)
        expected = {key: stored.document(row) for key, row in render_all(view, alone).items()}
        assert {key: doc.encode() for key, doc in await read_rows(pool, name)} == expected, name
