"""Poison events written straight into the log: every view still reaches the head with every
other event in it, the quarantine lists exactly the poison, and a rebuild and a replay agree
with the live views."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

import asyncpg
import msgspec
import pytest

from application.reports import ReportService
from domain.claims import Claim
from domain.recorded import LogEntry
from domain.report import Report
from projections import quarantine
from projections.core import View, fold, render_all
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.replay import replay
from projections.row_stores import read_rows, row_store
from projections.runner import ProjectionRunner
from projections.status import view_statuses
from projections.tracked import Tracked
from projections.workers import run_views
from seed.demo import load_demo
from store.event_store import EventStore
from tests.poison import (
    append_raw,
    berdiansk_strike_ending_in_month_13,
    corroborated,
    kursk_with_nul_in_region,
    port_damage_with_nul_in_category,
    unreadable_filing,
    whole_log,
)
from tests.seed_values import kursk_at_peak

_encoder = msgspec.json.Encoder()


async def _all_at_head(pool: asyncpg.Pool, store: EventStore, within: float = 30) -> None:
    head = await store.position()
    deadline = asyncio.get_running_loop().time() + within
    while True:
        statuses = await view_statuses(pool, VIEWS)
        if all(status.position == head for status in statuses):
            return
        behind = {s.view: s.position for s in statuses if s.position != head}
        assert asyncio.get_running_loop().time() < deadline, f"behind {head}: {behind}"
        await asyncio.sleep(0.05)


def _folded_rows(view: View, log: Sequence[LogEntry]) -> list[tuple[str, str]]:
    state, _ = fold(view, log)
    stored = row_store(view.name)
    return [(k, stored.document(row).decode()) for k, row in render_all(view, state).items()]


async def _open(pool: asyncpg.Pool) -> set[tuple[str, int, str | None]]:
    return {(e.view, e.position, e.key) for e in await quarantine.listed(pool)}


async def test_poison_events_are_quarantined_and_every_view_reaches_the_head(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given the seed article's reports, then four poison events and what follows them:
    # "Kursk\0Oblast" (then corroborated), a NUL in a damage category, a Berdiansk strike
    # ending in month 13, a filing no code can decode, and a good 1,376 km² peak after all
    await load_demo(ReportService(store))
    nul_region = kursk_with_nul_in_region()
    strike = berdiansk_strike_ending_in_month_13()
    nul_region_at, nul_category_at, strike_at, unreadable_at = await append_raw(
        pool, [nul_region, port_damage_with_nul_in_category(), strike, unreadable_filing()]
    )
    (corroboration_at,) = await append_raw(pool, [corroborated(nul_region.report_id, 2)])
    await ReportService(store).file(kursk_at_peak())

    # When every view's runner runs
    stop = asyncio.Event()
    workers = asyncio.create_task(run_views(list(VIEWS.values()), pool, database_url, stop))
    try:
        await _all_at_head(pool, store)
    finally:
        stop.set()
        await asyncio.wait_for(workers, timeout=10)

    # Then the quarantine lists exactly the poison, each for the views it poisons
    assert await _open(pool) == {
        ("holdings", nul_region_at, None),
        ("holdings-series", nul_region_at, None),
        ("damage", nul_category_at, None),
        ("timeline", strike_at, str(strike.report_id)),
        *((name, unreadable_at, None) for name in VIEWS),
    }
    # ... and every view holds every other event: its rows are those of the log without
    # what it skipped (for holdings, the corroboration of a report it never followed too)
    log = await whole_log(pool)
    skipped = {
        "holdings": {nul_region_at, corroboration_at},
        "holdings-series": {nul_region_at, corroboration_at},
        "damage": {nul_category_at},
        "timeline": {strike_at},
    }
    for name, view in VIEWS.items():
        gone = skipped.get(name, set()) | {unreadable_at}
        clean = [entry for entry in log if entry.position not in gone]
        assert await read_rows(pool, name) == _folded_rows(view, clean), name
    # ... the peak filed last is in holdings, and the poison strike is on the strikes map
    holdings = dict(await read_rows(pool, "holdings"))
    assert "1376" in holdings["kursk-oblast/ukraine"]
    assert str(strike.report_id) in dict(await read_rows(pool, "strikes"))

    # And a replay of the log gives the live rows, byte for byte
    for name in VIEWS:
        answer = await replay(pool, name)
        stored = row_store(name)
        replayed = [(row.key, stored.document(row.row).decode()) for row in answer.rows]
        assert replayed == await read_rows(pool, name), name

    # And a rebuild of every view gives the same rows and the same quarantine
    live = {name: await read_rows(pool, name) for name in VIEWS}
    listed_before = await _open(pool)
    await rebuild_views(pool, list(VIEWS.values()))
    assert {name: await read_rows(pool, name) for name in VIEWS} == live
    assert await _open(pool) == listed_before
    assert (await view_statuses(pool, ["holdings"]))[0].quarantined == 2


class Ports(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    sources: list[str]


class SourcesByKind:
    """A view whose rows carry each report's source as given: a source holding half of a
    surrogate pair is a row the encoder (and so the database) refuses."""

    name: ClassVar[str] = "test-sources-by-kind"

    def follows(self, claim: Claim) -> bool:
        return True

    def keys(self, report: Report) -> tuple[str, ...]:
        return (report.kind,)

    def render(self, key: str, reports: Sequence[Tracked], as_of: datetime | None) -> Ports:
        sources = [t.report.attribution.source for t in reports]
        if any("Balitsky" in source for source in sources):
            sources = [source.replace("Balitsky", "Balitsky\ud800") for source in sources]
        return Ports(key=key, sources=sources)


async def test_a_row_the_database_refuses_is_quarantined_and_the_rest_of_the_batch_written(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given the seed article, where Governor Balitsky's strike gives a row that cannot be
    # stored, in one batch with every other kind's row
    await load_demo(ReportService(store))
    view: View = SourcesByKind()
    runner = ProjectionRunner(view, pool, database_url, batch_size=1000)

    # When the runner runs
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        head = await store.position()
        for _ in range(200):
            if runner.generation is not None and runner.generation.position == head:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    # Then it reached the head, with every other kind's row written, and the strike row
    # quarantined at the strike's position
    assert runner.generation is not None
    assert runner.generation.position == head
    rows = dict(await read_rows(pool, view.name))
    assert "strike" not in rows
    assert {"territory_control", "damage_tally"} <= set(rows)
    (entry,) = await quarantine.listed(pool, view.name)
    assert entry.key == "strike"
    assert "surrogates not allowed" in entry.error

    # And a rebuild leaves out the same row, and quarantines the same
    await rebuild_views(pool, [view])
    assert dict(await read_rows(pool, view.name)) == rows
    assert await quarantine.listed(pool, view.name) == [entry]


@pytest.mark.parametrize("name", ["holdings", "timeline"])
async def test_an_unreadable_event_is_skipped_by_a_replay_at_any_position(
    pool: asyncpg.Pool, store: EventStore, name: str
) -> None:
    # Given the demo with a filing no code can decode in the middle of it
    await load_demo(ReportService(store))
    (unreadable_at,) = await append_raw(pool, [unreadable_filing()])
    await ReportService(store).file(kursk_at_peak())

    # When the view is replayed as known at the unreadable event, and at the head
    at_poison = await replay(pool, name, position=unreadable_at)
    at_head = await replay(pool, name)

    # Then both answer, and the poison changed nothing
    before = await replay(pool, name, position=unreadable_at - 1)
    assert at_poison.position == unreadable_at
    assert at_poison.rows == before.rows
    assert at_head.position == await store.position()
