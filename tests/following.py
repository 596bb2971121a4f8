"""Runners following the log in small batches until every view has reached its head, as a
`timeline project` process keeps them (for tests that need the runners' own writes)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from projections.batch_group import BatchGroup
from projections.core import View
from projections.runner import ProjectionRunner
from store.event_store import EventStore


async def follow_to_head(
    views: Sequence[View],
    pool: asyncpg.Pool,
    database_url: str,
    *,
    group: BatchGroup | None = None,
    batch_size: int = 97,
    seconds: float = 60,
) -> None:
    """A runner per view, in batches of `batch_size` (in `group`, if given), until each has
    reached the head of the log as it stood when they started; then they stop."""
    runners = [
        ProjectionRunner(view, pool, database_url, batch_size=batch_size, group=group)
        for view in views
    ]
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(runner.run(stop)) for runner in runners]
    try:
        head = await EventStore(pool).position()
        deadline = asyncio.get_running_loop().time() + seconds
        while any(r.generation is None or r.generation.position < head for r in runners):
            assert asyncio.get_running_loop().time() < deadline, "the runners did not catch up"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
