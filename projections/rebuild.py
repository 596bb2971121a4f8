"""Rebuilding a view under a new generation while the old one keeps serving, then switching.

A rebuild of a view (or of several at once, each event read and decoded once for all):
1. takes the view's rebuild lock (one rebuild per view; another one fails fast with
   `RebuildInProgress`), makes sure a serving generation n exists, and starts generation
   n+1 in state 'building' (a building generation left by an interrupted rebuild is
   retired first);
2. folds the whole log from position zero in memory: big pages, each event decoded once;
3. writes every rendered row of n+1 with streamed COPYs (two in parallel: the database's
   JSON parsing and index upkeep is the slowest part of a rebuild), then sets n+1's tracking
   position. Unlike a runner's batch, rows and position are not one transaction: nobody
   reads or writes a building generation, and only this rebuild can switch to it, after
   both are written; if it dies half-way, the next rebuild retires what it left;
4. catches n+1 up with the events recorded meanwhile, in batches (`write_batch`);
5. switches, in ONE transaction: it locks the view's serving and building rows of
   `projection_generations`, applies the last events that arrived, records what the view
   skipped (projections/quarantine.py: entries it no longer skips are marked resolved),
   marks n 'retired' and n+1 'serving', and commits; then it deletes the retired
   generation's rows.

Reads (`read_rows`) join on the serving generation in one statement, so they see all of n
until the switch commits and all of n+1 after it, never a mix.

Coexisting with a live runner, in this process or another: the runner holds the view's
advisory lock for as long as it runs, not per batch, so a rebuild that waited for that lock
would wait for the runner to stop. What a runner does hold per batch is the row of its
generation: `write_batch` moves the position with an UPDATE of that row, which succeeds only
from the position the runner started from and only while the generation is not retired. The
switch locks the same row (SELECT ... FOR UPDATE), so it waits for a batch in flight to
commit and a batch that comes later waits for the switch. Then that batch finds its
generation retired and raises `TrackingMoved` before writing anything; the runner stops, its
supervisor (projections/workers.py) restarts it, and it follows the serving generation n+1
from n+1's tracking position. Every event up to that position is in n+1's rows (the switch
folded the log up to its head while holding the lock) and every later one is the restarted
runner's: nothing is applied twice or lost. With no runner at all, the switch still leaves
the view complete up to the head of the log.

Speed: the log is folded as `projections.log_fold` does it (big pages read ahead, each event
decoded once for every view), and the cyclic garbage collector is paused while a rebuild folds
and writes (`collector_paused`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime

import asyncpg

from domain.errors import Conflict
from domain.recorded import LogEntry
from projections import quarantine
from projections.core import View, ViewState, apply, blamed, render
from projections.folds import Folds
from projections.generations import (
    delete_retired_rows,
    lock_live,
    serving_generation,
    start_building,
    switch_serving,
)
from projections.history import one_report_per_key
from projections.history_recording import recorder, taken
from projections.history_writes import copy_history
from projections.log_fold import PAGE_SIZE, fold_log
from projections.persistence import TrackingMoved, write_batch, write_rows
from projections.row_stores import REFUSED, Generation, RowStore, copy_rows, row_store
from store.collector import collector_paused
from store.event_store import READ_LOG, entry_from_row

REBUILD_LOCK_NAMESPACE = "timeline-rebuild:"
# Rows rendered between two turns of the event loop, so the COPY streams keep sending.
RENDER_SLICE = 50
QUEUED_SLICES = 1_000  # per stream: up to 50,000 rows waiting
# Parallel COPY streams: the database's JSON parsing and index upkeep is the slowest part
# of a rebuild, and one stream keeps only one server process busy.
COPY_STREAMS = 2
# The fewest connections a pool needs for a rebuild: the locks' and one for the rest.
REBUILD_CONNECTIONS = 2

# Rows of COPY's text format (`RowStore.line`), and the table they go to; or a COPY of a
# view's history, run on a stream's connection (`copy_history`).
_Lines = tuple[RowStore, bytes]
_Copy = Callable[[asyncpg.Connection], Awaitable[None]]
_Job = _Lines | _Copy


class RebuildInProgress(Conflict):
    def __init__(self, view: str) -> None:
        super().__init__(f"a rebuild of {view} is already running")
        self.view = view


async def rebuild(pool: asyncpg.Pool, view: View, *, page_size: int = PAGE_SIZE) -> Generation:
    """Rebuild `view` from the whole log under a new generation and switch to it; returns
    the generation now serving."""
    (generation,) = await rebuild_views(pool, [view], page_size=page_size)
    return generation


async def rebuild_views(
    pool: asyncpg.Pool,
    views: Sequence[View],
    *,
    page_size: int = PAGE_SIZE,
    locks_held: bool = False,
) -> list[Generation]:
    """Rebuild several views in one pass over the log (each event read and decoded once),
    then switch each of them; returns their serving generations, in order.

    Uses up to 1 + COPY_STREAMS of the pool's connections at once; needs at least two.
    `locks_held`: the caller holds the views' rebuild locks (`rebuild_locks`), as
    projections/rebuild_processes.py does for the processes it starts."""
    serving, _ = await _rebuild(pool, views, page_size, keep=False, locks_held=locks_held)
    return serving


async def rebuild_views_kept(
    pool: asyncpg.Pool, views: Sequence[View], *, page_size: int = PAGE_SIZE
) -> list[tuple[Generation, ViewState]]:
    """`rebuild_views`, keeping each view's folded state at its new generation's position:
    what a runner needs to follow the view from there without folding the log again
    (projections/catch_up.py). What was folded is moved out of the cyclic collector's reach
    (`gc.freeze`), as a runner's catch-up does."""
    serving, states = await _rebuild(pool, views, page_size, keep=True)
    return list(zip(serving, states, strict=True))


@contextlib.asynccontextmanager
async def rebuild_locks(pool: asyncpg.Pool, names: Sequence[str]) -> AsyncIterator[None]:
    """Each named view's rebuild lock, held until the block ends; RebuildInProgress at once
    if another rebuild holds one.

    They are session locks on a connection of their own. The connection sits idle outside
    any transaction meanwhile, so a server's idle_in_transaction_session_timeout cannot cut
    it; if this process dies, PostgreSQL releases them with the connection."""
    if len(set(names)) != len(names):
        raise ValueError(f"each view once, please: {list(names)}")
    async with pool.acquire() as lock_connection:
        try:
            for name in sorted(names):
                if not await lock_connection.fetchval(
                    "SELECT pg_try_advisory_lock(hashtext($1))", REBUILD_LOCK_NAMESPACE + name
                ):
                    raise RebuildInProgress(name)
            yield
        finally:
            await _release_locks(lock_connection)


async def _rebuild(
    pool: asyncpg.Pool,
    views: Sequence[View],
    page_size: int,
    *,
    keep: bool,
    locks_held: bool = False,
) -> tuple[list[Generation], list[ViewState]]:
    """The serving generations, and the folded states if `keep` (else none)."""
    names = [view.name for view in views]
    if not names:
        return [], []
    if len(set(names)) != len(names):
        raise ValueError(f"each view once, please: {names}")
    if pool.get_max_size() < REBUILD_CONNECTIONS:
        raise ValueError("a rebuild needs a pool of at least two connections")
    async with contextlib.nullcontext() if locks_held else rebuild_locks(pool, names):
        with collector_paused:
            serving, states = await _build_and_switch(pool, views, page_size)
            if keep:
                gc.freeze()
            else:
                states = []  # everything folded is gone before the collector comes back
        for name in names:
            await delete_retired_rows(pool, name)
    return serving, states


async def _release_locks(connection: asyncpg.Connection) -> None:
    """Release the rebuild's session locks before the connection goes back to the pool
    (pooled connections carry no session state); one that cannot be told is closed."""
    try:
        await asyncio.shield(connection.execute("SELECT pg_advisory_unlock_all()"))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.CancelledError):
        connection.terminate()
        raise


async def _build_and_switch(
    pool: asyncpg.Pool, views: Sequence[View], page_size: int
) -> tuple[list[Generation], list[ViewState]]:
    building = await _start_building(pool, [view.name for view in views])
    folds = Folds(views)
    for view, state in zip(views, folds.states, strict=True):
        state.history = recorder(view)
    await fold_log(pool, folds, page_size=page_size)
    building = await _load(
        pool, folds, building, streams=min(COPY_STREAMS, pool.get_max_size() - 1)
    )
    await _analyze(pool)
    serving = []
    for view, state, generation in zip(views, folds.states, building, strict=True):
        caught_up = await _catch_up(pool, view, state, generation, page_size)
        serving.append(await _switch(pool, view, state, caught_up, page_size))
    return serving, list(folds.states)


async def _start_building(pool: asyncpg.Pool, names: Sequence[str]) -> list[Generation]:
    async with pool.acquire() as connection:
        building = []
        for name in names:
            await serving_generation(connection, name)  # a view never run gets its first
            building.append(await start_building(connection, name))
        return building


# --- 2. the fold (log_fold.fold_log); 3. the bulk write ------------------------------------


async def _load(
    pool: asyncpg.Pool, folds: Folds, building: list[Generation], *, streams: int
) -> list[Generation]:
    """Every row and version of every building generation, then their tracking positions.

    Rows are rendered by one task and sent by `streams` COPY streams, each on a connection
    and in a transaction of its own, while the next ones are rendered; the views' histories
    (versions, replaced rows) go first, a view's to one stream, so the database loads them
    while the rows are rendered. The positions are set once every stream has committed.
    Until the switch nobody reads or writes a building generation, so if this process dies
    half-way, the rows it left are never served: the next rebuild retires the generation
    and deletes them."""
    queues: list[asyncio.Queue[_Job | None]] = [
        asyncio.Queue(maxsize=QUEUED_SLICES) for _ in range(streams)
    ]
    async with contextlib.AsyncExitStack() as connections:
        # Connected before anything is rendered: sorting a view's million versions holds the
        # event loop for seconds, long enough for a connection's handshake to time out.
        ready = [await connections.enter_async_context(pool.acquire()) for _ in queues]
        tasks = [asyncio.ensure_future(_render_rows(folds, building, queues))]
        tasks += [
            asyncio.ensure_future(_copy_stream(connection, queue))
            for connection, queue in zip(ready, queues, strict=True)
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
    async with pool.acquire() as connection, connection.transaction():
        return [
            await write_rows(connection, generation, state.position, {})
            for generation, state in zip(building, folds.states, strict=True)
        ]


def _history_copies(folds: Folds, building: list[Generation]) -> list[_Copy]:
    """A COPY of each view's history, biggest first, to run on a stream's connection."""
    copies = []
    for state, generation in zip(folds.states, building, strict=True):
        history = taken(state)
        if history:
            copies.append(
                (
                    len(history.versions) + len(history.replaced),
                    functools.partial(
                        copy_history,
                        view=generation.view,
                        generation=generation.generation,
                        batch=history,
                    ),
                )
            )
    return [copy for _, copy in sorted(copies, key=lambda sized: -sized[0])]


async def _render_rows(
    folds: Folds, building: list[Generation], queues: list[asyncio.Queue[_Job | None]]
) -> None:
    """Every view's history, then its rows, a slice at a time to each stream in turn; each
    stream gets its rows in key order (the primary key's)."""
    turn = 0
    for copy in _history_copies(folds, building):
        await queues[turn % len(queues)].put(copy)
        turn += 1
    # Views with many small rows first: they keep the database busy from the start, and the
    # backlog they leave it covers the few big rows the last views take long to render.
    views = sorted(
        zip(folds.views, folds.states, building, strict=True),
        key=lambda triple: -len(triple[1].by_key),
    )
    for view, state, generation in views:
        store = row_store(view.name)
        keys = _in_writing_order(view, state)
        for start in range(0, len(keys), RENDER_SLICE):
            lines = []
            for key in keys[start : start + RENDER_SLICE]:
                row = render(view, state, key)
                if row is None:
                    continue
                try:
                    lines.append(store.line(generation, state.position, key, row))
                except REFUSED as error:  # as a runner's batch does: the row is not shown
                    state.quarantined.append(blamed(view, state, key, error))
            await queues[turn % len(queues)].put((store, b"".join(lines)))
            turn += 1
            await asyncio.sleep(0)
    for queue in queues:
        await queue.put(None)


_LAST = datetime.max.replace(tzinfo=UTC)
_NOWHERE = (_LAST, _LAST, 0)  # a key no report feeds (no row): anywhere will do


def _in_writing_order(view: View, state: ViewState) -> list[str]:
    """A view's keys in the order its rows are written: the fold's order for rows drawn
    from one report each (a timeline page walks that order: its rows then lie in a few
    pages of the table, where in key order, a random id, each was a page of its own), else
    key order (the primary key's)."""
    if not one_report_per_key(view):
        return sorted(state.by_key)
    reports = state.reports

    def placed(key: str) -> tuple[tuple[datetime, datetime, int], str]:
        ids = state.by_key[key]
        tracked = reports.get(next(iter(ids))) if ids else None
        return (_NOWHERE if tracked is None else tracked.order), key

    return sorted(state.by_key, key=placed)


async def _copy_stream(connection: asyncpg.Connection, jobs: asyncio.Queue[_Job | None]) -> None:
    """Each history COPY as it comes, and one COPY per run of lines for the same table, in
    one transaction."""
    async with connection.transaction():
        stream = _Stream(jobs, await jobs.get())
        while stream.next is not None:
            if isinstance(stream.next, tuple):
                await copy_rows(connection, stream.next[0], stream.lines())
            else:
                await stream.next(connection)
                stream.next = await jobs.get()


class _Stream:
    def __init__(self, jobs: asyncio.Queue[_Job | None], first: _Job | None) -> None:
        self._jobs = jobs
        self.next = first

    async def lines(self) -> AsyncIterator[bytes]:
        """The lines up to the next change of table or job (then `next` holds that one)."""
        assert isinstance(self.next, tuple)
        store = self.next[0]
        while isinstance(self.next, tuple) and self.next[0] is store:
            yield self.next[1]
            self.next = await self._jobs.get()


async def _analyze(pool: asyncpg.Pool) -> None:
    """Statistics of the tables just loaded, before their rows serve: the planner's guesses
    about a table it never sampled cost a timeline page seconds (migration 0011)."""
    # Missing on a schema from before 0011 (the tests of older migrations run today's code).
    with contextlib.suppress(asyncpg.UndefinedFunctionError):
        await pool.execute("SELECT timeline_analyze_views()")


# --- 4. and 5. catching up, switching -------------------------------------------------------


def _fold_page(view: View, state: ViewState, page: list[LogEntry]) -> dict[str, None]:
    touched: dict[str, None] = {}
    for recorded in page:
        touched.update(dict.fromkeys(apply(view, state, recorded)))
    return touched


async def _catch_up(
    pool: asyncpg.Pool, view: View, state: ViewState, generation: Generation, page_size: int
) -> Generation:
    """The events recorded while the generation was built, batch by batch, as a runner
    applies them."""
    while rows := await pool.fetch(READ_LOG, state.position, page_size):
        touched = _fold_page(view, state, [entry_from_row(row) for row in rows])
        changed = {key: render(view, state, key) for key in touched}
        generation = await write_batch(
            pool, generation, state.position, changed, history=taken(state)
        )
    return generation


async def _switch(
    pool: asyncpg.Pool, view: View, state: ViewState, building: Generation, page_size: int
) -> Generation:
    """Catch up with the head of the log and serve `building` instead, in one transaction
    that holds the view's generation rows, so no runner's batch lands in between."""
    async with pool.acquire() as connection, connection.transaction():
        live = await lock_live(connection, view.name)
        if live.get("building") != building:
            raise TrackingMoved(f"{view.name} generation {building.generation} was taken over")
        touched: dict[str, None] = {}
        while rows := await connection.fetch(READ_LOG, state.position, page_size):
            touched.update(_fold_page(view, state, [entry_from_row(row) for row in rows]))
        changed = {key: render(view, state, key) for key in touched}
        building = await write_rows(
            connection, building, state.position, changed, history=taken(state)
        )
        await quarantine.record_rebuilt(
            connection, view.name, state.position, state.take_quarantined()
        )
        await switch_serving(connection, live.get("serving"), building)
        return building
