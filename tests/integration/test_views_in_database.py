"""Every registered view, kept by its runner in PostgreSQL, holds what the pure fold gives;
and the seed article's figures come out of the views."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec

from application.reports import ReportService
from projections.core import fold, render_all
from projections.registry import VIEWS
from projections.row_stores import read_rows
from projections.workers import run_views
from seed.demo import load_demo
from store.event_store import EventStore


async def _project_everything(pool: asyncpg.Pool, database_url: str, store: EventStore) -> None:
    stop = asyncio.Event()
    workers = asyncio.create_task(run_views(list(VIEWS.values()), pool, database_url, stop))
    head = await store.position()
    async with asyncio.timeout(20):
        while True:
            positions = await pool.fetch(
                "SELECT view, position FROM projection_generations WHERE state = 'serving'"
            )
            if len(positions) == len(VIEWS) and all(row["position"] == head for row in positions):
                break
            await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(workers, timeout=10)


def _documents(rows: list[tuple[str, str]]) -> dict[str, Any]:
    return {key: msgspec.json.decode(doc) for key, doc in rows}


async def test_every_view_in_the_database_equals_the_pure_fold(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given the seed article recorded and every runner caught up
    await load_demo(ReportService(store))
    await _project_everything(pool, database_url, store)
    log = await store.read_log(limit=10_000)

    # Then each view's rows are exactly the fold's rows
    for name, view in VIEWS.items():
        state, _ = fold(view, log)
        expected = {
            key: msgspec.json.decode(msgspec.json.encode(row))
            for key, row in render_all(view, state).items()
        }
        assert _documents(await read_rows(pool, name)) == expected, name


async def test_the_seed_articles_figures_come_out_of_the_views(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    await load_demo(ReportService(store))
    await _project_everything(pool, database_url, store)

    holdings = _documents(await read_rows(pool, "holdings"))["kursk-oblast/ukraine"]
    assert holdings["current"]["area"]["value"] == 800
    assert holdings["current"]["area"]["qualifier"] == "about"
    assert holdings["peak"]["area"]["value"] == 1376
    assert holdings["share_lost_from_peak"]["low"] == 40
    assert holdings["share_lost_from_peak"]["qualifier"] == "more_than"
    assert holdings["current"]["verification"] == "unverified"

    damage = _documents(await read_rows(pool, "damage"))
    ports = damage["ua/port-infrastructure-facilities/russia"]["totals_by_source"]
    assert [t["count"]["value"] for t in ports] == [321]

    forces = _documents(await read_rows(pool, "forces"))
    assert forces["russia/ukraine"]["strength"]["troops"]["value"] == 575_000
    assert forces["russia/ukraine"]["target"]["troops"]["value"] == 690_000
    north_koreans = forces["north-korea/kursk-oblast"]["deployment"]
    assert north_koreans["troops"]["value"] == 11_000
    assert "neither_confirmed_nor_denied" in [c["stance"] for c in north_koreans["caveats"]]

    front = _documents(await read_rows(pool, "front"))["kurakhove/russia"]
    assert (front["rate"]["low"], front["rate"]["high"]) == (200, 300)

    # The histories, a row per key and day: the 1,376 km² peak and the 800 km² now.
    series = _documents(await read_rows(pool, "holdings-series"))
    kursk = {key: row for key, row in series.items() if key.startswith("kursk-oblast/ukraine/")}
    points = [point for _, row in sorted(kursk.items()) for point in row["points"]]
    assert [point["area"]["value"] for point in points] == [1376, 800]
    assert all(key.endswith("/" + row["day"]) for key, row in kursk.items())
    history = _documents(await read_rows(pool, "forces-history"))
    deployed = [
        deployment["troops"]["value"]
        for key, row in history.items()
        if key.startswith("north-korea/kursk-oblast/")
        for deployment in row["deployments"]
    ]
    assert deployed == [11_000]

    timeline = _documents(await read_rows(pool, "timeline"))
    assert len(timeline) == 14
