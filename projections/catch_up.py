"""The runners of one process catching up together: the log read and decoded once for all.

A runner starts by folding the log up to its view's tracking position in memory (it writes
nothing until it is there). Each runner doing that alone read and decoded the whole log once
per view: nine times over for a restart of `timeline serve` or `timeline project`, minutes
for a log of a million events. Here the runners that start together hand their requests to
one `SharedCatchUp`, which waits until no new request has come for a moment, then folds the
log once for every view asking for the same position (`Folds`, as a rebuild does: each event
decoded once, each report evolved once and shared; each view's state is the one it would
have folded alone). Views at different positions get a pass each, in order.

A view far behind the head of the log (never built, reset, or stopped for long: `FarBehind`)
is not followed event by event from there: batch by batch, a row fed by many events is
rendered and upserted again and again, several times a rebuild's cost per event, where a
rebuild renders each row once and loads it by COPY. Such views are brought to the head by a
rebuild instead (`rebuild_views_kept`: a new generation built beside the serving one, which
keeps answering reads, then switched to), all the views asking together in ONE pass over the
log, as `timeline rebuild --all` does; their runners then follow from the state the rebuild
folded, without folding the log again. Views that keep no state (every view of the registry)
are rebuilt in processes of their own instead, where the log is big enough for that to pay
(projections/rebuild_processes.py), so this process never holds the whole log's fold. Each
asking runner holds its view's advisory lock throughout, so no other runner works on the
view meanwhile (another process's waits on standby), and no view is built twice. The others
are folded as above, first: they are close to the head and start following sooner.

The fold keeps every report of the log alive in containers the cyclic garbage collector
would scan again and again, in every collection, for as long as the process runs; none of
them is in a cycle. So the collector is paused while folding (`store.collector`), and
what the fold built is then moved out of its reach (`gc.freeze`): a runner's batch is then
not held up by a collection that walks millions of objects.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from projections.core import View, ViewState
from projections.folds import Folds
from projections.log_fold import PAGE_SIZE, fold_log
from projections.rebuild import REBUILD_CONNECTIONS, RebuildInProgress, rebuild_views_kept
from projections.rebuild_processes import rebuild_in_processes
from projections.row_stores import Generation
from store.collector import collector_paused
from store.event_store import HEAD

log = logging.getLogger("timeline.projections")

# Requests arriving within this long of the previous one share a pass.
GATHER_SECONDS = 0.05
# At most this long after the first request, the pass starts anyway.
GATHER_AT_MOST_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class FarBehind:
    """When a view catches up through a rebuild rather than batch by batch: `events` or
    more behind the head of the log, and `share_of_log` of it or more.

    A runner `behind` events back folds the rest of the log in memory, then follows:
    fold x (log - behind) + follow x behind; a rebuild costs rebuild x log. Per event, on
    bench/scale.py's generated war of 10^5 events (2 cores): fold 0.015 ms, rebuild 0.028 ms,
    follow 0.21 ms (0.77 ms at 10^6, issue #11: rows grow). The rebuild wins from
    (rebuild - fold) / (follow - fold) of the log behind: about a fifteenth at 10^5, less at
    10^6; a twentieth is the default. Below `events` (about break-even at 10^5), following
    takes a couple of seconds, and a small log's restart does not start a new generation."""

    events: int = 10_000
    share_of_log: float = 0.05

    def __call__(self, position: int, head: int) -> bool:
        behind = head - position
        return behind >= self.events and behind >= self.share_of_log * head


FAR_BEHIND = FarBehind()


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


@dataclass(frozen=True, slots=True, eq=False)
class _Asked:
    view: View
    serving: Generation | None  # None: a fold up to `position`, never a rebuild
    position: int
    answer: asyncio.Future[tuple[Generation | None, ViewState]]
    stateless: bool = False  # wants no fold: its generation only (rebuilt if far behind)


class SharedCatchUp:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        gather_seconds: float = GATHER_SECONDS,
        far_behind: FarBehind | None = None,
        database_url: str | None = None,
    ) -> None:
        """`far_behind` None: every view is folded up to its position, none rebuilt.
        `database_url`: where the processes of a rebuild of views that keep no state
        connect (projections/rebuild_processes.py); None: such a rebuild runs here."""
        self._pool = pool
        self._database_url = database_url
        self._gather_seconds = gather_seconds
        self._far_behind = far_behind
        self._asked: list[_Asked] = []
        self._arrived = asyncio.Event()
        self._serving: asyncio.Task[None] | None = None

    async def state_at(self, view: View, position: int) -> ViewState:
        """The view's state with the log folded up to `position`, writing nothing."""
        _, state = await self._ask(view, None, position)
        return state

    async def caught_up(self, view: View, serving: Generation) -> tuple[Generation, ViewState]:
        """The view's serving generation and its state there: `serving` with the log folded
        up to its position, or, if that is far behind the head, a new generation rebuilt up
        to the head (the caller holds the view's runner lock)."""
        generation, state = await self._ask(view, serving, serving.position)
        assert generation is not None
        return generation, state

    async def caught_up_by_versions(self, view: View, serving: Generation) -> Generation:
        """The generation to follow for a view that keeps its reports' versions and no state
        (projections/versioned_batches.py): `serving` as it is, or, if that is far behind
        the head, a new generation rebuilt up to the head (the rebuild's state dropped)."""
        generation, _ = await self._ask(view, serving, serving.position, stateless=True)
        assert generation is not None
        return generation

    async def _ask(
        self, view: View, serving: Generation | None, position: int, *, stateless: bool = False
    ) -> tuple[Generation | None, ViewState]:
        answer: asyncio.Future[tuple[Generation | None, ViewState]]
        answer = asyncio.get_running_loop().create_future()
        self._asked.append(_Asked(view, serving, position, answer, stateless))
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
            try:
                head, rebuilt = await self._far_behind_of(asked)
            except Exception as error:  # each runner gets it, and its supervisor restarts it
                _fail(asked, error)
                continue
            for one in asked:
                if one.stateless and one not in rebuilt and not one.answer.done():
                    one.answer.set_result((one.serving, ViewState(position=one.position)))
            folded = [one for one in asked if one not in rebuilt and not one.stateless]
            for position in sorted({one.position for one in folded}):
                group = [one for one in folded if one.position == position]
                await self._fold(group, position)
            if rebuilt:
                await self._rebuild(rebuilt, head)
            deadline = loop.time() + GATHER_AT_MOST_SECONDS

    async def _far_behind_of(self, asked: list[_Asked]) -> tuple[int, list[_Asked]]:
        """The head of the log, and the requests for views far behind it."""
        far_behind = self._far_behind
        if far_behind is None or all(one.serving is None for one in asked):
            return 0, []
        if self._pool.get_max_size() < REBUILD_CONNECTIONS:
            return 0, []  # too small a pool to rebuild: follow
        head = int(await self._pool.fetchval(HEAD))
        return head, [
            one for one in asked if one.serving is not None and far_behind(one.position, head)
        ]

    async def _fold(self, group: list[_Asked], position: int) -> None:
        group = [one for one in group if not one.answer.done()]
        if not group:
            return
        try:
            states = await fold_through(self._pool, [one.view for one in group], position)
        except asyncio.CancelledError:
            for one in group:
                one.answer.cancel()
            raise
        except Exception as error:  # each runner gets it, and its supervisor restarts it
            _fail(group, error)
            return
        for one, state in zip(group, states, strict=True):
            if not one.answer.done():
                one.answer.set_result((one.serving, state))

    async def _rebuild(self, group: list[_Asked], head: int) -> None:
        """The group's views rebuilt up to the head in one pass, their states kept."""
        log.info(
            "bulk catch-up of %d views (%s) to the head at position %d, up to %d events "
            "behind: started",
            len(group),
            ", ".join(one.view.name for one in group),
            head,
            max(head - one.position for one in group),
        )
        clock = asyncio.get_running_loop().time
        started = clock()
        while group:
            try:
                kept = await self._rebuilt(group)
            except RebuildInProgress as error:
                # Someone's `timeline rebuild` of that view: its runner waits for it (its
                # supervisor starts it again later) rather than doing the same work beside it.
                log.info("bulk catch-up: %s left to the rebuild under way", error.view)
                _fail([one for one in group if one.view.name == error.view], error)
                group = [one for one in group if one.view.name != error.view]
                continue
            except asyncio.CancelledError:
                for one in group:
                    one.answer.cancel()
                raise
            except Exception as error:  # each runner gets it, and its supervisor restarts it
                _fail(group, error)
                return
            for one, (generation, state) in zip(group, kept, strict=True):
                if not one.answer.done():
                    one.answer.set_result((generation, state))
            log.info(
                "bulk catch-up of %d views (%s): done, %d events folded in %.1f s",
                len(group),
                ", ".join(one.view.name for one in group),
                max(generation.position for generation, _ in kept),
                clock() - started,
            )
            return

    async def _rebuilt(self, group: list[_Asked]) -> list[tuple[Generation, ViewState]]:
        """The group's views rebuilt up to the head, with their states if any keeps one;
        views that keep none are rebuilt in processes of their own, where the log is big
        enough for that to pay (projections/rebuild_processes.py), and their runner's
        process then holds nothing of what they folded."""
        views = [one.view for one in group]
        if self._database_url is None or not all(one.stateless for one in group):
            return await rebuild_views_kept(self._pool, views)
        rebuilt = await rebuild_in_processes(self._pool, self._database_url, views)
        return [(generation, ViewState(position=generation.position)) for generation in rebuilt]


def _fail(group: list[_Asked], error: BaseException) -> None:
    for one in group:
        if not one.answer.done():
            one.answer.set_exception(error)
