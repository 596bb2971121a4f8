"""The thin persistence beside the folds: view rows and tracking positions in PostgreSQL.

Exactly once: a batch's rows and the generation's new tracking position are written in one
transaction, and the position only moves from the value the writer started from, and only
while the generation is not retired. After any crash the rows hold the effects of exactly
the events up to the stored position.

Where the rows live is projections/row_stores.py's; a view's generations, and how a rebuild
swaps them, projections/generations.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from projections import quarantine
from projections.core import Quarantined
from projections.history_recording import HistoryBatch
from projections.history_writes import write_history
from projections.row_stores import REFUSED, Generation, RowStore, row_store

# A retired generation's position never moves again: a runner still writing to it learns
# (TrackingMoved) that a rebuild switched the view to another generation.
# The same statement tells readers (NOTIFY on VIEWS_CHANNEL: "view generation position
# deleted") what changed; a notification is sent only if the transaction commits.
# Several views' batches move in one statement ($1 views, $2 generations, $3 the positions
# they move from, $4 to, $5 whether they deleted rows); it returns the views it moved.
MOVE_POSITION = """
WITH asked AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::int8[], $4::int8[], $5::boolean[])
        AS a(view, generation, from_position, to_position, deleted)
), moved AS (
    UPDATE projection_generations g SET position = a.to_position, updated_at = now()
    FROM asked a
    WHERE g.view = a.view AND g.generation = a.generation AND g.position = a.from_position
        AND g.state <> 'retired'
    RETURNING g.view
)
SELECT a.view, pg_notify(
    'timeline_views', concat_ws(' ', a.view, a.generation, a.to_position, a.deleted::text)
) FROM asked a WHERE a.view IN (SELECT view FROM moved)
"""
VIEWS_CHANNEL = "timeline_views"


class TrackingMoved(RuntimeError):
    """Another writer moved the generation's position, or a rebuild retired the generation:
    this writer must stop (a restarted runner follows the serving generation)."""


async def write_batch(
    pool: asyncpg.Pool,
    generation: Generation,
    to_position: int,
    rows: Mapping[str, msgspec.Struct | None],
    quarantined: Sequence[Quarantined] = (),
    *,
    history: HistoryBatch | None = None,
) -> Generation:
    """Write changed rows (None deletes a row) and the versions of the reports behind them,
    record what the batch quarantined and move the position, in one transaction."""
    async with pool.acquire() as connection, connection.transaction():
        return await write_rows(
            connection, generation, to_position, rows, quarantined, history=history
        )


async def write_batch_row_by_row(
    pool: asyncpg.Pool,
    generation: Generation,
    to_position: int,
    rows: Mapping[str, msgspec.Struct | None],
    *,
    quarantined: Sequence[Quarantined],
    blame: Callable[[str, BaseException], Quarantined],
    history: HistoryBatch | None = None,
) -> Generation:
    """`write_batch` for a batch the database refused: each row is tried on its own (a
    savepoint each), a refused row is deleted instead and quarantined (`blame` says which
    report and position it stands for), and the rest is written with the position, still
    in one transaction."""
    async with pool.acquire() as connection, connection.transaction():
        refused: dict[str, msgspec.Struct | None] = {}
        blamed = list(quarantined)
        for key, row in rows.items():
            if row is None:
                continue
            try:
                async with connection.transaction():
                    await row_store(generation.view).upsert(
                        connection, generation, to_position, {key: row}
                    )
            except REFUSED as error:
                refused[key] = None
                blamed.append(blame(key, error))
        gone = {key: None for key, row in rows.items() if row is None}
        return await write_rows(
            connection, generation, to_position, gone | refused, blamed, history=history
        )


@dataclass(frozen=True, slots=True)
class RowBatch:
    """One view's batch to write: its changed rows (None deletes one), what it quarantined,
    and the position it moves the generation to."""

    generation: Generation
    to_position: int
    rows: Mapping[str, msgspec.Struct | None]
    quarantined: Sequence[Quarantined] = ()


async def write_rows(
    connection: asyncpg.Connection,
    generation: Generation,
    to_position: int,
    rows: Mapping[str, msgspec.Struct | None],
    quarantined: Sequence[Quarantined] = (),
    *,
    history: HistoryBatch | None = None,
) -> Generation:
    """`write_batch` inside the caller's transaction."""
    if history:
        await write_history(connection, generation.view, generation.generation, history)
    [written] = await write_rows_together(
        connection, [RowBatch(generation, to_position, rows, quarantined)]
    )
    return written


async def write_rows_together(
    connection: asyncpg.Connection, batches: Sequence[RowBatch]
) -> list[Generation]:
    """Several views' batches inside the caller's transaction, one statement for each kind
    of write (positions, rows, deletions, quarantine) rather than one per view: a round trip
    costs a busy server more than the rows it carries. Returns each generation at its new
    position; raises TrackingMoved, naming the view, if any one had moved."""
    if not batches:
        return []
    moved = {
        row[0]
        for row in await connection.fetch(
            MOVE_POSITION,
            [batch.generation.view for batch in batches],
            [batch.generation.generation for batch in batches],
            [batch.generation.position for batch in batches],
            [batch.to_position for batch in batches],
            [any(row is None for row in batch.rows.values()) for batch in batches],
        )
    }
    for batch in batches:
        if batch.generation.view not in moved:
            generation = batch.generation
            raise TrackingMoved(
                f"{generation.view} generation {generation.generation} is no longer at "
                f"position {generation.position}, or no longer current"
            )
    by_store: dict[str, tuple[RowStore, list[RowBatch]]] = {}
    for batch in batches:
        store = row_store(batch.generation.view)
        by_store.setdefault(store.table, (store, []))[1].append(batch)
    for store, stored in by_store.values():
        await store.upsert_many(
            connection,
            [
                (
                    batch.generation,
                    batch.to_position,
                    {key: row for key, row in batch.rows.items() if row is not None},
                )
                for batch in stored
            ],
        )
        await store.delete_many(
            connection,
            [
                (batch.generation, [key for key, row in batch.rows.items() if row is None])
                for batch in stored
            ],
        )
    await quarantine.record(connection, [entry for batch in batches for entry in batch.quarantined])
    return [
        Generation(batch.generation.view, batch.generation.generation, batch.to_position)
        for batch in batches
    ]
