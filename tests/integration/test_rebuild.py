"""Rebuilding a view under a new generation while the old one serves, then switching: reads
see one generation or the other, never a mix; a live runner, here or in another process,
moves over to the new generation with nothing applied twice or lost."""

from __future__ import annotations

import asyncio
import gc
import itertools
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import msgspec
import pytest

from application.reports import ReportService
from bench._generated_war import load_log
from domain.claims import Claim
from domain.report import Report
from projections import rebuild as rebuilding
from projections import workers
from projections.core import View, ViewState, fold, render_all
from projections.rebuild import REBUILD_LOCK_NAMESPACE, RebuildInProgress, rebuild, rebuild_views
from projections.registry import VIEWS
from projections.row_stores import Generation, read_rows
from projections.runner import ProjectionRunner
from projections.tracked import Tracked
from seed.demo import load_demo
from store.event_store import EventStore
from tests.seed_values import berdiansk_strike, filed, kursk_held_now

REPOSITORY = Path(__file__).resolve().parents[2]


class KindTally(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    live: int
    retracted: int


class ReportsByKind:
    """A small view: how many reports of each kind are live."""

    name: ClassVar[str] = "test-rebuild-reports-by-kind"

    def follows(self, claim: Claim) -> bool:
        return True

    def keys(self, report: Report) -> tuple[str, ...]:
        return (report.kind,)

    def render(self, key: str, reports: Sequence[Tracked], as_of: datetime | None) -> KindTally:
        retracted = sum(1 for t in reports if t.report.is_retracted)
        return KindTally(kind=key, live=len(reports) - retracted, retracted=retracted)


class KindTallyV2(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    reports: int  # the new version of the view counts retracted reports too


class ReportsByKindV2:
    """The same view, next version: a rebuild is how its rows come to be this shape."""

    name: ClassVar[str] = ReportsByKind.name

    def follows(self, claim: Claim) -> bool:
        return True

    def keys(self, report: Report) -> tuple[str, ...]:
        return (report.kind,)

    def render(self, key: str, reports: Sequence[Tracked], as_of: datetime | None) -> KindTallyV2:
        return KindTallyV2(kind=key, reports=len(reports))


class SourceNotes(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    notes: tuple[str | None, ...]


class NotesBySource:
    """A view keyed by a source's name as given, holding the notes filed with its claims."""

    name: ClassVar[str] = "test-rebuild-notes-by-source"

    def follows(self, claim: Claim) -> bool:
        return True

    def keys(self, report: Report) -> tuple[str, ...]:
        return (report.attribution.source,)

    def render(self, key: str, reports: Sequence[Tracked], as_of: datetime | None) -> SourceNotes:
        return SourceNotes(source=key, notes=tuple(t.report.notes for t in reports))


VIEW: View = ReportsByKind()


async def _documents(pool: asyncpg.Pool, name: str) -> dict[str, object]:
    return {key: msgspec.json.decode(doc) for key, doc in await read_rows(pool, name)}


async def _folded(store: EventStore, view: View) -> dict[str, object]:
    state, _ = fold(view, await store.read_log(limit=1_000_000))
    return {
        key: msgspec.json.decode(msgspec.json.encode(row))
        for key, row in render_all(view, state).items()
    }


async def _generations(pool: asyncpg.Pool, name: str) -> list[tuple[int, str, int]]:
    rows = await pool.fetch(
        "SELECT generation, state, position FROM projection_generations WHERE view = $1 "
        "ORDER BY generation",
        name,
    )
    return [(row["generation"], row["state"], row["position"]) for row in rows]


async def _row_counts(pool: asyncpg.Pool, name: str) -> dict[int, int]:
    rows = await pool.fetch(
        "SELECT generation, count(*) AS n FROM view_rows WHERE view = $1 GROUP BY generation",
        name,
    )
    return {row["generation"]: row["n"] for row in rows}


@asynccontextmanager
async def running(runner: ProjectionRunner) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def _serving_reaches(pool: asyncpg.Pool, store: EventStore, names: Sequence[str]) -> None:
    head = await store.position()
    async with asyncio.timeout(30):
        while True:
            rows = await pool.fetch(
                "SELECT position FROM projection_generations "
                "WHERE view = ANY($1::text[]) AND state = 'serving'",
                list(names),
            )
            if len(rows) == len(names) and all(row["position"] == head for row in rows):
                return
            await asyncio.sleep(0.05)


async def test_a_rebuild_serves_exactly_the_fold_of_the_log_and_retires_the_old_generation(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given the seed article recorded and a runner that kept the view as generation 1
    await load_demo(ReportService(store))
    async with running(ProjectionRunner(VIEW, pool, database_url, batch_size=4)):
        await _serving_reaches(pool, store, [VIEW.name])

    # When the view is rebuilt
    generation = await rebuild(pool, VIEW)

    # Then generation 2 serves the fold of the whole log, and generation 1 is retired and gone
    head = await store.position()
    assert generation == Generation(VIEW.name, 2, head)
    assert await _generations(pool, VIEW.name) == [(1, "retired", head), (2, "serving", head)]
    assert await _documents(pool, VIEW.name) == await _folded(store, VIEW)
    assert set(await _row_counts(pool, VIEW.name)) == {2}
    assert gc.isenabled()  # the collector, paused for the fold, is back


async def test_every_view_rebuilt_in_one_pass_equals_its_fold(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the seed article recorded, and no view ever run
    await load_demo(ReportService(store))

    # When every view is rebuilt together
    generations = await rebuild_views(pool, list(VIEWS.values()))

    # Then each one serves its fold, from generation 2 (1 was made empty, to be replaced)
    assert [g.generation for g in generations] == [2] * len(VIEWS)
    for name, view in VIEWS.items():
        assert await _documents(pool, name) == await _folded(store, view), name


async def test_keys_and_documents_arrive_as_written_whatever_characters_they_hold(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given a source whose name holds quotes, a backslash, a tab and a line break, and notes
    # over two lines (the bulk load's text format gives all of these a meaning of their own):
    # the domain refuses tabs and line breaks in names now, but an event recorded before
    # it did is in the log for ever, so it is written here as it was then.
    source = 'Telegram channel "Rybar"\\Kursk\tdesk\nnight shift'
    command = kursk_held_now()
    event = msgspec.structs.replace(
        filed(command),
        attribution=msgspec.structs.replace(command.attribution, source=source),
        notes='Satellite images: C:\\imagery\\sudzha.tif\r\n"800 km²" per the source',
    )
    await store.append([event])

    # When the view is rebuilt, then its row is the fold's, under the same key.
    view = NotesBySource()
    await rebuild(pool, view)
    assert await _documents(pool, view.name) == await _folded(store, view)
    assert list(await _documents(pool, view.name)) == [source]


async def test_a_view_of_an_empty_log_rebuilds_to_no_rows(pool: asyncpg.Pool) -> None:
    generation = await rebuild(pool, VIEW)
    assert generation == Generation(VIEW.name, 2, 0)
    assert await read_rows(pool, VIEW.name) == []


async def test_reads_see_the_old_version_until_the_switch_then_the_new_one_never_a_mix(
    store: EventStore, pool: asyncpg.Pool, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the view's first version serving the seed article's reports
    await load_demo(ReportService(store))
    async with running(ProjectionRunner(VIEW, pool, database_url)):
        await _serving_reaches(pool, store, [VIEW.name])
    old = await _documents(pool, VIEW.name)
    new_version = ReportsByKindV2()

    # And readers reading all the while (each one's reads in its own order: reads of
    # different readers overlap, so only one reader's sequence has a before and an after)
    seen_by: list[list[dict[str, object]]] = [[], [], []]
    before_switch: list[dict[str, object]] = []
    stop = asyncio.Event()

    async def reader(seen: list[dict[str, object]]) -> None:
        while not stop.is_set():
            seen.append(await _documents(pool, VIEW.name))
            await asyncio.sleep(0)

    switch = rebuilding._switch

    async def look_then_switch(*args: object, **kwargs: object) -> Generation:
        before_switch.append(await _documents(pool, VIEW.name))
        return await switch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rebuilding, "_switch", look_then_switch)

    # When the view is rebuilt under its new version
    readers = [asyncio.create_task(reader(seen)) for seen in seen_by]
    await rebuild(pool, new_version)
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*readers)

    # Then until the switch reads saw the first version, afterwards the new one, never a mix
    new = await _folded(store, new_version)
    assert old != new
    assert before_switch == [old]
    for seen in seen_by:
        assert all(read in (old, new) for read in seen)
        if new in seen:
            assert old not in seen[seen.index(new) :]
    assert any(new in seen for seen in seen_by)
    assert await _documents(pool, VIEW.name) == new


async def test_a_live_runner_and_busy_writers_lose_nothing_and_count_nothing_twice(
    store: EventStore,
    pool: asyncpg.Pool,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the view's runner running under its supervisor, and writers filing reports
    monkeypatch.setattr(workers, "RESTART_DELAY_SECONDS", 0.05)
    stop = asyncio.Event()
    supervised = asyncio.create_task(workers.run_views([VIEW], pool, database_url, stop))
    writing = asyncio.Event()

    async def writer() -> None:
        while not writing.is_set():
            await store.append([filed(berdiansk_strike()), filed(kursk_held_now())])
            await asyncio.sleep(0.005)

    writers = [asyncio.create_task(writer()) for _ in range(4)]
    await asyncio.sleep(0.3)

    # When the view is rebuilt in the middle of it all
    generation = await rebuild(pool, VIEW)
    await asyncio.sleep(0.3)
    writing.set()
    await asyncio.gather(*writers)

    # Then the runner met the retired generation, was restarted, and brought the new one to
    # the head of the log,
    await _serving_reaches(pool, store, [VIEW.name])
    stop.set()
    await asyncio.wait_for(supervised, timeout=10)
    assert caplog.text.count("no longer current") == 1
    assert generation.generation == 2
    assert [state for _, state, _ in await _generations(pool, VIEW.name)] == ["retired", "serving"]
    # with every report counted exactly once
    rows = await _documents(pool, VIEW.name)
    assert rows == await _folded(store, VIEW)
    filings = await pool.fetchval("SELECT count(*) FROM timeline_events")
    assert sum(row["live"] for row in rows.values()) == filings  # type: ignore[index]


# The supervised runners of every view, in a process of their own, until killed.
WORKER = """
import asyncio, sys
import asyncpg
from projections.registry import VIEWS
from projections.workers import run_views

async def main(url):
    pool = await asyncpg.create_pool(url, min_size=1, max_size=len(VIEWS))
    await run_views(list(VIEWS.values()), pool, url, asyncio.Event())

asyncio.run(main(sys.argv[1]))
"""


async def test_runners_in_another_process_follow_the_switch(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given every view's runner running in another process, and the seed article recorded
    await load_demo(ReportService(store))
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WORKER,
        database_url,
        cwd=REPOSITORY,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await _serving_reaches(pool, store, list(VIEWS))

        # When every view is rebuilt while a writer keeps filing
        async def file_reports(count: int) -> None:
            for _ in range(count):
                await store.append([filed(berdiansk_strike()), filed(kursk_held_now())])
                await asyncio.sleep(0.01)

        rebuilt, _ = await asyncio.gather(
            rebuild_views(pool, list(VIEWS.values())), file_reports(40)
        )
        await file_reports(5)  # after the switch: each runner's next batch meets it

        # Then the runners carried on from the new generations to the head of the log
        await _serving_reaches(pool, store, list(VIEWS))
    finally:
        worker.kill()
        _, stderr = await worker.communicate()
    assert {generation.generation for generation in rebuilt} == {2}
    for name, view in VIEWS.items():
        assert await _documents(pool, name) == await _folded(store, view), name
    # (each runner met the retired generation and was restarted by its supervisor)
    assert stderr.decode().count("no longer current") == len(VIEWS)


async def test_a_second_rebuild_of_the_same_view_is_refused_while_one_runs(
    pool: asyncpg.Pool,
) -> None:
    # Given a rebuild of the view under way (its lock held)
    async with pool.acquire() as connection:
        await connection.execute(
            "SELECT pg_advisory_lock(hashtext($1))", REBUILD_LOCK_NAMESPACE + VIEW.name
        )
        try:
            # When another one starts, then it is refused at once
            with pytest.raises(RebuildInProgress, match=VIEW.name):
                await rebuild(pool, VIEW)
        finally:
            await connection.execute("SELECT pg_advisory_unlock_all()")
    # and, once the first is done, the view can be rebuilt again (the refused one left no lock)
    await rebuild(pool, VIEW)
    await rebuild(pool, VIEW)


async def test_a_rebuild_holds_no_transaction_open_while_it_works(
    store: EventStore, pool: asyncpg.Pool, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a server that ends sessions idle in a transaction for 50 ms
    await store.append([filed(berdiansk_strike())])
    strict = await asyncpg.create_pool(
        database_url,
        min_size=2,
        max_size=4,
        server_settings={"idle_in_transaction_session_timeout": "50"},
    )
    # and a rebuild slowed so that it holds its lock for longer than that
    build_and_switch = rebuilding._build_and_switch

    async def slowly(*args: Any, **kwargs: Any) -> tuple[list[Generation], list[ViewState]]:
        await asyncio.sleep(0.2)
        return await build_and_switch(*args, **kwargs)

    monkeypatch.setattr(rebuilding, "_build_and_switch", slowly)
    try:
        # When it runs, then it completes
        (generation,) = await rebuild_views(strict, [VIEW])
        assert generation.generation == 2
        # and no rebuild lock is left behind on the pooled connections
        held = await pool.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )
        assert held == 0
    finally:
        await strict.close()


async def test_what_an_interrupted_rebuild_left_is_retired_and_deleted_by_the_next(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given a rebuild that died after writing part of generation 2
    await store.append([filed(berdiansk_strike())])
    await pool.execute(
        "INSERT INTO projection_generations (view, generation, state) VALUES "
        "($1, 1, 'serving'), ($1, 2, 'building')",
        VIEW.name,
    )
    await pool.execute(
        "INSERT INTO view_rows (view, generation, key, doc, position) "
        "VALUES ($1, 2, 'strike', '{\"half\": \"written\"}', 0)",
        VIEW.name,
    )

    # When the view is rebuilt again
    generation = await rebuild(pool, VIEW)

    # Then generation 3 serves, and nothing of generations 1 and 2 is left
    assert generation.generation == 3
    assert [state for _, state, _ in await _generations(pool, VIEW.name)] == [
        "retired",
        "retired",
        "serving",
    ]
    assert set(await _row_counts(pool, VIEW.name)) == {3}
    assert await _documents(pool, VIEW.name) == await _folded(store, VIEW)


class Interrupted(BaseException):
    """The rebuilding process stopped half-way (Ctrl-C, a kill): not an error of one row,
    which the view would quarantine and go on."""


class InterruptedOnStrikes(ReportsByKindV2):
    """A new version whose rebuild is interrupted as it renders the strikes' row."""

    def render(self, key: str, reports: Sequence[Tracked], as_of: datetime | None) -> KindTallyV2:
        if key == "strike":
            raise Interrupted("stopped while rendering strikes")
        return super().render(key, reports, as_of)


async def test_a_rebuild_that_fails_leaves_the_old_generation_serving(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given the view serving the seed article's reports
    await load_demo(ReportService(store))
    async with running(ProjectionRunner(VIEW, pool, database_url)):
        await _serving_reaches(pool, store, [VIEW.name])
    served = await _documents(pool, VIEW.name)

    # When a rebuild under a new version stops half-way through writing its rows
    with pytest.raises(Interrupted, match="rendering strikes"):
        await rebuild(pool, InterruptedOnStrikes())

    # Then the old generation still serves, as it was
    assert await _documents(pool, VIEW.name) == served
    assert [state for _, state, _ in await _generations(pool, VIEW.name)] == [
        "serving",
        "building",
    ]
    # and the next rebuild retires what the failed one left
    await rebuild(pool, VIEW)
    assert set(await _row_counts(pool, VIEW.name)) == {3}
    assert await _documents(pool, VIEW.name) == await _folded(store, VIEW)
    assert gc.isenabled()


async def test_a_rebuilt_timeline_lies_in_the_table_in_the_order_its_pages_walk(
    pool: asyncpg.Pool, database_url: str
) -> None:
    # Given a generated war of 3,000 events, its reports filed in no order of occurrence
    await load_log(database_url, events=3_000)

    # When the timeline is rebuilt
    await rebuild_views(pool, [VIEWS["timeline"]])

    # Then its rows were written in the order a page walks (occurrence, then reporting),
    # not in the order of their keys (random report ids): a page reads a few pages of the
    # table, not one per row
    # (written by two streams at once, a slice each in turn: sorted runs, interleaved)
    stored = await pool.fetch(
        "SELECT occurred_at, report_id::text AS key FROM timeline_entries ORDER BY ctid"
    )
    assert len(stored) > 1_000
    assert _share_in_order([row["occurred_at"] for row in stored]) > 0.9
    assert _share_in_order([row["key"] for row in stored]) < 0.6


def _share_in_order(values: Sequence[Any]) -> float:
    """The share of neighbours in non-decreasing order: about a half for values in no order."""
    in_order: int = sum(a <= b for a, b in itertools.pairwise(values))
    return in_order / (len(values) - 1)
