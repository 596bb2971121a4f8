"""Sending an import's events to the log while its last rows are still being decided.

An import's events go to the log in one append, all of them or none (store/append_parts.py:
parts of one transaction). Its two long steps are deciding the rows, which is Python's work,
and storing the events, which is the database's: done one after the other, each waits for
the other. So the parts are sent while the rows after them are still being decided.

But the first part takes the appenders' lock, held to the commit: from then on every other
writer waits for the import. So the first part is sent only once the rows left to decide
will be decided before the database could have stored every event of the import (at
STORE_RATE, a rate above what it reaches; the events of the rows left estimated from those
decided so far): from then on the database never waits for the checks, and the lock is
held about as long as an append of the whole import, sent after its checks, holds it.
A row refused (without `skip_invalid`) rolls the append back at once, and nothing is
written: the checks go on to list every bad row, without the lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AsyncExitStack

from domain.events import DomainEvent
from store.append_parts import APPEND_PART
from store.event_store import Appending, AppendResult, EventStore

# Events a second the log is assumed to store while an import's checks go on: more than it
# stores with nothing else running (the batch append's 40,000-47,000 on two cores; fewer
# beside the checks), so that the estimate errs toward sending late.
STORE_RATE = 50_000


class Sending:
    """One import's append, its parts sent as the rows are decided once it is worth it
    (`watch`), the rest sent by `finish`. Leaving the block without `finish` writes
    nothing."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._stack = AsyncExitStack()
        self._appending: Appending | None = None
        self._pump: asyncio.Task[None] | None = None
        self._events: list[DomainEvent] = []
        self._sent = 0
        self._rows = 0
        self._done = 0
        self._started = 0.0
        self._skip_invalid = False
        self._stopped = False  # no part is sent by the pump
        self._committed = False

    async def __aenter__(self) -> Sending:
        return self

    async def __aexit__(self, *exception: object) -> None:
        self.abandon()  # unless committed
        await self._settled()
        await self._stack.aclose()  # a part sent and not committed is rolled back

    def watch(
        self, events: list[DomainEvent], rows: int, *, skip_invalid: bool
    ) -> Callable[[int, bool], None]:
        """The callback for a plan that adds to `events` as it decides `rows` rows, on the
        event loop: told how many rows are decided and whether one was refused."""
        if rows <= APPEND_PART:
            return unwatched
        self._events, self._rows, self._skip_invalid = events, rows, skip_invalid
        self._started = time.monotonic()
        return self._decided

    def abandon(self) -> None:
        """Write nothing: the parts sent are rolled back (at once, letting the lock go), and
        none is sent after."""
        self._stopped = True
        if self._appending is not None and not self._committed:
            self._appending.abandon()
            self._pump = asyncio.create_task(self._closing(self._pump), name="import append")

    async def finish(self, events: list[DomainEvent]) -> AppendResult:
        """Append `events` (those watched, once all are decided): the rest of them, if some
        were sent; all of them otherwise."""
        self._stopped = True  # no part is sent but from here
        await self._settled(raising=True)
        if self._appending is None:
            self._committed = True
            return await self._store.append(events)
        appending = self._appending
        for start in range(self._sent, len(events), APPEND_PART):
            await appending.add(events[start : start + APPEND_PART])
        self._committed = True
        await self._stack.aclose()  # commits
        return appending.result

    def _decided(self, done: int, refused: bool) -> None:
        if self._stopped:
            return
        if refused and not self._skip_invalid:
            self.abandon()
            return
        self._done = done
        if self._pump is None or self._pump.done():
            if self._pump is not None and self._pump.exception() is not None:
                return  # `finish` raises it
            self._pump = asyncio.create_task(self._send_decided(), name="import append")

    async def _send_decided(self) -> None:
        if self._appending is None:
            if not self._worth_sending():
                return
            self._appending = await self._stack.enter_async_context(self._store.appending())
        while not self._stopped and len(self._events) - self._sent >= APPEND_PART:
            await self._appending.add(self._events[self._sent : self._sent + APPEND_PART])
            self._sent += APPEND_PART

    def _worth_sending(self) -> bool:
        """Whether the rows left will be decided before the server could store every
        event of the import (those decided, and as many more for the rows left as so far),
        at STORE_RATE: then, once it starts, it never waits for the checks."""
        if self._done == 0 or len(self._events) < APPEND_PART:
            return False
        deciding = time.monotonic() - self._started
        left = deciding * (self._rows - self._done) / self._done
        expected = len(self._events) * self._rows / self._done
        return left <= expected / STORE_RATE

    async def _closing(self, pump: asyncio.Task[None] | None) -> None:
        if pump is not None:
            await asyncio.gather(pump, return_exceptions=True)
        await self._stack.aclose()  # abandoned: rolled back

    async def _settled(self, *, raising: bool = False) -> None:
        """Once no part is on its way (raising what sending one raised, if `raising`)."""
        if self._pump is not None:
            if raising:
                await self._pump
            else:
                await asyncio.gather(self._pump, return_exceptions=True)


def unwatched(done: int, refused: bool) -> None:
    """The callback for a plan whose events are sent once all are decided (too few, or
    not the last dataset of its import)."""
