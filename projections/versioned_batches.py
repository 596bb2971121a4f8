"""A runner's batch that holds nothing between batches: for a view that keeps its reports'
versions, or whose rows are each drawn from one report.

A runner that folds the log keeps every report its view follows in memory, for as long as it
runs: its memory grows with the log. A view that keeps its reports' versions
(projections/history.py) needs none of that between batches, as an asynchronous projection
daemon loads only what a batch touches (Marten):
1. the reports the batch's events are about are folded from their own earlier events (the
   log's originator index), so the view sees each of them as it stood before the batch;
2. the batch is applied to them, recording the versions it makes (`HistoryLog`);
3. in ONE transaction: the versions are written, each touched row is rendered from the
   reports its key needs at the batch's last position, picked from the versions as a past
   answer picks them (projections/version_picks.py, which sees the versions just written),
   and the rows, the quarantine and the view's position are written as any batch's are.
   A day row of a history (`history.Pieced`) is instead put together from the pieces its
   versions keep, with no fold at all. A row drawn from its own report alone (the
   timeline's, a strike's) is rendered from the batch's reports; its versions are kept
   only for past pages to be found by (projections/past_pages.py).
The rows are the ones a fold of the whole log renders: a report is folded from its own
events alone in both (the view's rules never look at other reports), and `render` of a
key's picked reports is `render` of all of them (the rule each indexed view keeps).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from domain.recorded import LogEntry
from projections.core import Quarantined, View, ViewState, apply, blamed, fold, render
from projections.history import Indexed, indexed, pieced, put_together
from projections.history_recording import HistoryLog, ReplacedRows, recorder
from projections.history_writes import write_histories
from projections.past_pieces import Pieces, pieces_of_keys
from projections.persistence import RowBatch, write_rows_together
from projections.row_stores import REFUSED, Generation, row_store
from projections.version_picks import PICKED_REPORTS, pick_parameters
from store.event_store import entry_from_row

log = logging.getLogger("timeline.projections")

# The next `$2` events after position `$1`, and every earlier event of the reports they are
# about: one read for the batch and what it needs to know of its reports.
BATCH_WITH_ITS_REPORTS = """
WITH page AS MATERIALIZED (
    SELECT notification_id, originator_id FROM timeline_events
    WHERE notification_id > $1 ORDER BY notification_id LIMIT $2
)
SELECT e.notification_id, e.recorded_at, e.topic, e.state FROM timeline_events e
WHERE e.originator_id = ANY(ARRAY(SELECT originator_id FROM page))
    AND e.notification_id <= (SELECT max(notification_id) FROM page)
ORDER BY e.notification_id
"""


# A batch writes what the log already holds: if the server crashes before its commit
# reaches the disk, the batch is lost together with the position it moved to (one
# transaction), and the runner does it again from the position that did. So it need not wait
# for its commit record to be flushed, as the log's appends must.
DERIVED_WORK = "SET LOCAL synchronous_commit = off"


async def _read_batch(pool: asyncpg.Pool, after: int, limit: int) -> list[LogEntry]:
    return [entry_from_row(row) for row in await pool.fetch(BATCH_WITH_ITS_REPORTS, after, limit)]


async def next_batch(
    pool: asyncpg.Pool, view: View, generation: Generation, limit: int
) -> tuple[Generation, int] | None:
    """Apply the next `limit` events after the generation's position to the view, and write
    what they changed with the new position, in one transaction (exactly once); returns the
    generation there and how many events it took, or None when the log has none yet."""
    entries = await _read_batch(pool, generation.position, limit)
    if not entries:
        return None
    try:
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(DERIVED_WORK)
            written = await _written(connection, _applied(view, generation, entries))
    except REFUSED:
        # A row the database will not store: find it, and write the rest.
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(DERIVED_WORK)
            applied = _applied(view, generation, entries)
            written = await _written(connection, applied, one_row_at_a_time=True)
    return written, sum(1 for entry in entries if entry.position > generation.position)


async def next_batches(
    pool: asyncpg.Pool, asked: Sequence[tuple[View, Generation]], limit: int
) -> tuple[list[tuple[Generation, int] | BaseException | None], bool]:
    """`next_batch` for several views at the same position, in one read and one
    transaction: each view's answer, or what it raised. A round trip costs a busy server
    more than the work it carries, and a process's views would otherwise each read the same
    events and commit on their own. If any view's write fails, the transaction is rolled
    back and each view's batch is written on its own, so that one view's failure is its own
    (the second value says whether they were written together)."""
    after = asked[0][1].position
    if any(generation.position != after for _, generation in asked):
        raise ValueError("a group's views must stand at the same position")
    entries = await _read_batch(pool, after, limit)
    if not entries:
        return [None] * len(asked), True
    taken = sum(1 for entry in entries if entry.position > after)
    try:
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(DERIVED_WORK)
            written = await _written_together(
                connection, [_applied(view, generation, entries) for view, generation in asked]
            )
    except Exception:  # one view's doing, most likely (a refused row, a moved position)
        log.info("a group batch of %d views is written view by view", len(asked), exc_info=True)
        alone = await asyncio.gather(
            *(next_batch(pool, view, generation, limit) for view, generation in asked),
            return_exceptions=True,
        )
        return list(alone), False
    return [(generation, taken) for generation in written], True


@dataclass(slots=True)
class _Applied:
    """A batch applied to its view, in memory: what to write."""

    view: View
    generation: Generation
    position: int  # the batch's last event
    state: ViewState
    history: HistoryLog | ReplacedRows | None
    touched: list[str]
    skipped: list[Quarantined]


def _applied(view: View, generation: Generation, entries: Sequence[LogEntry]) -> _Applied:
    """The batch in `entries` (those after the generation's position) applied to the
    reports it is about, as they stood before it (their earlier events in `entries`)."""
    before = [entry for entry in entries if entry.position <= generation.position]
    page = [entry for entry in entries if entry.position > generation.position]
    # 1. the reports as the view saw them before the batch (what it skipped then, it
    # skipped again here: that was recorded then, not now)
    state, _ = fold(view, before)
    state.take_quarantined()
    # 2. the batch, and the versions it makes
    history = recorder(view)
    state.history = history
    touched: dict[str, None] = {}
    for recorded in page:
        touched.update(dict.fromkeys(apply(view, state, recorded)))
    return _Applied(
        view,
        generation,
        page[-1].position,
        state,
        history,
        list(touched),
        state.take_quarantined(),
    )


async def _written(
    connection: asyncpg.Connection, applied: _Applied, *, one_row_at_a_time: bool = False
) -> Generation:
    """The applied batch's versions, rows, quarantine and position, inside the caller's
    transaction; returns the generation at its new position."""
    [written] = await _written_together(connection, [applied], one_row_at_a_time=one_row_at_a_time)
    return written


async def _written_together(
    connection: asyncpg.Connection,
    applied: Sequence[_Applied],
    *,
    one_row_at_a_time: bool = False,
) -> list[Generation]:
    """`_written` for the batches of several views at the same position: each kind of
    statement once for all of them (the versions; the pieces of the day rows to put
    together; the positions, rows and quarantine), the reports a row is drawn from by folding
    read view by view."""
    versioned = [(batch, batch.history) for batch in applied if batch.history is not None]
    await write_histories(
        connection,
        [
            (batch.view.name, batch.generation.generation, history.take())
            for batch, history in versioned
        ],
    )
    # 3. each touched row, from what its key needs now: the pieces of its versions, or the
    # reports the versions pick, or, for a row drawn from its own report alone, the batch's
    pieces: dict[str, Pieces] = {}
    if not one_row_at_a_time:  # a refused row is blamed on its reports' fold
        pieces = await pieces_of_keys(
            connection,
            applied[0].position,
            [
                (assembled, batch.generation.generation, batch.touched)
                for batch, history in versioned
                if (assembled := pieced(batch.view)) is not None
            ],
        )
    written: list[RowBatch] = []
    for batch in applied:
        view, generation, position = batch.view, batch.generation, batch.position
        picking = indexed(view)
        if picking is not None:
            rows, drawn = await _rows(
                connection,
                picking,
                generation,
                position,
                batch.touched,
                pieces=pieces.get(view.name, {}) if pieced(picking) else None,
                folding=one_row_at_a_time,
            )
        else:
            state = batch.state
            rows, drawn = {key: render(view, state, key) for key in batch.touched}, state
        quarantined = [*batch.skipped, *drawn.take_quarantined()]
        if one_row_at_a_time:
            rows, refused = await _storable(
                connection, view, drawn, rows, generation=generation, position=position
            )
            quarantined += refused
        written.append(RowBatch(generation, position, rows, quarantined))
    return await write_rows_together(connection, written)


async def _rows(
    connection: asyncpg.Connection,
    view: Indexed,
    generation: Generation,
    position: int,
    keys: list[str],
    *,
    pieces: Pieces | None,
    folding: bool,
) -> tuple[dict[str, msgspec.Struct | None], ViewState]:
    """The rows of `keys` at `position` (None: no row), and the state of the reports drawn
    by folding them (with what drawing them noted). A `Pieced` view's rows are put together
    from their versions' `pieces` (per key, read for the batch), unless `folding`; a row
    with a report the view could not make a piece of, or whose pieces cannot be put
    together, is drawn by folding."""
    rows: dict[str, msgspec.Struct | None] = {}
    assembling = None if folding else pieced(view)
    if assembling is not None and pieces is not None:
        for key in keys:
            kept = pieces.get(key)
            if kept is None:
                rows[key] = None  # no report feeds the row now
            elif (row := put_together(assembling, key, kept)) is not None:
                rows[key] = row
    rest = [key for key in keys if key not in rows]
    folded, state = await _folded(connection, view, generation, position, rest)
    rows.update(folded)
    return {key: rows[key] for key in keys}, state


async def _folded(
    connection: asyncpg.Connection,
    view: Indexed,
    generation: Generation,
    position: int,
    keys: list[str],
) -> tuple[dict[str, msgspec.Struct | None], ViewState]:
    """The rows of `keys` at `position`, drawn by folding the reports their key needs."""
    if not keys:
        return {}, ViewState()
    needed = await connection.fetch(
        PICKED_REPORTS,
        view.name,
        generation.generation,
        position,
        None,
        *pick_parameters(view),
        keys,
    )
    state, _ = fold(view, [entry_from_row(row) for row in needed])
    state.take_quarantined()  # recorded when those events were folded
    rows = {key: render(view, state, key) for key in keys}
    return rows, state


async def _storable(
    connection: asyncpg.Connection,
    view: View,
    drawn: ViewState,
    rows: dict[str, msgspec.Struct | None],
    *,
    generation: Generation,
    position: int,
) -> tuple[dict[str, msgspec.Struct | None], list[Quarantined]]:
    """The rows, with each one the database refuses (tried alone, under a savepoint)
    deleted instead, and quarantined."""
    kept: dict[str, msgspec.Struct | None] = {}
    refused: list[Quarantined] = []
    for key, row in rows.items():
        if row is None:
            kept[key] = None
            continue
        try:
            async with connection.transaction():
                await row_store(view.name).upsert(connection, generation, position, {key: row})
        except REFUSED as error:
            kept[key] = None
            refused.append(blamed(view, drawn, key, error))
        else:
            kept[key] = row
    return kept, refused
