"""One committed state to answer a question about the past from: a view's serving
generation at the question's cut (`serving_cut`), with its versions (`snapshot`), read in
one REPEATABLE READ transaction, so that a rebuild's switch or a runner's batch landing
meanwhile cannot mix two states; and the fold of a few reports' own events up to the cut
(`folded_reports`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, cast
from uuid import UUID

import asyncpg

from domain.recorded import LogEntry
from projections.core import View, ViewState, fold
from projections.generations import serving
from projections.history import Indexed, indexed, picks_few, pieced
from projections.replay import cut_of
from store.event_store import EventStore, entry_from_row

# The log's last position at or before the cut: what a replay's fold ends at.
LAST_AT = "SELECT max(notification_id) FROM timeline_events WHERE notification_id <= $1"

READ_REPORTS = """
SELECT notification_id, recorded_at, topic, state FROM timeline_events
WHERE originator_id = ANY($1::uuid[]) AND notification_id <= $2 ORDER BY notification_id
"""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A view's versions as one committed state, cut where the question says."""

    connection: asyncpg.Connection
    view: Indexed
    generation: int
    position: int  # the log's last position at or before the cut: what the answer reflects


@asynccontextmanager
async def snapshot(
    pool: asyncpg.Pool, view: View, known_at: datetime | None, position: int | None
) -> AsyncIterator[Snapshot | None]:
    """The view's versions at the question's cut, read in one REPEATABLE READ transaction;
    None when the view keeps none or its serving generation has not reached the cut.

    Raises InvalidReplayQuestion as `replay` does for a cut that cannot be answered."""
    picking = indexed(view)
    if picking is None or not (picks_few(picking) or pieced(picking) is not None):
        yield None
        return
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            yield None
        else:
            yield Snapshot(cut.connection, picking, cut.generation, cut.position)


class Cut(NamedTuple):
    """A view's serving generation, read at the question's cut in one committed state."""

    connection: asyncpg.Connection
    generation: int
    position: int  # the log's last position at or before the cut: what the answer reflects


@asynccontextmanager
async def serving_cut(
    pool: asyncpg.Pool, view: str, known_at: datetime | None, position: int | None
) -> AsyncIterator[Cut | None]:
    """The serving generation of `view` and the question's cut, in one REPEATABLE READ
    transaction (its versions are then one committed state); None when that generation has
    not reached the cut (being rebuilt, or a runner behind).

    Raises InvalidReplayQuestion as `replay` does for a cut that cannot be answered."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        cut = await cut_of(EventStore(cast(asyncpg.Pool, connection)), known_at, position)
        found = await serving(connection, view)
        if found is None or found[1] < cut:
            yield None
            return
        last = int(await connection.fetchval(LAST_AT, cut) or 0)
        yield Cut(connection, found[0], last)


async def folded(at: Snapshot, ids: Sequence[UUID]) -> tuple[ViewState, list[LogEntry]]:
    """The view's fold of the events of `ids` up to the snapshot's position, and the events."""
    return await folded_reports(at.connection, at.view, at.position, ids)


async def folded_reports(
    connection: asyncpg.Connection, view: View, position: int, ids: Sequence[UUID]
) -> tuple[ViewState, list[LogEntry]]:
    """`view`'s fold of the events of the reports `ids` up to `position`, and the events."""
    rows = await connection.fetch(READ_REPORTS, list(ids), position) if ids else []
    events = [entry_from_row(row) for row in rows]
    state, _ = fold(view, events)
    state.position = position
    return state, events
