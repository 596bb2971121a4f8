"""A projection worker holds no report of the log between batches, however long the log.

Its runners load what a batch touches (projections/versioned_batches.py) instead of keeping
every report their views follow: counted here as the engine's entries (`Tracked`, one per
report a fold holds) alive in the process once every view has caught up with the log.
"""

from __future__ import annotations

import asyncio
import gc

import asyncpg

from bench._generated_war import load_log
from projections.registry import VIEWS
from projections.tracked import Tracked
from projections.workers import run_views
from store.event_store import EventStore

BATCH = 50


def _reports_held() -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, Tracked))


async def test_a_worker_that_has_caught_up_holds_no_report_of_the_log(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given a generated war of 6,000 events, about 4,000 reports, every view following them
    await load_log(database_url, events=6_000)
    head = await store.position()
    held_before = _reports_held()

    # When a worker runs every view's runner until each has reached the head of the log,
    # in batches of 50 events
    stop = asyncio.Event()
    worker = asyncio.ensure_future(
        run_views(list(VIEWS.values()), pool, database_url, stop, far_behind=None, batch_size=BATCH)
    )
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while not await _all_at(pool, head):
            assert asyncio.get_running_loop().time() < deadline, "the views did not catch up"
            await asyncio.sleep(0.05)

        # Then it holds at most a batch's reports per view (a runner may be just returning
        # from its last one), not the log's thousands of reports for each view
        reports = await pool.fetchval(
            "SELECT count(*) FROM timeline_events WHERE originator_version = 1"
        )
        assert reports > 3_000
        assert _reports_held() - held_before <= len(VIEWS) * BATCH < reports
    finally:
        stop.set()
        await worker


async def _all_at(pool: asyncpg.Pool, head: int) -> bool:
    positions = await pool.fetch(
        "SELECT view, position FROM projection_generations WHERE state = 'serving'"
    )
    return len(positions) == len(VIEWS) and all(row["position"] >= head for row in positions)
