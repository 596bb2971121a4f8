"""The runners of one process catching up together: the log read and decoded once for all.

A runner starts by folding the log up to its view's tracking position in memory (it writes
nothing until it is there). Each runner doing that alone read and decoded the whole log once
per view: nine times over for a restart of `timeline serve` or `timeline project`, minutes
for a log of a million events. Here the runners that start together hand their requests to
one `SharedCatchUp`, which waits until no new request has come for a moment, then folds the
log once for every view asking for the same position (`Folds`, as a rebuild does: each event
decoded once, each report evolved once and shared; each view's state is the one it would
have folded alone). Views at different positions get a pass each, in order.

The fold keeps every report of the log alive in containers the cyclic garbage collector
would scan again and again, in every collection, for as long as the process runs; none of
them is in a cycle. So the collector is paused while folding (`projections.log_fold`), and
what the fold built is then moved out of its reach (`gc.freeze`): a runner's batch is then
not held up by a collection that walks millions of objects.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence

import asyncpg

from projections.core import Folds, View, ViewState
from projections.log_fold import PAGE_SIZE, collector_paused, fold_log

# Requests arriving within this long of the previous one share a pass.
GATHER_SECONDS = 0.05
# At most this long after the first request, the pass starts anyway.
GATHER_AT_MOST_SECONDS = 1.0


async def fold_through(
    pool: asyncpg.Pool, views: Sequence[View], position: int, *, page_size: int = PAGE_SIZE
) -> list[ViewState]:
    """Each view's state with the log folded up to `position` (inclusive), in one pass."""
    folds = Folds(views)
    with collector_paused:
        await fold_log(pool, folds, through=position, page_size=page_size)
    gc.freeze()
    for state in folds.states:
        state.position = position
    return list(folds.states)


class SharedCatchUp:
    def __init__(self, pool: asyncpg.Pool, *, gather_seconds: float = GATHER_SECONDS) -> None:
        self._pool = pool
        self._gather_seconds = gather_seconds
        self._asked: list[tuple[View, int, asyncio.Future[ViewState]]] = []
        self._arrived = asyncio.Event()
        self._serving: asyncio.Task[None] | None = None

    async def state_at(self, view: View, position: int) -> ViewState:
        """The view's state with the log folded up to `position`, writing nothing."""
        answer: asyncio.Future[ViewState] = asyncio.get_running_loop().create_future()
        self._asked.append((view, position, answer))
        self._arrived.set()
        if self._serving is None or self._serving.done():
            self._serving = asyncio.ensure_future(self._serve())
        return await answer

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER_AT_MOST_SECONDS
        while self._asked:
            # Until the requests stop coming (the runners starting together have asked).
            while loop.time() < deadline:
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), self._gather_seconds)
                except TimeoutError:
                    break
            asked, self._asked = self._asked, []
            for position in sorted({position for _, position, _ in asked}):
                group = [(v, a) for v, p, a in asked if p == position and not a.done()]
                if group:
                    await self._answer(group, position)
            deadline = loop.time() + GATHER_AT_MOST_SECONDS

    async def _answer(
        self, group: list[tuple[View, asyncio.Future[ViewState]]], position: int
    ) -> None:
        try:
            states = await fold_through(self._pool, [view for view, _ in group], position)
        except asyncio.CancelledError:
            for _, answer in group:
                answer.cancel()
            raise
        except Exception as error:  # each runner gets it, and its supervisor restarts it
            for _, answer in group:
                if not answer.done():
                    answer.set_exception(error)
            return
        for (_, answer), state in zip(group, states, strict=True):
            if not answer.done():
                answer.set_result(state)
