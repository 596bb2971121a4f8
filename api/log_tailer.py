"""This process's one reader of the log for its streams (`GET /v1/stream`, api/stream.py).

One `LogTailer` per API process follows the log (LISTEN on `timeline_events`, which every
append NOTIFYs, with a one-second poll as the fallback for lost notifications) and hands each
new page of events, encoded once, to every connected client's bounded queue. However many
clients are connected, the process reads the log once.

A client is sent only positions greater than the last it was sent, so the hand-over from the
store to the live feed can neither skip nor repeat: positions are strictly increasing and
follow commit order (`timeline_append` takes the table lock), so when a client subscribes,
everything up to the tailer's head is already in the store and everything after it will come
through the client's queue. The client reads the former in pages, then drains the latter.

A client that falls more than `QUEUE_EVENTS` events behind the live feed (its connection
drains slower than events arrive) loses its queue and is dropped back to reading from the
store, from its last position, until it has caught up, then subscribes again: it never sees a
gap, and the process never holds more than one queue's worth of events for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar
from litestar.response import ServerSentEventMessage

from api.services import services_of
from domain.events import DomainEvent
from domain.recorded import RecordedEvent
from domain.summaries import event_summary
from projections.runner import NOTIFY_CHANNEL
from store.backoff import Backoff, close_quietly, stopped
from store.event_store import EventStore

log = logging.getLogger("timeline.api.stream")

HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 1.0
STOP_SECONDS = 10.0
PAGE_EVENTS = 500
QUEUE_EVENTS = 1000

_encoder = msgspec.json.Encoder()


class StreamedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """The `data:` of one event on the stream (the same fields as `timeline log --json`)."""

    position: int
    recorded_at: datetime
    report_id: UUID
    version: int
    type: str
    summary: str
    event: DomainEvent


def message_of(recorded: RecordedEvent) -> ServerSentEventMessage:
    event = recorded.event
    data = StreamedEvent(
        position=recorded.position,
        recorded_at=recorded.recorded_at,
        report_id=event.originator_id,
        version=event.originator_version,
        type=event.stored_name,
        summary=event_summary(event),
        event=event,
    )
    return ServerSentEventMessage(
        data=_encoder.encode(data).decode(), event=event.stored_name, id=recorded.position
    )


def comment(text: str) -> ServerSentEventMessage:
    # data=None: an empty `data:` line would dispatch an empty message event.
    return ServerSentEventMessage(data=None, comment=text)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    position: int
    message: ServerSentEventMessage


class Subscription:
    """One client's place on the live feed: every event after `start`, until it overflows
    (more than `capacity` waiting) or the tailer stops."""

    def __init__(self, start: int, capacity: int) -> None:
        self.start = start
        self._capacity = capacity
        self._waiting: deque[LiveEvent] = deque()
        self._ready = asyncio.Event()
        self.overflowed = False
        self.closed = False

    def offer(self, events: Sequence[LiveEvent]) -> bool:
        """Queue `events`; False if this offer overflowed the queue (which is then dropped:
        the client goes back to the store)."""
        if self.overflowed or self.closed:
            return True
        self._ready.set()
        if len(self._waiting) + len(events) > self._capacity:
            self.overflowed = True
            self._waiting.clear()
            return False
        self._waiting.extend(events)
        return True

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next(self, within_seconds: float) -> LiveEvent | None:
        """The next event; None after `within_seconds` without one, or once the
        subscription has overflowed or closed."""
        if not self._waiting and not (self.overflowed or self.closed):
            self._ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), within_seconds)
        if self._waiting and not (self.overflowed or self.closed):
            return self._waiting.popleft()
        return None


class LogTailer:
    """Follows the log for this process and fans new events out to the subscriptions."""

    def __init__(
        self,
        store: EventStore,
        database_url: str,
        *,
        page_events: int = PAGE_EVENTS,
        queue_events: int = QUEUE_EVENTS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._store = store
        self._url = database_url
        self._page_events = page_events
        self._queue_events = queue_events
        self._poll_seconds = poll_seconds
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self.head = 0  # the newest position handed to the subscriptions
        self._stopped = False
        self.dropped_to_store = 0  # how often a client fell behind and went back to the store
        self.backoff = Backoff("stream: following the log", log)

    @property
    def store(self) -> EventStore:
        return self._store

    def subscribe(self) -> Subscription:
        # No await between reading the head and registering: no page can slip in between.
        subscription = Subscription(self.head, self._queue_events)
        if self._stopped:
            subscription.close()
        else:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    async def start(self) -> None:
        """Take the log's head as the starting point; before any client subscribes."""
        self.head = await self._store.position()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the log from the head `start` took until `stop`, then close every
        subscription."""
        try:
            while not stop.is_set():
                connection: asyncpg.Connection | None = None
                try:
                    connection = await asyncpg.connect(self._url)
                    await connection.add_listener(NOTIFY_CHANNEL, self._notified)
                    while not stop.is_set() and not connection.is_closed():
                        await self._catch_up()
                        self.backoff.succeeded()
                        await self._sleep(stop, self._poll_seconds)
                except Exception as error:  # whatever the database or the driver raised
                    # Not `_sleep`: a NOTIFY heard before the outage would cut the wait short.
                    await self.backoff.wait(error, stop)
                finally:
                    await close_quietly(connection)
        finally:
            self.end_streams()

    def end_streams(self) -> None:
        """End every stream (each says how to resume), now and from now on."""
        self._stopped = True
        for subscription in self._subscriptions:
            subscription.close()

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _catch_up(self) -> None:
        while True:
            # Cleared before reading: a NOTIFY during the read wakes the next round at once.
            self._wake.clear()
            page = await self._store.read_log(after=self.head, limit=self._page_events)
            if not page:
                return
            if self._subscriptions:
                live = [LiveEvent(recorded.position, message_of(recorded)) for recorded in page]
                for subscription in self._subscriptions:
                    if not subscription.offer(live):
                        self.dropped_to_store += 1
            self.head = page[-1].position
            if len(page) < self._page_events:
                return


async def feed(
    tailer: LogTailer, after: int, *, heartbeat_seconds: float = HEARTBEAT_SECONDS
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """Every event after position `after`, then each new one as it is recorded."""
    last = after
    subscription = tailer.subscribe()
    try:
        yield comment(f"events after position {after}")
        while not subscription.closed:
            # From the store: what was recorded up to where this subscription's feed starts.
            while last < subscription.start:
                page = await tailer.store.read_log_through(
                    subscription.start, after=last, limit=PAGE_EVENTS
                )
                if not page:
                    break
                for recorded in page:
                    yield message_of(recorded)
                last = page[-1].position
            # Live: what the tailer hands over, skipping what the store already gave.
            while not (subscription.overflowed or subscription.closed):
                live = await subscription.next(heartbeat_seconds)
                if live is None:
                    if not (subscription.overflowed or subscription.closed):
                        yield comment("heartbeat")
                elif live.position > last:
                    yield live.message
                    last = live.position
            if subscription.overflowed:
                # Too far behind: back to the store from `last`, then a fresh queue.
                tailer.unsubscribe(subscription)
                subscription = tailer.subscribe()
        yield comment(f"the service is stopping; reconnect with Last-Event-ID: {last}")
    finally:
        tailer.unsubscribe(subscription)


def end_streams_on_exit_signals(tailer: LogTailer) -> Callable[[], None]:
    """End every stream as soon as the process is asked to stop (SIGINT, SIGTERM); returns
    what undoes this.

    Servers (uvicorn, granian) let open responses finish before they run the app's shutdown,
    and a stream never finishes by itself: without this, stopping the service with a
    dashboard connected waits until the server gives up and kills the worker, skipping the
    app's own shutdown. The server's handler still runs, chained after ours; asyncio's
    signal handling (granian's) is unaffected, as it is woken through the wakeup fd.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may set signal handlers
    loop = asyncio.get_running_loop()
    chained: dict[int, Callable[[int, FrameType | None], Any]] = {}

    def on_exit_signal(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(tailer.end_streams)
        chained[signum](signum, frame)

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)
        if callable(previous):
            chained[signum] = previous
            signal.signal(signum, on_exit_signal)

    def undo() -> None:
        for signum, previous in chained.items():
            if signal.getsignal(signum) is on_exit_signal:
                signal.signal(signum, previous)

    return undo


@asynccontextmanager
async def tail_log(app: Litestar) -> AsyncIterator[None]:
    """The lifespan of this process's tailer (made with the services, api/app.py)."""
    tailer = services_of(app).tailer
    await tailer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(tailer.run(stop))
    undo = end_streams_on_exit_signals(tailer)
    try:
        yield
    finally:
        undo()
        stop.set()
        await stopped(task, STOP_SECONDS, "the log tailer")
