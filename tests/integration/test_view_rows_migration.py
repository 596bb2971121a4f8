"""Migrations of the view rows.

0005: rows kept as the views' JSON text, no longer parsed into jsonb. Rows written before it
read back the same after it, rows written after it are stored byte for byte as the view
encoded them, and the downgrade turns them back into jsonb.

0006: holdings, forces and front changed shape, so their rows and generations go (the other
views' stay), and the runners fold them anew from the log.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import asyncpg
import msgspec
import pytest

from application.reports import ReportService
from projections.core import fold, render_all
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.row_stores import ROW_STORES, read_rows, row_store
from seed.demo import load_demo
from store import migrate
from store.event_store import EventStore
from tests.conftest import scratch_database
from tests.integration.old_schemas import append_before_scopes, demo_events, run_on

QUARANTINE = importlib.import_module("migrations.versions.0007_quarantine")
VERSIONS = importlib.import_module("migrations.versions.0011_report_versions")
PIECES = importlib.import_module("migrations.versions.0012_report_pieces")
SUPERSEDED = importlib.import_module("migrations.versions.0016_own_row_versions")
# These migrations are about view_rows: the timeline has a table of its own since 0010.
IN_VIEW_ROWS = {name: view for name, view in VIEWS.items() if name not in ROW_STORES}
# Views given a generation, a row and a version before 0012 and 0013 run.
BUILT_BEFORE = ("holdings", "holdings-series", "forces-history", "front-series", "damage")
HISTORIES = ("holdings-series", "forces-history", "front-series")
_T = TypeVar("_T")


def before_quarantine(
    action: Callable[[asyncpg.Pool], Awaitable[_T]],
) -> Callable[[asyncpg.Pool], Awaitable[_T]]:
    """`action` by today's code on a schema from before 0007: the code records what the
    views quarantine and the versions of the reports behind the aggregate views (0011, with
    their pieces since 0012), so
    those tables stand in while it runs, and go after."""

    async def run(pool: asyncpg.Pool) -> _T:
        await pool.execute(QUARANTINE.CREATE_QUARANTINE)
        await pool.execute(VERSIONS.CREATE_VERSIONS)
        await pool.execute(PIECES.ADD_PIECE)
        try:
            return await action(pool)
        finally:
            await pool.execute("DROP TABLE projection_quarantine, report_versions")

    return run


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, "timeline_test_rows", migrated=False) as url:
        yield url


async def _doc_type(pool: asyncpg.Pool) -> str:
    return str(
        await pool.fetchval(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'view_rows' AND column_name = 'doc'"
        )
    )


async def _rows(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    return {
        name: {key: msgspec.json.decode(doc) for key, doc in await read_rows(pool, name)}
        for name in IN_VIEW_ROWS
    }


def _demo_rebuilt(server_url: str) -> Callable[[asyncpg.Pool], Awaitable[dict[str, Any]]]:
    """The demo recorded as the code before 0008 did, and every view rebuilt."""
    events = demo_events(server_url)

    async def work(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
        await append_before_scopes(pool, events)
        await rebuild_views(pool, list(IN_VIEW_ROWS.values()))
        return await _rows(pool)

    return work


async def _stored_as_encoded(pool: asyncpg.Pool) -> bool:
    """Whether every stored row is exactly the bytes the view encodes for it."""
    log = await EventStore(pool).read_log(limit=10_000)
    for name, view in IN_VIEW_ROWS.items():
        state, _ = fold(view, log)
        rows = render_all(view, state)
        stored = row_store(name)
        expected = {key: stored.document(row).decode() for key, row in rows.items()}
        if dict(await read_rows(pool, name)) != expected:
            return False
    return True


def test_rows_survive_the_change_to_text_and_back(fresh_database: str, server_url: str) -> None:
    url = fresh_database
    # Given the demo's views written while rows were jsonb
    migrate.upgrade(url, "0004")
    # (the read query casts nothing, so it reads jsonb's own text as it did before)
    before = run_on(url, before_quarantine(_demo_rebuilt(server_url)))
    assert run_on(url, _doc_type) == "jsonb"

    # When the migration runs, the rows are text and say the same
    migrate.upgrade(url, "0005")
    assert run_on(url, _doc_type) == "text"
    assert run_on(url, _rows) == before

    # and rows written from then on are stored exactly as the views encode them
    run_on(url, before_quarantine(lambda pool: rebuild_views(pool, list(IN_VIEW_ROWS.values()))))
    assert run_on(url, _stored_as_encoded)

    # and the downgrade gives jsonb rows that still say the same
    migrate.downgrade(url, "0004")
    assert run_on(url, _doc_type) == "jsonb"
    assert run_on(url, _rows) == before


async def _views_with_generations(pool: asyncpg.Pool) -> set[str]:
    return {row[0] for row in await pool.fetch("SELECT DISTINCT view FROM projection_generations")}


def test_the_reshaped_views_start_over_and_the_runners_fold_them_again(
    fresh_database: str, server_url: str
) -> None:
    url = fresh_database
    # Given every view built before the views were reshaped
    migrate.upgrade(url, "0005")
    before = run_on(url, before_quarantine(_demo_rebuilt(server_url)))

    # When the migrations up to 0015 run (0016 starts the strikes over too: tested below)
    migrate.upgrade(url, "0015")

    # Then holdings, forces and front have no rows and no generation, the others keep theirs
    # (and so do damage and the histories, in 0011, to be built again with their reports'
    # versions)
    reshaped = {
        "holdings",
        "forces",
        "front",
        "damage",
        "holdings-series",
        "forces-history",
        "front-series",
    }
    assert run_on(url, _views_with_generations) == set(IN_VIEW_ROWS) - reshaped
    after = run_on(url, _rows)
    assert all(after[name] == {} for name in reshaped)
    assert {name: after[name] for name in set(IN_VIEW_ROWS) - reshaped} == {
        name: before[name] for name in set(IN_VIEW_ROWS) - reshaped
    }
    # and folding them again gives the rows they had
    run_on(url, lambda pool: rebuild_views(pool, [VIEWS[name] for name in sorted(reshaped)]))
    assert run_on(url, _rows) == before


async def _timeline_in_view_rows(pool: asyncpg.Pool) -> None:
    """The timeline as the code before 0010 kept it: rows in view_rows, a serving generation."""
    await pool.execute(
        "INSERT INTO projection_generations (view, generation, state, position) "
        "VALUES ('timeline', 1, 'serving', 3)"
    )
    await pool.execute(
        "INSERT INTO view_rows (view, generation, key, doc, position) "
        "VALUES ('timeline', 1, '5d1e5b4e-0000-4000-8000-000000000001', '{}', 3)"
    )


async def _timeline_stored(pool: asyncpg.Pool) -> tuple[int, int, int]:
    """The timeline's serving generations, its rows left in view_rows, and its entries."""
    return (
        await pool.fetchval(
            "SELECT count(*) FROM projection_generations "
            "WHERE view = 'timeline' AND state = 'serving'"
        ),
        await pool.fetchval("SELECT count(*) FROM view_rows WHERE view = 'timeline'"),
        await pool.fetchval("SELECT count(*) FROM timeline_entries"),
    )


def test_the_timeline_moves_to_its_own_table_and_is_folded_there_again(
    fresh_database: str,
) -> None:
    url = fresh_database
    # Given the demo recorded and the timeline kept in view_rows, as before 0010
    migrate.upgrade(url, "0009")
    run_on(url, _timeline_in_view_rows)

    # When the migration runs, the timeline starts over: no generation, nothing in view_rows
    migrate.upgrade(url, "0010")
    assert run_on(url, _timeline_stored) == (0, 0, 0)

    # and a rebuild folds the log into timeline_entries, a row per report
    async def rebuilt(pool: asyncpg.Pool) -> dict[str, Any]:
        await load_demo(ReportService(EventStore(pool)))
        # today's code keeps the rows the timeline replaced, and since when each entry
        # holds (0016), and the strikes' versions (0011): their tables stand in
        await pool.execute(VERSIONS.CREATE_VERSIONS)
        await pool.execute(PIECES.ADD_PIECE)
        await pool.execute("ALTER TABLE timeline_entries ADD COLUMN changed_at bigint")
        await pool.execute(SUPERSEDED.SUPERSEDED)
        try:
            await rebuild_views(pool, [VIEWS["timeline"]])
        finally:
            await pool.execute("DROP TABLE report_versions, timeline_superseded")
            await pool.execute("ALTER TABLE timeline_entries DROP COLUMN changed_at")
        return {key: msgspec.json.decode(doc) for key, doc in await read_rows(pool, "timeline")}

    rows = run_on(url, rebuilt)
    assert run_on(url, _timeline_stored) == (1, 0, len(rows))
    log = run_on(url, lambda pool: EventStore(pool).read_log(limit=10_000))
    state, _ = fold(VIEWS["timeline"], log)
    assert rows == {
        key: msgspec.json.decode(msgspec.json.encode(row))
        for key, row in render_all(VIEWS["timeline"], state).items()
    }

    # and the downgrade leaves the timeline to be folded into view_rows again
    migrate.downgrade(url, "0009")
    assert run_on(url, _views_with_generations) == set()


async def _kept_by(pool: asyncpg.Pool) -> dict[str, tuple[int, int, int]]:
    """Per view: its generations, rows and versions."""
    counts: dict[str, tuple[int, int, int]] = {}
    for view in BUILT_BEFORE:
        counts[view] = (
            await pool.fetchval(
                "SELECT count(*) FROM projection_generations WHERE view = $1", view
            ),
            await pool.fetchval("SELECT count(*) FROM view_rows WHERE view = $1", view),
            await pool.fetchval("SELECT count(*) FROM report_versions WHERE view = $1", view),
        )
    return counts


async def _built_at_0011(pool: asyncpg.Pool, only: tuple[str, ...] = BUILT_BEFORE) -> None:
    """A serving generation, a row and a version for holdings and each history, as 0011 left
    them (versions with no pieces), and for damage (which keeps none, as any other view)."""
    for view in only:
        await pool.execute(
            "INSERT INTO projection_generations (view, generation, state, position) "
            "VALUES ($1, 1, 'serving', 3)",
            view,
        )
        await pool.execute(
            "INSERT INTO view_rows (view, generation, key, doc, position) "
            "VALUES ($1, 1, 'kursk-oblast/ukraine', '{}', 3)",
            view,
        )
        await pool.execute(
            "INSERT INTO report_versions (view, generation, key, grp, class, occurred_at, "
            "reported_at, filed_position, report_id, from_position, to_position, counts_from) "
            "VALUES ($1, 1, 'kursk-oblast/ukraine', '', 1, now(), now(), 1, gen_random_uuid(), "
            "1, 9223372036854775807, now())",
            view,
        )


def test_the_histories_start_over_to_keep_their_reports_pieces(fresh_database: str) -> None:
    url = fresh_database
    # Given holdings and the three histories built at 0011, their versions without pieces
    migrate.upgrade(url, "0011")
    run_on(url, _built_at_0011)

    # When the migration runs
    migrate.upgrade(url, "0012")

    # Then the histories have no generation, rows or versions (their next runner builds them
    # again, pieces included), and holdings keeps everything
    assert run_on(url, _kept_by) == {
        "holdings": (1, 1, 1),
        "holdings-series": (0, 0, 0),
        "forces-history": (0, 0, 0),
        "front-series": (0, 0, 0),
        "damage": (1, 1, 1),
    }


def test_damage_starts_over_to_name_each_sources_latest_withdrawn_tally(
    fresh_database: str,
) -> None:
    url = fresh_database
    # Given holdings and damage built at 0012 (damage's withdrawn tallies in one group)
    migrate.upgrade(url, "0011")
    run_on(url, _built_at_0011)
    migrate.upgrade(url, "0012")

    # When the migration runs
    migrate.upgrade(url, "0013")

    # Then damage has no generation, rows or versions (its next runner builds it again),
    # and holdings keeps everything
    kept = run_on(url, _kept_by)
    assert (kept["damage"], kept["holdings"]) == ((0, 0, 0), (1, 1, 1))


def test_the_histories_start_over_to_keep_a_row_per_day(fresh_database: str) -> None:
    url = fresh_database
    # Given holdings and the three histories built at 0013 (their rows a month each)
    migrate.upgrade(url, "0011")
    run_on(url, _built_at_0011)
    migrate.upgrade(url, "0013")
    run_on(url, functools.partial(_built_at_0011, only=HISTORIES))

    # When the migration runs
    migrate.upgrade(url, "0014")

    # Then the histories have no generation, rows or versions (their next runner builds them
    # again, a row per day), and holdings keeps everything
    kept = run_on(url, _kept_by)
    assert {view: kept[view] for view in ("holdings", "forces-history")} == {
        "holdings": (1, 1, 1),
        "forces-history": (0, 0, 0),
    }
    assert kept["holdings-series"] == kept["front-series"] == (0, 0, 0)


def test_row_keys_compare_by_code_point_whatever_the_databases_collation(
    fresh_database: str,
) -> None:
    url = fresh_database
    # Given a database at 0014
    migrate.upgrade(url, "0014")

    # When the migration runs
    migrate.upgrade(url, "0015")

    # Then the rows' keys sort by code point, as Python sorts them, "/" before "0" (a page
    # of the rows under "kursk-oblast/ukraine" is the range up to "kursk-oblast/ukraine0"),
    # whatever the database's own collation (before: the database's)
    async def collation(pool: asyncpg.Pool) -> str | None:
        name: str | None = await pool.fetchval(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'view_rows' AND column_name = 'key'"
        )
        return name

    assert run_on(url, collation) == "C"


async def _kept_per_view(pool: asyncpg.Pool) -> dict[str, tuple[int, int, int]]:
    """Per view: its generations, its rows (the timeline's entries) and its versions (the
    rows the timeline replaced)."""
    return {
        name: (
            await pool.fetchval(
                "SELECT count(*) FROM projection_generations WHERE view = $1", name
            ),
            await pool.fetchval("SELECT count(*) FROM timeline_entries")
            if name == "timeline"
            else await pool.fetchval("SELECT count(*) FROM view_rows WHERE view = $1", name),
            await pool.fetchval("SELECT count(*) FROM timeline_superseded")
            if name == "timeline"
            else await pool.fetchval("SELECT count(*) FROM report_versions WHERE view = $1", name),
        )
        for name in VIEWS
    }


async def _kept_per_view_before_0016(pool: asyncpg.Pool) -> dict[str, tuple[int, int, int]]:
    return {
        name: (
            await pool.fetchval(
                "SELECT count(*) FROM projection_generations WHERE view = $1", name
            ),
            await pool.fetchval("SELECT count(*) FROM view_rows WHERE view = $1", name),
            await pool.fetchval("SELECT count(*) FROM report_versions WHERE view = $1", name),
        )
        for name in VIEWS
    }


def test_the_timeline_and_the_strikes_start_over_to_keep_their_reports_versions(
    fresh_database: str,
) -> None:
    url = fresh_database
    # Given the demo recorded and every view built at 0015, when the timeline and the
    # strikes kept no versions (today's code stands in for that code: the table of the
    # timeline's replaced rows is there for it, and goes after)
    migrate.upgrade(url, "0015")

    async def demo_built(pool: asyncpg.Pool) -> None:
        await load_demo(ReportService(EventStore(pool)))
        await pool.execute("ALTER TABLE timeline_entries ADD COLUMN changed_at bigint")
        await pool.execute(SUPERSEDED.SUPERSEDED)
        await rebuild_views(pool, list(VIEWS.values()))
        await pool.execute("DELETE FROM report_versions WHERE view IN ('timeline', 'strikes')")
        await pool.execute("DROP TABLE timeline_superseded")
        await pool.execute("ALTER TABLE timeline_entries DROP COLUMN changed_at")

    run_on(url, demo_built)
    before = {
        name: kept
        for name, kept in run_on(url, _kept_per_view_before_0016).items()
        if name != "timeline"
    }
    rows_before = run_on(url, _rows)

    # When the migration runs
    migrate.upgrade(url, "0016")

    # Then both start over (no generation, no row), the other views keep theirs
    after = run_on(url, _kept_per_view)
    assert after["timeline"] == after["strikes"] == (0, 0, 0)
    assert before["strikes"][0] >= 1  # built, serving
    assert {name: after[name] for name in VIEWS if name not in ("timeline", "strikes")} == {
        name: before[name] for name in VIEWS if name not in ("timeline", "strikes")
    }
    # and built again, they have their rows back; the strikes a version per event of their
    # reports, the timeline each row it replaced (an event that did not file a report)
    run_on(url, lambda pool: rebuild_views(pool, [VIEWS["timeline"], VIEWS["strikes"]]))
    again = run_on(url, _kept_per_view)
    assert run_on(url, _rows) == rows_before
    events = run_on(url, lambda pool: pool.fetchval("SELECT count(*) FROM timeline_events"))
    reports = run_on(
        url, lambda pool: pool.fetchval("SELECT count(DISTINCT originator_id) FROM timeline_events")
    )
    assert again["timeline"][1:] == (reports, events - reports)
    assert 0 < again["strikes"][2] < events
