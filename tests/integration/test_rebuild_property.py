"""The property: whatever the log, and however a runner happened to batch it, a rebuild gives
exactly the rows that incremental processing gave, for every view.

Logs are drawn as stories of a few reports across regions and kinds (tests/log_drawing.py), in
the seed article's shapes.
"""

from __future__ import annotations

from itertools import cycle
from typing import Any

import asyncpg
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.events import DomainEvent
from domain.recorded import RecordedEvent
from projections.core import ViewState, apply, fold, render, render_all
from projections.folds import Folds
from projections.generations import serving_generation
from projections.persistence import write_batch
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.row_stores import read_rows
from store.event_store import EventStore
from tests.conftest import TABLES
from tests.log_drawing import Filing, FollowUp, actions, story


async def _append_in_chunks(store: EventStore, events: list[DomainEvent], size: int) -> None:
    # One report's events in one append must start where it stands: chunks keep log order.
    for start in range(0, len(events), size):
        await store.append(events[start : start + size])


async def _process_incrementally(
    pool: asyncpg.Pool, log: list[RecordedEvent], batch_sizes: list[int]
) -> None:
    """Each view as a runner would keep it, in batches of the drawn sizes."""
    for view in VIEWS.values():
        async with pool.acquire() as connection:
            generation = await serving_generation(connection, view.name)
        state, start = ViewState(), 0
        for size in cycle(batch_sizes):
            if start >= len(log):
                break
            touched: dict[str, None] = {}
            for recorded in log[start : start + size]:
                touched.update(dict.fromkeys(apply(view, state, recorded)))
            rows = {key: render(view, state, key) for key in touched}
            generation = await write_batch(pool, generation, state.position, rows)
            start += size


async def _all_rows(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    return {
        name: {key: msgspec.json.decode(doc) for key, doc in await read_rows(pool, name)}
        for name in VIEWS
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=actions(),
    append_size=st.integers(1, 10),
    batch_sizes=st.lists(st.integers(1, 6), min_size=1, max_size=4),
)
async def test_a_rebuild_gives_exactly_the_rows_incremental_processing_gave(
    pool: asyncpg.Pool,
    store: EventStore,
    drawn: list[Filing | FollowUp],
    append_size: int,
    batch_sizes: list[int],
) -> None:
    # Given an empty database (the fixture empties it once per test, not per example)
    await pool.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
    # and a drawn story recorded in appends of the drawn size
    await _append_in_chunks(store, story(drawn), append_size)
    log = await store.read_log(limit=10_000)

    # When every view is processed incrementally in the drawn batches, and then rebuilt
    await _process_incrementally(pool, log, batch_sizes)
    incremental = await _all_rows(pool)
    await rebuild_views(pool, list(VIEWS.values()))

    # Then the rebuilt rows are exactly the incremental ones
    assert await _all_rows(pool) == incremental
    # and both are the pure fold's, which the rebuild's one-pass fold gives as well
    folds = Folds(list(VIEWS.values()))
    folds.feed(log)
    for (name, view), state in zip(VIEWS.items(), folds.states, strict=True):
        alone, _ = fold(view, log)
        expected = msgspec.json.decode(msgspec.json.encode(render_all(view, alone)))
        assert incremental[name] == expected, name
        assert render_all(view, state) == render_all(view, alone), name
