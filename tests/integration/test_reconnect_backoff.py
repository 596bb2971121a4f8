"""Every loop that reconnects to PostgreSQL backs off during an outage (a few attempts in
two seconds, not hundreds a second) and recovers by itself once the database is back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg
import pytest

from api.auth import KeyCache
from api.key_changes import follow_key_changes
from api.live_views import LiveViews
from api.log_tailer import LogTailer
from application.reports import ReportService
from projections.core import View
from projections.registry import VIEWS
from projections.status import view_statuses
from projections.workers import restarts, run_views
from store.backoff import Backoff
from store.event_store import EventStore
from tests.outage import Outage
from tests.seed_values import kursk_held_now

OUTAGE_SECONDS = 2.0
# With back-off from 0.1 s: about five attempts in two seconds. At a fixed pace of a second
# it would be two; with the NOTIFY flag left set, the stream made hundreds a second.
MOST_ATTEMPTS = 10


@pytest.fixture
async def outage(database_url: str) -> AsyncIterator[Outage]:
    proxy = Outage(database_url)
    await proxy.start()
    yield proxy
    await proxy.close()


async def _through_an_outage(
    outage: Outage,
    loop: Callable[[asyncio.Event], Coroutine[Any, Any, object]],
    backoff: Callable[[], Backoff],
    recovered: Callable[[], Coroutine[Any, Any, bool]],
) -> None:
    """Run `loop` through an outage of two seconds: few attempts, then back by itself."""
    stop = asyncio.Event()
    task = asyncio.create_task(loop(stop))
    try:
        await asyncio.sleep(0.2)
        outage.down()
        await asyncio.sleep(OUTAGE_SECONDS)
        assert backoff().lost
        assert 1 <= backoff().attempts <= MOST_ATTEMPTS
        outage.up()
        deadline = asyncio.get_running_loop().time() + 15
        while not await recovered():
            assert asyncio.get_running_loop().time() < deadline, "it did not recover"
            await asyncio.sleep(0.05)
        assert not backoff().lost
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_the_stream_tailer_backs_off_during_an_outage_and_recovers(
    outage: Outage, store: EventStore
) -> None:
    tailer = LogTailer(store, outage.url, poll_seconds=0.05)
    await tailer.start()
    # A NOTIFY heard just before the outage: its wake-up flag used to cut every wait short.
    tailer._notified()

    async def recovered() -> bool:
        if await store.position() == 0:
            await ReportService(store).file(kursk_held_now())
        return tailer.head == await store.position()

    await _through_an_outage(outage, tailer.run, lambda: tailer.backoff, recovered)


async def test_the_live_views_back_off_during_an_outage_and_recover(
    outage: Outage, pool: asyncpg.Pool
) -> None:
    live = LiveViews(pool, outage.url)

    async def recovered() -> bool:
        return live.ready.is_set() and not live.backoff.lost

    await _through_an_outage(outage, live.run, lambda: live.backoff, recovered)


async def test_the_key_listener_backs_off_during_an_outage_and_recovers(
    outage: Outage, pool: asyncpg.Pool
) -> None:
    backoff = Backoff("api keys", logging.getLogger("test"))

    async def listen(stop: asyncio.Event) -> None:
        await follow_key_changes(outage.url, KeyCache(pool), stop, backoff)

    async def recovered() -> bool:
        return not backoff.lost

    await _through_an_outage(outage, listen, lambda: backoff, recovered)


async def test_the_projection_runners_back_off_during_an_outage_and_recover(
    outage: Outage, pool: asyncpg.Pool, store: EventStore
) -> None:
    await ReportService(store).file(kursk_held_now())
    backoffs: list[Backoff] = []

    def counted(view: View) -> Backoff:
        backoffs.append(restarts(view))
        return backoffs[-1]

    async def project(stop: asyncio.Event) -> None:
        await run_views([VIEWS["holdings"]], pool, outage.url, stop, backoff=counted)

    async def recovered() -> bool:
        if await store.position() == 1:  # a report filed once the database is back
            await ReportService(store).file(kursk_held_now())
        (status,) = await view_statuses(pool, ["holdings"])
        return status.position == await store.position() and not backoffs[0].lost

    await _through_an_outage(outage, project, lambda: backoffs[0], recovered)


class TerminatesPoolOnRelease(asyncpg.Connection):  # type: ignore[misc]
    """A real connection that, once armed, terminates its pool just as it is handed back:
    `Pool.release` has checked the connection and queued the holder's release, which then
    finds the holder already freed by `terminate()` (asyncpg's InternalClientError). This
    is what an outage test that terminates the service's pool ran into now and then."""

    armed: Callable[[], None] | None = None

    def _on_release(self, stacklevel: int = 1) -> None:
        super()._on_release(stacklevel)
        terminate, TerminatesPoolOnRelease.armed = TerminatesPoolOnRelease.armed, None
        if terminate is not None:
            asyncio.get_running_loop().call_soon(terminate)


async def test_the_live_views_outlive_a_pool_terminated_under_a_release(
    database_url: str, pool: asyncpg.Pool
) -> None:
    doomed = await asyncpg.create_pool(
        database_url, min_size=1, max_size=2, connection_class=TerminatesPoolOnRelease
    )
    live = LiveViews(doomed, database_url)
    stop = asyncio.Event()
    task = asyncio.create_task(live.run(stop))
    try:
        await asyncio.wait_for(live.ready.wait(), timeout=10)
        TerminatesPoolOnRelease.armed = doomed.terminate
        deadline = asyncio.get_running_loop().time() + 10
        while not live.backoff.lost:
            if task.done():
                task.result()  # raises what ended the loop
            assert asyncio.get_running_loop().time() < deadline, "the pool was never terminated"
            await asyncio.sleep(0.05)
        assert not task.done()  # it goes on, backing off, until it is stopped
    finally:
        TerminatesPoolOnRelease.armed = None
        stop.set()
        await asyncio.wait_for(task, timeout=10)  # and stops without an error
