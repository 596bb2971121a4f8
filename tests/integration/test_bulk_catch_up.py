"""Runners starting on views far behind the log bring them to the head through the rebuild
(one pass over the log for all of them), not event by event; a view only slightly behind is
followed as before; a second process's runners never build a view again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
import pytest

from bench._generated_war import SEED, copy_into_log, generated_log
from projections import rebuild_processes, workers
from projections.catch_up import FarBehind
from projections.rebuild import REBUILD_LOCK_NAMESPACE, rebuild_views
from projections.registry import VIEWS
from projections.row_stores import read_rows
from projections.status import view_statuses
from store.event_store import EventStore
from tests.seed_values import berdiansk_strike, filed, kursk_story

# A log of a few thousand events, and a threshold lowered to fit it: a thousand events
# behind, and a tenth of the log.
GENERATED_EVENTS = 3_000
FAR_BEHIND = FarBehind(events=1_000, share_of_log=0.1)
SERVING = "SELECT view, generation, position FROM projection_generations WHERE state = 'serving'"
STARTED = re.compile(r"bulk catch-up of (\d+) views \(([^)]*)\).*: started")


async def _load_generated_war(pool: asyncpg.Pool) -> None:
    """bench/_generated_war.py's war, copied into the log as the benchmarks load it."""
    async with pool.acquire() as connection:
        war = generated_log(random.Random(SEED), chunk=1_000, events=GENERATED_EVENTS)
        await copy_into_log(connection, war)


async def _serving(pool: asyncpg.Pool) -> dict[str, tuple[int, int]]:
    """Each view's serving generation and position."""
    return {row["view"]: (row["generation"], row["position"]) for row in await pool.fetch(SERVING)}


async def _until_at_head(pool: asyncpg.Pool, store: EventStore, names: Sequence[str]) -> None:
    head = await store.position()
    async with asyncio.timeout(60):
        while True:
            serving = await _serving(pool)
            if all(serving.get(name, (0, 0))[1] == head for name in names):
                return
            await asyncio.sleep(0.05)


async def _statuses_become(pool: asyncpg.Pool, expected: dict[str, str]) -> dict[str, str]:
    """The views' states once they are `expected`, or as they stand after 10 s: a runner that
    has just reached the head may be a moment from taking its lock again on a loaded machine."""
    statuses: dict[str, str] = {}
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            while True:
                statuses = {s.view: s.state for s in await view_statuses(pool, VIEWS)}
                if statuses == expected:
                    break
                await asyncio.sleep(0.05)
    return statuses


@asynccontextmanager
async def _running(pool: asyncpg.Pool, database_url: str) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        workers.run_views(list(VIEWS.values()), pool, database_url, stop, far_behind=FAR_BEHIND)
    )
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def _rows_of_every_view(pool: asyncpg.Pool) -> dict[str, list[tuple[str, str]]]:
    return {name: await read_rows(pool, name) for name in VIEWS}


def _bulk_passes(caplog: pytest.LogCaptureFixture) -> list[set[str]]:
    """The views of each bulk catch-up started, as its log line names them."""
    passes = []
    for record in caplog.records:
        found = STARTED.search(record.getMessage())
        if found:
            passes.append(set(found.group(2).split(", ")))
    return passes


@pytest.fixture(params=["here", "in two processes"])
def where(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where a bulk catch-up's rebuild runs: in the runners' process, or split over two
    processes (on a log this small it stays in the runners' process unless told otherwise)."""
    if request.param == "in two processes":
        monkeypatch.setattr(rebuild_processes, "PROCESSES_FROM_EVENTS", 0)
        monkeypatch.setenv(rebuild_processes.PROCESSES_VARIABLE, "2")
    else:
        monkeypatch.setenv(rebuild_processes.PROCESSES_VARIABLE, "1")
    return str(request.param)


async def test_views_never_built_reach_the_head_in_one_rebuild_and_one_behind_follows(
    pool: asyncpg.Pool,
    store: EventStore,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    caplog.set_level(logging.INFO, logger="timeline.projections")
    # Given the generated war in the log, the timeline rebuilt up to it and nothing else
    # built, and then the seed article's Kursk and Berdiansk reports filed
    await _load_generated_war(pool)
    await rebuild_views(pool, [VIEWS["timeline"]])
    kursk_filed, *kursk_later = kursk_story()
    await store.append([kursk_filed, filed(berdiansk_strike())])
    head = await store.position()
    assert head == GENERATED_EVENTS + 2

    # When the runners of every view start
    async with _running(pool, database_url):
        await _until_at_head(pool, store, list(VIEWS))
        serving = await _serving(pool)
        # and, once they are at the head, the Kursk report is corroborated and corrected
        await store.append(kursk_later)
        await _until_at_head(pool, store, list(VIEWS))
        live_rows = await _rows_of_every_view(pool)

    # Then every view never built was built by one rebuild, in one pass over the log: its
    # first generation (the runner's, empty) replaced by a second one at the head
    never_built = set(VIEWS) - {"timeline"}
    assert {name: serving[name] for name in never_built} == dict.fromkeys(never_built, (2, head))
    assert _bulk_passes(caplog) == [never_built]
    done = rf"bulk catch-up of {len(never_built)} views .*: done, \d+ events folded in [\d.]+ s"
    assert re.search(done, caplog.text)
    # (by two processes, each rebuilding some of them, when told to)
    rebuilt_apart = re.findall(r"rebuild of ([^:]*): rebuilt in", caplog.text)
    if where == "in two processes":
        assert len(rebuilt_apart) == 2
        assert sorted(", ".join(rebuilt_apart).split(", ")) == sorted(never_built)
    else:
        assert rebuilt_apart == []
    # while the timeline, two events behind, followed them on its own generation
    assert serving["timeline"] == (2, head)
    # and every row, after the runners followed the Kursk report from there, is the one a
    # rebuild of the whole log writes, byte for byte
    assert await _serving(pool) == dict.fromkeys(VIEWS, (2, head + 2))
    await rebuild_views(pool, list(VIEWS.values()))
    assert await _rows_of_every_view(pool) == live_rows


async def test_runners_of_two_processes_build_each_view_once(
    pool: asyncpg.Pool, store: EventStore, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="timeline.projections")
    # Given the generated war in the log and nothing built
    await _load_generated_war(pool)
    # When the runners of two processes (each its own pool, its own locks) start together
    other = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    assert other is not None
    try:
        async with _running(pool, database_url), _running(other, database_url):
            await _until_at_head(pool, store, list(VIEWS))
            live_rows = await _rows_of_every_view(pool)
    finally:
        await other.close()

    # Then each view was built once, by whichever process's runner held it; the other's
    # waited on standby
    built = [name for views in _bulk_passes(caplog) for name in views]
    assert sorted(built) == sorted(VIEWS)
    head = await store.position()
    assert await _serving(pool) == dict.fromkeys(VIEWS, (2, head))
    generations = await pool.fetchval("SELECT max(generation) FROM projection_generations")
    assert generations == 2
    # with the rows of a rebuild
    await rebuild_views(pool, list(VIEWS.values()))
    assert await _rows_of_every_view(pool) == live_rows


async def test_a_view_being_rebuilt_elsewhere_is_left_to_that_rebuild_and_shows_building(
    pool: asyncpg.Pool,
    store: EventStore,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "RESTART_DELAY_SECONDS", 0.05)
    # Given the generated war in the log, nothing built, and a rebuild of the holdings under
    # way elsewhere (its lock held, as `timeline rebuild holdings` holds it)
    await _load_generated_war(pool)
    others = [name for name in VIEWS if name != "holdings"]
    async with pool.acquire() as rebuilding:
        await rebuilding.execute(
            "SELECT pg_advisory_lock(hashtext($1))", REBUILD_LOCK_NAMESPACE + "holdings"
        )
        try:
            # When the runners start
            async with _running(pool, database_url):
                # Then the other views are built and at the head, while the holdings are
                # left as they were (not followed event by event beside the rebuild), and
                # the status says the holdings are building
                await _until_at_head(pool, store, others)
                assert (await _serving(pool))["holdings"] == (1, 0)
                expected = dict.fromkeys(others, "running") | {"holdings": "building"}
                assert await _statuses_become(pool, expected) == expected

                # and once that rebuild is over, the holdings' runner builds them in turn
                await rebuilding.execute("SELECT pg_advisory_unlock_all()")
                await _until_at_head(pool, store, ["holdings"])
                assert (await _serving(pool))["holdings"] == (2, await store.position())
        finally:
            await rebuilding.execute("SELECT pg_advisory_unlock_all()")
