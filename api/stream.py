"""GET /v1/stream: new events as Server-Sent Events, each with its log position as its id.

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
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.auth import requires_reader
from api.limits import Cost, costs
from api.problems import ApiProblem, Documented, problem
from domain.events import DomainEvent
from domain.recorded import RecordedEvent
from domain.summaries import event_summary
from projections.runner import NOTIFY_CHANNEL
from store.backoff import Backoff, stopped
from store.event_store import MAX_POSITION, EventStore

log = logging.getLogger("timeline.api.stream")

HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 1.0
STOP_SECONDS = 10.0
PAGE_EVENTS = 500
QUEUE_EVENTS = 1000
MAX_POSITION_DIGITS = 18  # positions are int8

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
                    if connection is not None:
                        with contextlib.suppress(Exception):
                            await connection.close()
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
    """The lifespan of this process's tailer (after `open_pool`: it needs `app.state.store`)."""
    tailer = LogTailer(app.state.store, app.state.database_url)
    await tailer.start()
    app.state.tailer = tailer
    stop = asyncio.Event()
    task = asyncio.create_task(tailer.run(stop))
    undo = end_streams_on_exit_signals(tailer)
    try:
        yield
    finally:
        undo()
        stop.set()
        await stopped(task, STOP_SECONDS, "the log tailer")


def _start_position(last_event_id: str | None, after: int | None) -> tuple[str, int] | None:
    """Where the client asked to resume, and which parameter said so. The header wins: a
    browser's EventSource keeps the URL's `?after=` and sends the newer Last-Event-ID."""
    if last_event_id is not None:
        text = last_event_id.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= MAX_POSITION_DIGITS):
            raise ApiProblem(
                400,
                "invalid-parameter",
                "A header is not valid",
                "Last-Event-ID: expected a log position (a whole number, as in the `id:` of "
                f"an event this stream sent), got {last_event_id[:40]!r}",
                field="Last-Event-ID",
            )
        return "Last-Event-ID", int(text)
    if after is not None:
        return "after", after
    return None


# The seed article's 1,376 km² peak, as `timeline demo` records it third.
EXAMPLE = (
    "id: 3\n"
    "event: report-filed\n"
    'data: {"position":3,"recorded_at":"2026-11-28T04:19:46.361389Z",'
    '"report_id":"f3919e56-d211-5a62-822d-0fb7b4f31083","version":1,"type":"report-filed",'
    '"summary":"Ukraine holds about 1,376 km2 of Kursk Oblast at peak (per Ukrainian General '
    'Staff source via Reuters)","event":{"originator_id":"f3919e56-d211-5a62-822d-0fb7b4f31083",'
    '"originator_version":1,"timestamp":"2026-11-28T04:19:46.361201Z","claim":{"kind":'
    '"territory_control","actor":"Ukraine","region":"Kursk Oblast","country":"RU","area":'
    '{"unit":"km2","value":1376.0,"qualifier":"about"},"extent":"peak"},"attribution":{"source":'
    '"Ukrainian General Staff source","side":"ukraine","outlet":"Reuters"},"occurred":'
    '{"precision":"interval","start":{"precision":"month","year":2024,"month":8},"end":'
    '{"precision":"day","on":"2024-11-23"}},"reported":{"precision":"day","on":"2024-11-23"},'
    '"caveats":[{"party":"Reuters","stance":"could_not_verify"},{"party":'
    '"Russian Defence Ministry","stance":"did_not_respond"}],"notes":"\\"At most, we '
    'controlled about 1376 square kilometres\\""}}\n'
    "\n"
    ": heartbeat\n"
    "\n"
)

DESCRIPTION = f"""\
A `text/event-stream` of events as they are recorded, in log order. Each event's `id:` is its
log position, `event:` its stored type (`report-filed`, `report-corroborated`, ...) and
`data:` one JSON object: `position`, `recorded_at`, `report_id`, `version`, `type`, a human
`summary` and the domain `event` itself (as in `GET /v1/reports/{{report_id}}`'s history).

Without `Last-Event-ID` or `after` the stream starts with the events recorded after the
request. To resume, send `Last-Event-ID: N` (EventSource does so by itself when it
reconnects) or `?after=N` (the header wins when both are given): the stream then starts at
position N+1, with no gap and no repeat. `?after=0` replays the whole log first.

A comment line (`: heartbeat`) comes every 15 s without events. A client too slow to keep up is
switched back to reading the log from its last position, then to the live feed again. When the
service stops, the stream ends with `: the service is stopping; reconnect with
Last-Event-ID: N`.

```
{EXAMPLE}```
"""


@get(
    "/stream",
    operation_id="streamEvents",
    summary="New events as Server-Sent Events, resumable with Last-Event-ID",
    description=DESCRIPTION,
    tags=["stream"],
    guards=[requires_reader],
    opt=costs(Cost.STREAM),
    responses={
        200: Documented(
            str,
            description="An endless stream of events (text/event-stream)",
            media_type="text/event-stream",
            generate_examples=False,
            examples=[Example(summary="A report filed, then a heartbeat", value=EXAMPLE)],
        ),
        400: problem("Last-Event-ID or after is not a log position this log has reached"),
        401: problem("An API key is needed"),
        403: problem("The key's role does not allow this"),
        429: problem("This key (or address) has too many streams open"),
        503: problem("The process has too many streams open"),
    },
)
async def stream(
    *,
    state: State,
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            description="Resume after this log position (the last `id:` received)",
        ),
    ] = None,
    after: Annotated[
        int | None,
        QueryParameter(
            ge=0,
            le=MAX_POSITION,
            description="Resume after this log position, for clients that cannot send headers",
        ),
    ] = None,
) -> ServerSentEvent:
    tailer: LogTailer = state.tailer
    head = await tailer.store.position()
    asked = _start_position(last_event_id, after)
    if asked is not None and asked[1] > head:
        name, position = asked
        raise ApiProblem(
            400,
            "invalid-parameter",
            "A parameter is not valid",
            f"{name}: position {position} is beyond the newest event of this log ({head})",
            field=name,
        )
    start = head if asked is None else asked[1]
    return ServerSentEvent(feed(tailer, start))


STREAM_ROUTES = [stream]
