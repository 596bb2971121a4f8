"""A history's day row lists the latest reports of its day, however many the day brings:
live, rebuilt, replayed and answered about the past alike, and a runner reads no more of
them than the row shows (projections/row_keys.py, DAY_POINTS; history.LatestOfItsDay)."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import pytest

from application.commands import RetractReport
from application.reports import ReportService
from domain.quantities import Unit, about
from projections.core import fold, render_all
from projections.history import LatestOfItsDay, pieced, put_together
from projections.past_answers import past_answer
from projections.past_pieces import PIECES_OF_KEYS
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.replay import encode_answer, replay
from projections.row_stores import read_rows
from store.event_store import EventStore
from tests.following import follow_to_head
from tests.seed_values import kursk_held_now

SHOWN = 3  # the day's latest reports a row lists, made small for the test
KEY = "kursk-oblast/ukraine/2024-11-23"
SERIES = VIEWS["holdings-series"]


def _claim(area: float) -> Any:
    filing = kursk_held_now()
    return msgspec.structs.replace(
        filing, claim=msgspec.structs.replace(filing.claim, area=about(area, Unit.KM2))
    )


def _areas(row: dict[str, Any]) -> list[float]:
    return [point["area"]["value"] for point in row["points"]]


async def _rows(pool: asyncpg.Pool) -> dict[str, Any]:
    return {key: msgspec.json.decode(doc) for key, doc in await read_rows(pool, SERIES.name)}


async def _folded(store: EventStore) -> dict[str, Any]:
    state, _ = fold(SERIES, await store.read_log(limit=1_000))
    return {
        key: msgspec.json.decode(msgspec.json.encode(row))
        for key, row in render_all(SERIES, state).items()
    }


@pytest.fixture
def few_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LatestOfItsDay, "day_points", SHOWN)


@pytest.mark.usefixtures("few_shown")
async def test_a_busy_day_lists_its_latest_reports_live_rebuilt_and_in_the_past_alike(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    service = ReportService(store)
    # Given six claims about Kursk on one day, the runner following them as they come
    filed = []
    for area in (801, 802, 803, 804, 805, 806):
        filed.append((await service.file(_claim(area))).events[0].report_id)
        if area % 2 == 0:
            await follow_to_head([SERIES], pool, database_url, batch_size=1)
    before_retraction = await store.position()
    # and the latest withdrawn
    await service.apply(filed[-1], RetractReport(reason="could not be confirmed"))
    await follow_to_head([SERIES], pool, database_url, batch_size=1)

    # Then the day's row lists the latest three reports: two standing, one withdrawn, and
    # says that earlier ones exist
    live = await _rows(pool)
    row = live[KEY]
    assert _areas(row) == [804, 805]
    assert len(row["retracted"]) == 1
    assert row["earlier_reports"] is True
    # and it is the row the fold draws, and a rebuild writes
    assert live == await _folded(store)
    await rebuild_views(pool, [SERIES])
    assert await _rows(pool) == live

    # And asked about the past, from its versions, it answers as the replay does
    for position in (before_retraction, await store.position()):
        from_versions = await past_answer(pool, SERIES.name, position=position)
        folded = await replay(pool, SERIES.name, position=position)
        assert encode_answer(from_versions) == encode_answer(folded), position
    answer = await past_answer(pool, SERIES.name, position=before_retraction)
    (past,) = (r for r in msgspec.to_builtins(answer)["rows"] if r["key"] == KEY)
    assert _areas(past["row"]) == [804, 805, 806]


@pytest.mark.usefixtures("few_shown")
async def test_a_runner_reads_only_the_pieces_a_busy_days_row_shows(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given ten claims about Kursk on one day, followed
    service = ReportService(store)
    for area in range(801, 811):
        await service.file(_claim(area))
    await follow_to_head([SERIES], pool, database_url)
    generation = await pool.fetchval(
        "SELECT generation FROM projection_generations WHERE view = $1 AND state = 'serving'",
        SERIES.name,
    )

    # When a runner's batch reads the pieces of that row
    pieces = await pool.fetch(
        PIECES_OF_KEYS,
        [SERIES.name],
        [generation],
        [KEY],
        await store.position(),
        None,
        [SHOWN + 1],
    )

    # Then it gets the latest four, in the fold's order: what the row shows, and one more
    # that says earlier reports exist
    areas = [msgspec.json.decode(row["piece"])["point"]["area"]["value"] for row in pieces]
    assert areas == [807, 808, 809, 810]

    # and putting the row together from every piece of the day (as a past answer reads
    # them) looks at those same four only: an earlier piece is never decoded
    every = await pool.fetch(
        "SELECT piece FROM report_versions WHERE view = $1 AND key = $2"
        " ORDER BY occurred_at, reported_at, filed_position",
        SERIES.name,
        KEY,
    )
    assert len(every) == 10
    latest = [row["piece"] for row in pieces]
    series = pieced(SERIES)
    assert series is not None
    whole = put_together(series, KEY, [row["piece"] for row in every])
    assert whole is not None
    assert put_together(series, KEY, [b"not a piece", *latest]) == whole
