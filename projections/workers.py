"""Running every view's runner side by side, restarting one that fails, with back-off."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import asyncpg

from projections.batch_group import BatchGroup
from projections.catch_up import FAR_BEHIND, FarBehind, SharedCatchUp
from projections.core import View
from projections.runner import BATCH_SIZE, ProjectionRunner
from store.backoff import Backoff

log = logging.getLogger("timeline.projections")

# The first wait before a restart; each failure in a row doubles it (store/backoff.py).
RESTART_DELAY_SECONDS = 0.5


def restarts(view: View) -> Backoff:
    """How a view's runner is restarted: with back-off, from RESTART_DELAY_SECONDS."""
    return Backoff(f"projection {view.name}", log, first=RESTART_DELAY_SECONDS)


async def _supervise(runner: ProjectionRunner, stop: asyncio.Event, backoff: Backoff) -> None:
    while not stop.is_set():
        try:
            await runner.run(stop)
        except Exception as error:  # the database, the driver, a rebuild's switch (TrackingMoved)
            await backoff.wait(error, stop)


async def run_views(
    views: Sequence[View],
    pool: asyncpg.Pool,
    database_url: str,
    stop: asyncio.Event,
    *,
    backoff: Callable[[View], Backoff] = restarts,
    far_behind: FarBehind | None = FAR_BEHIND,
    batch_size: int = BATCH_SIZE,
) -> list[ProjectionRunner]:
    """Run a runner per view until `stop` is set; those that start together fold the log
    once between them, and those `far_behind` the head are rebuilt up to it, in one pass
    (None: never; projections/catch_up.py). A rebuild takes up to three of the pool's
    connections besides the runners' own. `batch_size`: the most events a runner's batch takes."""
    catch_up = SharedCatchUp(pool, far_behind=far_behind, database_url=database_url)
    group = BatchGroup(pool)
    supervised = []
    for view in views:
        restarted = backoff(view)
        runner = ProjectionRunner(
            view,
            pool,
            database_url,
            catch_up=catch_up,
            on_caught_up=restarted.succeeded,
            batch_size=batch_size,
            group=group,
        )
        supervised.append((runner, restarted))
    await asyncio.gather(*(_supervise(runner, stop, again) for runner, again in supervised))
    return [runner for runner, _ in supervised]
