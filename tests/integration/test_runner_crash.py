"""The crash proof: a projection worker SIGKILLed part-way through the log, even right before
it commits a batch, leaves every view's rows exactly as its stored position says; a new
runner then brings each view to a full rebuild's rows, nothing counted twice or missed.

The worker runs in a process of its own (tests/integration/crash_worker.py) so that the kill
is real: no finally blocks, no closing connections, the server finds the sockets gone.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from domain.attribution import Attribution, Side
from domain.claims import DamageTally, TerritoryControl
from domain.events import DomainEvent
from domain.occurrence import Day, Interval, Month
from domain.quantities import Unit, about, exactly
from domain.recorded import RecordedEvent
from domain.report import Report, correct, corroborate, dispute, evolve, file_report, retract
from projections.core import fold, render_all
from projections.registry import VIEWS
from projections.runner import ProjectionRunner
from store.event_store import EventStore
from tests.projection_support import demo_events
from tests.seed_values import (
    GENERAL_STAFF_VIA_REUTERS,
    INSTITUTE_FOR_THE_STUDY_OF_WAR,
    PRESIDENT_ZELENSKIY,
    RUSSIAN_DEFENCE_MINISTRY,
    berdiansk_strike,
    filed,
)

REPOSITORY = Path(__file__).resolve().parents[2]
EVENTS = 3_000
APPEND_BATCH = 50
WORKER_BATCH = 10  # small batches: many commits, so a kill lands between or inside them
ARTICLE_DAY = Day(on=date(2024, 11, 23))
REGIONS = {
    "Kursk Oblast": "RU",
    "Donetsk Oblast": "UA",
    "Kharkiv Oblast": "UA",
    "Zaporizhzhia Oblast": "UA",
}
OBLAST_OFFICIALS = Attribution(source="Zaporizhzhia regional administration", side=Side.UKRAINE)

SERVING = "SELECT view, position FROM projection_generations WHERE state = 'serving'"
SERVING_ROWS = """
SELECT r.view, r.key, r.doc::text FROM view_rows r
JOIN projection_generations g ON g.view = r.view AND g.generation = r.generation
WHERE g.state = 'serving'
UNION ALL
SELECT 'timeline', e.report_id::text, e.doc FROM timeline_entries e
JOIN projection_generations g ON g.view = 'timeline' AND g.generation = e.generation
WHERE g.state = 'serving'
"""


def _territory(rng: random.Random) -> TerritoryControl:
    region = rng.choice(sorted(REGIONS))
    return TerritoryControl(
        actor=rng.choice(("Ukraine", "Russia")),
        region=region,
        country=REGIONS[region],
        area=about(rng.randrange(50, 1_400), Unit.KM2),
    )


def _tally(rng: random.Random) -> DamageTally:
    return DamageTally(
        category=rng.choice(("port infrastructure facilities", "foreign merchant ships")),
        count=exactly(rng.randrange(20, 400), Unit.FACILITIES),
        responsible="Russia",
        country="UA",
    )


def _filing(rng: random.Random) -> DomainEvent:
    """A territory claim, a damage tally or a strike, like the article's."""
    kind = rng.randrange(3)
    if kind == 0:
        return file_report(
            claim=_territory(rng),
            attribution=GENERAL_STAFF_VIA_REUTERS,
            occurred=Day(on=date(2024, 8, 6) + timedelta(days=rng.randrange(109))),
            reported=ARTICLE_DAY,
        )
    if kind == 1:
        return file_report(
            claim=_tally(rng),
            attribution=rng.choice((PRESIDENT_ZELENSKIY, OBLAST_OFFICIALS)),
            occurred=Interval(start=Month(year=2023, month=7)),
            reported=ARTICLE_DAY,
        )
    return filed(berdiansk_strike())


def _follow_up(report: Report, rng: random.Random) -> DomainEvent:
    """Whatever happens to a report later: corroborated, disputed, corrected (a territory
    claim may move to another region, so its row changes key) or retracted."""
    match rng.randrange(4):
        case 0:
            return corroborate(report, by=INSTITUTE_FOR_THE_STUDY_OF_WAR)
        case 1:
            return dispute(report, by=RUSSIAN_DEFENCE_MINISTRY, reason="says otherwise")
        case 2 if isinstance(report.claim, TerritoryControl):
            return correct(report, claim=_territory(rng), reason="the source revised it")
        case 2 if isinstance(report.claim, DamageTally):
            return correct(report, claim=_tally(rng), reason="the source recounted")
        case _:
            return retract(report, reason="the source withdrew it")


def _a_long_war(rng: random.Random) -> Iterator[list[DomainEvent]]:
    """The demo, then filings and their follow-ups, in appends of APPEND_BATCH events."""
    events: list[DomainEvent] = list(demo_events())
    live: dict[UUID, Report] = {}
    while len(events) < EVENTS:
        if live and rng.random() < 0.3:
            report = live[rng.choice(list(live))]
            event = _follow_up(report, rng)
        else:
            event = _filing(rng)
            report = None
        assert isinstance(event, DomainEvent)
        followed = evolve(report, event)  # type: ignore[arg-type]
        if followed.is_retracted:
            live.pop(followed.id, None)
        else:
            live[followed.id] = followed
        events.append(event)
    for start in range(0, len(events), APPEND_BATCH):
        yield events[start : start + APPEND_BATCH]


async def _start_worker(database_url: str, *die_at_commit: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.crash_worker",
        database_url,
        str(WORKER_BATCH),
        *map(str, die_at_commit),
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
    )


async def _positions(pool: asyncpg.Pool) -> dict[str, int]:
    return {row["view"]: row["position"] for row in await pool.fetch(SERVING)}


async def _kill_once_past(pool: asyncpg.Pool, worker: asyncio.subprocess.Process, at: int) -> None:
    """SIGKILL the worker as soon as some view has folded past position `at`."""
    async with asyncio.timeout(15):
        while max((await _positions(pool)).values(), default=0) <= at:
            assert worker.returncode is None, "the worker died on its own"
            await asyncio.sleep(0.002)
    worker.send_signal(signal.SIGKILL)
    assert await worker.wait() == -signal.SIGKILL


def _documents(view: str, log: list[RecordedEvent]) -> dict[str, Any]:
    """A full rebuild's rows of `view` from `log`, as decoded JSON."""
    state, _ = fold(VIEWS[view], log)
    return {
        key: msgspec.json.decode(msgspec.json.encode(row))
        for key, row in render_all(VIEWS[view], state).items()
    }


async def _stored(pool: asyncpg.Pool) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """Every view's position and rows, from one snapshot (a commit may land meanwhile)."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        positions = {row["view"]: row["position"] for row in await connection.fetch(SERVING)}
        rows: dict[str, dict[str, Any]] = {view: {} for view in positions}
        for view, key, doc in await connection.fetch(SERVING_ROWS):
            rows[view][key] = msgspec.json.decode(doc)
    return positions, rows


async def _assert_rows_are_the_fold_up_to_the_stored_position(
    pool: asyncpg.Pool, log: list[RecordedEvent]
) -> dict[str, int]:
    positions, rows = await _stored(pool)
    for view, position in positions.items():
        assert rows[view] == _documents(view, log[:position]), (view, position)
    return positions


async def test_a_worker_killed_mid_batch_leaves_nothing_counted_twice_or_missed(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given a log of a few thousand events: the demo, then filings, corrections that move
    # rows between keys, retractions that remove them
    for batch in _a_long_war(random.Random(20241123)):
        await store.append(batch)
    log = await store.read_log(limit=1_000_000)
    head = log[-1].position
    assert head == len(log) >= EVENTS

    # When a worker is SIGKILLed at three points part-way through the log
    for fraction in (0.1, 0.3, 0.5):
        worker = await _start_worker(database_url)
        await _kill_once_past(pool, worker, at=int(head * fraction))
        # Then each view's rows are exactly the fold of the log up to its stored position
        positions = await _assert_rows_are_the_fold_up_to_the_stored_position(pool, log)
        assert any(0 < position < head for position in positions.values()), positions

    # When one dies at a batch's COMMIT, after its rows and position were written
    worker = await _start_worker(database_url, 25)
    assert worker.stdout is not None
    line = (await asyncio.wait_for(worker.stdout.readline(), timeout=15)).decode()
    assert await worker.wait() == -signal.SIGKILL
    _, dying_view, from_position, to_position = line.split()
    # Then that batch never happened: the view stands where the batch started
    positions = await _assert_rows_are_the_fold_up_to_the_stored_position(pool, log)
    assert positions[dying_view] == int(from_position) < int(to_position)

    # When a new runner per view runs until it reaches the head
    stop = asyncio.Event()
    runners = [
        ProjectionRunner(view, pool, database_url, poll_interval=0.05) for view in VIEWS.values()
    ]
    tasks = [asyncio.create_task(runner.run(stop)) for runner in runners]
    try:
        async with asyncio.timeout(15):
            while True:
                if all(r.generation is not None and r.generation.position == head for r in runners):
                    break
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)

    # Then every view equals a full rebuild, and stands at the head
    positions, rows = await _stored(pool)
    assert positions == dict.fromkeys(VIEWS, head)
    for view in VIEWS:
        assert rows[view] == _documents(view, log), view
    reports_filed = sum(1 for recorded in log if recorded.event.originator_version == 1)
    assert len(rows["timeline"]) == reports_filed
