"""Views rebuilt in several processes at once: the same rows, versions and replaced rows as a
rebuild in one process; a view another rebuild holds refuses before any process starts; a
process that fails fails the call and leaves its views serving what they served; a process
whose starter is gone stops."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator

import asyncpg
import pytest

from application.reports import ReportService
from bench._generated_war import load_log
from projections.rebuild import REBUILD_LOCK_NAMESPACE, RebuildInProgress, rebuild_views
from projections.rebuild_processes import RebuildFailed, rebuild_in_processes
from projections.registry import VIEWS
from seed.demo import load_demo
from store.event_store import EventStore
from store.settings import DATABASE_URL_VARIABLE, with_database

SERVING = "SELECT view, generation, position FROM projection_generations WHERE state = 'serving'"
# What a rebuild wrote, without the generation numbers, which differ from one rebuild to the
# next: every view's rows, the timeline's entries and replaced rows, the reports' versions.
WRITTEN = {
    "rows": """
        SELECT r.view, r.key, r.doc::text FROM view_rows r JOIN projection_generations g
        ON g.view = r.view AND g.generation = r.generation AND g.state = 'serving'
        ORDER BY 1, 2""",
    "timeline": """
        SELECT e.report_id, e.doc, e.changed_at FROM timeline_entries e
        JOIN projection_generations g ON g.generation = e.generation
            AND g.view = 'timeline' AND g.state = 'serving'
        ORDER BY 1""",
    "replaced": """
        SELECT s.report_id, s.doc, s.changed_at, s.to_position FROM timeline_superseded s
        JOIN projection_generations g ON g.generation = s.generation
            AND g.view = 'timeline' AND g.state = 'serving'
        ORDER BY 1, 3""",
    "versions": """
        SELECT v.view, v.key, v.grp, v.class, v.occurred_at, v.reported_at, v.filed_position,
            v.report_id, v.from_position, v.to_position, v.counts_from, v.rank, v.piece
        FROM report_versions v JOIN projection_generations g
        ON g.view = v.view AND g.generation = v.generation AND g.state = 'serving'
        ORDER BY 1, 2, 8, 9""",
}
LEFT_BEHIND = """
SELECT (SELECT count(*) FROM view_rows r JOIN projection_generations g
        ON g.view = r.view AND g.generation = r.generation AND g.state <> 'serving')
    + (SELECT count(*) FROM report_versions v JOIN projection_generations g
        ON g.view = v.view AND g.generation = v.generation AND g.state <> 'serving')
"""


async def _written(pool: asyncpg.Pool) -> dict[str, list[tuple[object, ...]]]:
    return {name: [tuple(row) for row in await pool.fetch(sql)] for name, sql in WRITTEN.items()}


async def _serving(pool: asyncpg.Pool) -> dict[str, tuple[int, int]]:
    return {row["view"]: (row["generation"], row["position"]) for row in await pool.fetch(SERVING)}


async def test_views_rebuilt_in_two_processes_hold_what_one_process_writes(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given a generated war of 3,000 events (corroborations, disputes, corrections and
    # retractions among them), then the seed article's reports, all rebuilt in this process
    await load_log(database_url, events=3_000)
    await load_demo(ReportService(store))
    head = await store.position()
    await rebuild_views(pool, list(VIEWS.values()))
    in_one = await _written(pool)

    # When every view is rebuilt again, split over two processes
    generations = await rebuild_in_processes(
        pool, database_url, list(VIEWS.values()), processes=2, from_events=0
    )

    # Then each view serves a new generation at the head, in the order asked
    assert [g.view for g in generations] == list(VIEWS)
    assert await _serving(pool) == dict.fromkeys(VIEWS, (3, head))
    assert {g.view: (g.generation, g.position) for g in generations} == await _serving(pool)
    # holding exactly what the rebuild in one process wrote, history included
    in_two = await _written(pool)
    assert {name: len(rows) for name, rows in in_two.items()} == {
        name: len(rows) for name, rows in in_one.items()
    }
    assert all(in_one.values())
    assert in_two == in_one
    # and the rows of the generations they replaced are gone
    assert await pool.fetchval(LEFT_BEHIND) == 0


async def test_a_view_another_rebuild_holds_refuses_before_any_process_starts(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given the seed article, every view rebuilt, and the timeline being rebuilt elsewhere
    await load_demo(ReportService(store))
    await rebuild_views(pool, list(VIEWS.values()))
    before = await _serving(pool)
    async with pool.acquire() as elsewhere:
        await elsewhere.execute(
            "SELECT pg_advisory_lock(hashtext($1))", REBUILD_LOCK_NAMESPACE + "timeline"
        )
        try:
            # When every view is to be rebuilt in processes, then it is refused at once
            with pytest.raises(RebuildInProgress) as refused:
                await rebuild_in_processes(
                    pool, database_url, list(VIEWS.values()), processes=2, from_events=0
                )
        finally:
            await elsewhere.execute("SELECT pg_advisory_unlock_all()")
    assert refused.value.view == "timeline"
    # and no view was rebuilt, not even those nobody else held
    assert await _serving(pool) == before


async def test_a_process_that_cannot_rebuild_fails_the_call_and_its_views_keep_serving(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given the seed article and every view rebuilt
    await load_demo(ReportService(store))
    await rebuild_views(pool, list(VIEWS.values()))
    before = await _serving(pool)

    # When the processes are sent to a database that is not there
    nowhere = with_database(database_url, "timeline_no_such_database")
    with pytest.raises(RebuildFailed) as failed:
        await rebuild_in_processes(
            pool, nowhere, [VIEWS["holdings"], VIEWS["timeline"]], processes=2, from_events=0
        )

    # Then the call fails naming a view and the reason, and every view serves what it did
    assert "the rebuild of" in str(failed.value)
    assert "timeline_no_such_database" in str(failed.value)
    assert await _serving(pool) == before
    # and the rebuild locks were let go: the next rebuild goes ahead
    rebuilt = await rebuild_in_processes(
        pool, database_url, [VIEWS["holdings"], VIEWS["timeline"]], processes=2, from_events=0
    )
    assert [(g.view, g.generation) for g in rebuilt] == [("holdings", 3), ("timeline", 3)]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that takes connections and never answers: a database that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


async def test_a_rebuild_process_whose_starter_is_gone_stops(silent_server: int) -> None:
    # Given a rebuild process started on a database that hangs
    url = f"postgresql://timeline@127.0.0.1:{silent_server}/timeline"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "projections.rebuild_processes",
        "holdings",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, DATABASE_URL_VARIABLE: url},
    )
    assert process.stdin is not None
    try:
        # When the process that started it is gone (its end of the pipe closes)
        process.stdin.close()
        # Then it stops at once, without waiting for the database's connect timeout
        async with asyncio.timeout(4):
            assert await process.wait() == 3
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
