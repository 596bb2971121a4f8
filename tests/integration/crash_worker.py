"""A projection worker in a process of its own, for the crash test to SIGKILL.

    python -m tests.integration.crash_worker DATABASE_URL BATCH_SIZE [DIE_AT_COMMIT]

Runs every registered view's runner with small batches, so that a kill lands part-way
through the log, until it is killed. With DIE_AT_COMMIT = n it kills itself (SIGKILL) at the
n-th batch's COMMIT: the batch's rows and its new position are written, the COMMIT is never
sent. Before dying it prints the view and the positions it was moving between:
"dying holdings 120 130".
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any, ClassVar

import asyncpg

from projections.persistence import MOVE_POSITION
from projections.registry import VIEWS
from projections.runner import ProjectionRunner


class DiesAtCommit(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection that SIGKILLs its process at the chosen batch's COMMIT."""

    commits_left: ClassVar[int | None] = None

    async def execute(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109 (asyncpg's)
    ) -> str:
        if query == "COMMIT;" and DiesAtCommit.commits_left is not None:
            DiesAtCommit.commits_left -= 1
            if DiesAtCommit.commits_left == 0:
                view, _, from_position, to_position, *_ = self._moving
                print(f"dying {view} {from_position} {to_position}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        result: str = await super().execute(query, *args, timeout=timeout)
        return result

    async def fetch(
        self,
        query: str,
        *args: Any,
        timeout: float | None = None,  # noqa: ASYNC109 (asyncpg's)
        record_class: Any = None,
    ) -> list[Any]:
        if query == MOVE_POSITION:
            # (views, generations, from positions, to positions, deleted anything): a
            # runner on its own moves its one view
            self._moving = [column[0] for column in args]
        result: list[Any] = await super().fetch(
            query, *args, timeout=timeout, record_class=record_class
        )
        return result


async def work(database_url: str, batch_size: int) -> None:
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=len(VIEWS), connection_class=DiesAtCommit
    )
    runners = [
        ProjectionRunner(view, pool, database_url, batch_size=batch_size, poll_interval=0.05)
        for view in VIEWS.values()
    ]
    never = asyncio.Event()  # the process ends by SIGKILL, not by stopping
    await asyncio.gather(*(runner.run(never) for runner in runners))


def main(arguments: list[str]) -> None:
    database_url, batch_size, *die_at_commit = arguments
    if die_at_commit:
        DiesAtCommit.commits_left = int(die_at_commit[0])
    asyncio.run(work(database_url, int(batch_size)))


if __name__ == "__main__":
    main(sys.argv[1:])
