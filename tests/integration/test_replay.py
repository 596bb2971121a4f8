"""As-of answers from the stored log: given the seed article recorded, and later a correction
and a retraction, when an auditor asks what a view showed at some point, then the answer is
what the views held then, byte for byte the same every time, and at the head it is the live
view.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from application.commands import CorrectReport, RetractReport
from application.reports import ReportService
from domain.claims import TerritoryControl
from domain.quantities import Unit, about
from projections.registry import VIEWS
from projections.replay import InvalidReplayQuestion, ReplayAnswer, encode_answer, replay
from projections.row_stores import read_rows
from projections.workers import run_views
from seed.demo import load_demo
from seed.kursk_article import demo_report_id
from store.event_store import EventStore

KURSK = "kursk-oblast/ukraine"
CURRENT_HOLDING = demo_report_id("kursk-current-holding")
PEAK_HOLDING = demo_report_id("kursk-peak-holding")


async def _record_the_demo_then_correct_and_retract(store: EventStore) -> tuple[int, int]:
    """The demo, then the 800 km² corrected to 700, then the peak claim retracted; returns
    the last demo position and the correction's."""
    service = ReportService(store)
    await load_demo(service)
    demo_head = await store.position()
    corrected = await service.apply(
        CURRENT_HOLDING,
        CorrectReport(
            claim=TerritoryControl(
                actor="Ukraine", region="Kursk Oblast", country="RU", area=about(700, Unit.KM2)
            ),
            reason="the source revised the figure",
        ),
    )
    await service.apply(PEAK_HOLDING, RetractReport(reason="the source withdrew the figure"))
    return demo_head, corrected.last_position


async def _recorded_at(store: EventStore, position: int) -> datetime:
    (recorded,) = await store.read_log_through(position, after=position - 1)
    return recorded.recorded_at


def _rows(answer: ReplayAnswer) -> dict[str, Any]:
    decoded = msgspec.json.decode(encode_answer(answer))
    return {row["key"]: row["row"] for row in decoded["rows"]}


async def test_known_before_the_correction_the_old_figure_stands_and_after_it_the_new(
    store: EventStore,
) -> None:
    demo_head, correction = await _record_the_demo_then_correct_and_retract(store)

    before = _rows(await replay(store, "holdings", known_at=await _recorded_at(store, demo_head)))
    after = _rows(await replay(store, "holdings", known_at=await _recorded_at(store, correction)))
    now = _rows(await replay(store, "holdings"))

    assert before[KURSK]["current"]["area"]["value"] == 800
    assert before[KURSK]["peak"]["area"]["value"] == 1376
    assert after[KURSK]["current"]["area"]["value"] == 700
    assert after[KURSK]["peak"]["area"]["value"] == 1376
    assert now[KURSK]["peak_basis"] == "highest_current"  # the peak claim is withdrawn
    assert now[KURSK]["peak"]["area"]["value"] == 700


async def test_a_position_cut_equals_a_time_cut_at_the_same_point(store: EventStore) -> None:
    demo_head, correction = await _record_the_demo_then_correct_and_retract(store)

    for position in (1, demo_head, correction):
        by_position = await replay(store, "timeline", position=position)
        by_time = await replay(store, "timeline", known_at=await _recorded_at(store, position))

        assert by_time.position == by_position.position == position
        assert encode_answer(msgspec.structs.replace(by_time, known_at=None)) == encode_answer(
            by_position
        )


async def test_the_same_question_gives_the_same_bytes(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    demo_head, _ = await _record_the_demo_then_correct_and_retract(store)
    known_at = await _recorded_at(store, demo_head)

    first = await replay(store, "damage", known_at=known_at, as_of=date(2024, 11, 23))
    second = await replay(pool, "damage", known_at=known_at, as_of=date(2024, 11, 23))

    assert encode_answer(first) == encode_answer(second)
    assert first.rows  # Zelenskiy's 321 port facilities and 20 ships


async def test_at_the_head_every_answer_is_the_live_view(
    store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    # Given the log, and every runner caught up with it
    await _record_the_demo_then_correct_and_retract(store)
    head = await store.position()
    stop = asyncio.Event()
    workers = asyncio.create_task(run_views(list(VIEWS.values()), pool, database_url, stop))
    try:
        async with asyncio.timeout(20):
            while True:
                caught_up = await pool.fetchval(
                    "SELECT count(*) FROM projection_generations WHERE position = $1", head
                )
                if caught_up == len(VIEWS):
                    break
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(workers, timeout=10)

    # Then the replay at the head is what each live view holds
    for name in VIEWS:
        answer = await replay(pool, name)
        live = {key: msgspec.json.decode(doc) for key, doc in await read_rows(pool, name)}
        assert answer.position == head
        assert _rows(answer) == live, name


async def test_a_question_about_the_future_is_refused(store: EventStore) -> None:
    await _record_the_demo_then_correct_and_retract(store)
    head = await store.position()

    with pytest.raises(InvalidReplayQuestion, match=rf"position {head + 1} is beyond the head"):
        await replay(store, "holdings", position=head + 1)
    with pytest.raises(InvalidReplayQuestion, match="is later than the database's clock"):
        await replay(store, "holdings", known_at=await store.clock() + timedelta(hours=1))


async def test_an_empty_log_answers_with_no_rows(store: EventStore) -> None:
    answer = await replay(store, "holdings")

    assert (answer.position, answer.rows) == (0, ())
