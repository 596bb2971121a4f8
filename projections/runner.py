"""Keeps one view's serving generation up to date with the log.

- One runner per view across processes: it works only while holding a PostgreSQL advisory
  lock on its own connection; a second runner waits, and takes over when the first dies
  (the lock goes with its connection) or stands still past its lease (projections/lease.py).
- Woken by LISTEN on the log's NOTIFY channel, with a polling fallback, because a
  notification is lost whenever the listening connection is.
- Every view the service keeps holds nothing between batches (`history.stateless`): each
  batch loads the reports it is about and what its rows need, and its rows, the versions of
  its reports and its position are written together (exactly once;
  projections/versioned_batches.py). A view far behind the head is rebuilt up to it
  instead, in one pass for all such views (`projections.catch_up`). The runners of one
  process that stand at the same position take their batches together: one read and one
  transaction for all of them (`projections.batch_group`).
- Any other view folds the log up to the stored tracking position in memory on start (no
  writes; runners started together share that fold), then applies new events in batches,
  each batch's rows written with its position.
- An event the view cannot take is skipped and recorded in the quarantine with the batch
  (projections/core.py says when; projections/quarantine.py how). A batch the database
  refuses is written again row by row, and the rows it refuses are quarantined: one event
  never stops a view.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

import asyncpg
import msgspec

from projections import quarantine
from projections.batch_group import BatchGroup
from projections.catch_up import SharedCatchUp, fold_through
from projections.core import Quarantined, View, ViewState, apply, blamed, render
from projections.generations import serving_generation
from projections.history import stateless
from projections.lease import LEASE_SETTINGS, Lease
from projections.persistence import write_batch, write_batch_row_by_row
from projections.row_stores import REFUSED, Generation
from projections.versioned_batches import next_batch
from store.event_store import EventStore

log = logging.getLogger("timeline.projections")

NOTIFY_CHANNEL = "timeline_events"
LOCK_NAMESPACE = "timeline-projection:"
# The least time from one batch to the next while the runner keeps up. Under a steady stream
# of appends each batch then carries several events: one read, one write transaction and one
# render per touched row for all of them, instead of per event (bench/lag.py: at 500
# appends/s, a quarter less CPU for the same lag). After a quiet spell the first event is
# read at once; while behind, batches follow one another with no pause.
BATCH_INTERVAL_SECONDS = 0.005
# The same, for a runner that holds nothing between batches: each of its batches costs a few
# more round trips (reading the reports it is about, writing their versions, picking what its
# rows need), so it lets more events gather into one (bench/lag.py at 1,000,000 events of
# history, 500 appends/s, the runners' batches taken together: 10, 20 and 35 ms gave p99s
# within the runs' own spread, 75-143 ms).
STATELESS_BATCH_INTERVAL_SECONDS = 0.02
# The most events a batch takes while the runner is behind.
BATCH_SIZE = 2000
# How PostgreSQL finds out that the machine of a runner holding a view's lock has gone
# without closing its connection (a worker's host lost, a network split): keepalives on an
# idle connection every few seconds end the session, and the lock with it, within about
# 10 + 3 x 5 s, where the kernel's default would keep the view held for over two hours.
# A worker that dies on a live host closes its sockets, and its locks go at once.
LOCK_KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}


class LockLost(ConnectionError):
    """The runner's own connection (its lock, its LISTEN) is gone: it must start again."""


class ProjectionRunner:
    def __init__(
        self,
        view: View,
        pool: asyncpg.Pool,
        database_url: str,
        *,
        batch_size: int = BATCH_SIZE,
        poll_interval: float = 1.0,
        batch_interval: float = BATCH_INTERVAL_SECONDS,
        on_batch: Callable[[Generation], None] | None = None,
        catch_up: SharedCatchUp | None = None,
        on_caught_up: Callable[[], None] | None = None,
        group: BatchGroup | None = None,
    ) -> None:
        self.view = view
        self._pool = pool
        self._store = EventStore(pool)
        self._url = database_url
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._batch_interval = batch_interval
        self._on_batch = on_batch
        self._shared_catch_up = catch_up
        self._on_caught_up = on_caught_up
        self._group = group
        self._wake = asyncio.Event()
        self.active = False
        self.generation: Generation | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; standby while another process holds the view."""
        connection = await asyncpg.connect(
            self._url, server_settings={**LOCK_KEEPALIVES, **LEASE_SETTINGS}
        )
        try:
            await connection.add_listener(NOTIFY_CHANNEL, self._notified)
            async with Lease(connection).kept() as lease:
                while not stop.is_set():
                    async with lease.busy:
                        held = await connection.fetchval(
                            "SELECT pg_try_advisory_lock(hashtext($1))",
                            LOCK_NAMESPACE + self.view.name,
                        )
                    if held:
                        self.active = True
                        try:
                            await self._follow(lease, stop)
                        finally:
                            self.active = False
                        return
                    await self._sleep(stop)
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _sleep(self, stop: asyncio.Event) -> None:
        """Until a NOTIFY, `stop`, or the poll interval, whichever comes first."""
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=self._poll_interval, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()

    async def _follow(self, lease: Lease, stop: asyncio.Event) -> None:
        async with lease.busy:
            serving = await serving_generation(lease.connection, self.view.name)
        step: Callable[[Generation], Awaitable[tuple[Generation, int] | None]]
        if stateless(self.view):
            # Nothing to fold to start from (unless far behind: then a rebuild); each batch
            # loads what it touches (projections/versioned_batches.py).
            generation = serving
            if self._shared_catch_up is not None:
                generation = await self._shared_catch_up.caught_up_by_versions(self.view, serving)
            step = self._versioned_batch if self._group is None else self._grouped_batch
            interval = max(self._batch_interval, STATELESS_BATCH_INTERVAL_SECONDS)
        else:
            generation, state = await self._catch_up(serving)
            # Recorded by the runner that wrote those positions, unless the code changed since.
            async with lease.busy:
                await quarantine.record(lease.connection, state.take_quarantined())
            step = functools.partial(self._folded_batch, state)
            interval = self._batch_interval
        self.generation = generation
        if self._on_caught_up is not None:
            self._on_caught_up()
        group = self._group if stateless(self.view) else None
        with contextlib.nullcontext() if group is None else group.joined(self.view):
            await self._loop(lease, stop, generation, step, interval)

    async def _loop(
        self,
        lease: Lease,
        stop: asyncio.Event,
        generation: Generation,
        step: Callable[[Generation], Awaitable[tuple[Generation, int] | None]],
        interval: float,
    ) -> None:
        """Take batches with `step` until `stop`, at most one per `interval` while keeping up."""
        clock = asyncio.get_running_loop().time
        while not stop.is_set():
            if lease.lost or lease.connection.is_closed():
                # The view's lock went with it: another runner may take the view over.
                raise LockLost(f"{self.view.name}: the connection holding its lock was lost")
            started = clock()
            taken = await step(generation)
            if taken is None:
                await self._sleep(stop)
                continue
            generation, events = taken
            self.generation = generation
            if self._on_batch is not None:
                self._on_batch(generation)
            if events < self._batch_size:
                # Not behind: let the next batch gather what arrives meanwhile.
                await asyncio.sleep(started + interval - clock())

    async def _versioned_batch(self, generation: Generation) -> tuple[Generation, int] | None:
        return await next_batch(self._pool, self.view, generation, self._batch_size)

    async def _grouped_batch(self, generation: Generation) -> tuple[Generation, int] | None:
        assert self._group is not None
        return await self._group.step(self.view, generation, self._batch_size)

    async def _folded_batch(
        self, state: ViewState, generation: Generation
    ) -> tuple[Generation, int] | None:
        """The next batch folded into the runner's `state`, its rows written; the generation
        then and how many events it took (None: none yet)."""
        page = await self._store.read_entries(after=state.position, limit=self._batch_size)
        if not page:
            return None
        touched: dict[str, None] = {}
        for recorded in page:
            touched.update(dict.fromkeys(apply(self.view, state, recorded)))
        rows = {key: render(self.view, state, key) for key in touched}
        return await self._write(generation, state, rows), len(page)

    async def _write(
        self, generation: Generation, state: ViewState, rows: dict[str, msgspec.Struct | None]
    ) -> Generation:
        skipped = state.take_quarantined()
        try:
            return await write_batch(self._pool, generation, state.position, rows, skipped)
        except REFUSED:
            # A row the database will not store (the folds check what they can foresee):
            # find it, and write the rest.
            pass

        def blame(key: str, error: BaseException) -> Quarantined:
            return blamed(self.view, state, key, error)

        return await write_batch_row_by_row(
            self._pool,
            generation,
            state.position,
            rows,
            quarantined=skipped,
            blame=blame,
        )

    async def _catch_up(self, serving: Generation) -> tuple[Generation, ViewState]:
        """The generation to follow and the fold's state at its position: `serving`, folded
        from the log, or a generation rebuilt up to the head if `serving` is far behind it."""
        if self._shared_catch_up is not None:
            return await self._shared_catch_up.caught_up(self.view, serving)
        (state,) = await fold_through(self._pool, [self.view], serving.position)
        return serving, state
