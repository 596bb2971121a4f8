"""Running every view's runner side by side, restarting one that fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg

from projections.catch_up import SharedCatchUp
from projections.core import View
from projections.runner import ProjectionRunner

log = logging.getLogger("timeline.projections")

RESTART_DELAY_SECONDS = 2.0


async def _supervise(runner: ProjectionRunner, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await runner.run(stop)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, RuntimeError) as error:
            log.warning("projection %s stopped (%s); restarting", runner.view.name, error)
            try:
                await asyncio.wait_for(stop.wait(), timeout=RESTART_DELAY_SECONDS)
            except TimeoutError:
                continue


async def run_views(
    views: Sequence[View], pool: asyncpg.Pool, database_url: str, stop: asyncio.Event
) -> list[ProjectionRunner]:
    """Run a runner per view until `stop` is set; those that start together fold the log
    once between them."""
    catch_up = SharedCatchUp(pool)
    runners = [ProjectionRunner(view, pool, database_url, catch_up=catch_up) for view in views]
    await asyncio.gather(*(_supervise(runner, stop) for runner in runners))
    return runners
