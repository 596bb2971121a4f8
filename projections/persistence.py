"""The thin persistence beside the folds: view rows and tracking positions in PostgreSQL.

Exactly once: a batch's rows and the generation's new tracking position are written in one
transaction, and the position only moves from the value the writer started from, and only
while the generation is not retired. After any crash the rows hold the effects of exactly
the events up to the stored position.

Generations (see projections/rebuild.py): one 'serving' generation per view answers reads;
a rebuild fills a 'building' one beside it, then swaps which one serves and retires the old.

Where rows live (`RowStore`): most views' rows are JSON documents by key in `view_rows`; the
timeline's, one per report and hundreds of thousands of them, are in `timeline_entries` with
their filters as indexed columns (projections/timeline_entries.py), so the API pages them
by index instead of holding them. Only there, not in both: one write per row, and a rebuild
loads each row once.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import msgspec

from projections import quarantine
from projections.copy_text import escaped
from projections.core import Quarantined
from projections.history import keeps_versions
from projections.history_recording import HistoryBatch
from projections.history_writes import delete_generation_history, write_history
from projections.registry import VIEWS
from projections.timeline import TimelineView
from projections.timeline_entries import TIMELINE_ENTRIES, delete_superseded_generation

_encoder = msgspec.json.Encoder()

SERVING = """
SELECT generation, position FROM projection_generations WHERE view = $1 AND state = 'serving'
"""
CREATE_FIRST = """
INSERT INTO projection_generations (view, generation, state) VALUES ($1, 1, 'serving')
ON CONFLICT DO NOTHING
"""
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
# Rows of several views (or one), by key.
UPSERT_ROWS = """
INSERT INTO view_rows (view, generation, key, doc, position)
SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int8[])
ON CONFLICT (view, generation, key) DO UPDATE SET doc = excluded.doc, position = excluded.position
"""
DELETE_ROWS = """
DELETE FROM view_rows r USING unnest($1::text[], $2::int[], $3::text[]) AS d(view, generation, key)
WHERE r.view = d.view AND r.generation = d.generation AND r.key = d.key
"""
READ_ROWS = """
SELECT r.key, r.doc FROM view_rows r
JOIN projection_generations g ON g.view = r.view AND g.generation = r.generation
WHERE r.view = $1 AND g.state = 'serving' ORDER BY r.key
"""


# Rebuilds: a new generation beside the serving one, its rows loaded in bulk, the swap.
RETIRE_BUILDING = """
UPDATE projection_generations SET state = 'retired', updated_at = now()
WHERE view = $1 AND state = 'building' RETURNING generation
"""
START_BUILDING = """
INSERT INTO projection_generations (view, generation, state)
SELECT $1, coalesce(max(generation), 0) + 1, 'building' FROM projection_generations
WHERE view = $1 RETURNING generation, position
"""
# Both of the view's live generations, locked in one order. A runner's `write_batch` locks
# the serving row too (MOVE_POSITION), so a swap and a batch never interleave.
LOCK_LIVE = """
SELECT generation, state, position FROM projection_generations
WHERE view = $1 AND state IN ('serving', 'building') ORDER BY generation FOR UPDATE
"""
# Two statements, old one first: the one-serving index is checked row by row.
RETIRE = """
UPDATE projection_generations SET state = 'retired', updated_at = now()
WHERE view = $1 AND generation = $2
"""
SERVE = """
UPDATE projection_generations SET state = 'serving', updated_at = now()
WHERE view = $1 AND generation = $2
"""
RETIRED = "SELECT generation FROM projection_generations WHERE view = $1 AND state = 'retired'"
# By primary key prefix, one generation at a time (a join would scan every view's rows).
DELETE_GENERATION_ROWS = "DELETE FROM view_rows WHERE view = $1 AND generation = $2"
ROW_COLUMNS = ("view", "generation", "key", "doc", "position")


class TrackingMoved(RuntimeError):
    """Another writer moved the generation's position, or a rebuild retired the generation:
    this writer must stop (a restarted runner follows the serving generation)."""


@dataclass(frozen=True, slots=True)
class Generation:
    view: str
    generation: int
    position: int


class RowStore(Protocol):
    """The table a view's rows live in, and how they are written, read and dropped there."""

    table: str
    columns: tuple[str, ...]

    def document(self, row: msgspec.Struct) -> bytes:
        """The row's JSON as stored, and as `read` gives it back."""
        ...

    def line(self, generation: Generation, position: int, key: str, row: msgspec.Struct) -> bytes:
        """The row as a line of COPY's text format for `columns` (a rebuild's bulk load);
        raises one of REFUSED if the row cannot be stored."""
        ...

    async def upsert(
        self,
        connection: asyncpg.Connection,
        generation: Generation,
        position: int,
        rows: Mapping[str, msgspec.Struct],
    ) -> None: ...

    async def upsert_many(
        self,
        connection: asyncpg.Connection,
        batches: Sequence[tuple[Generation, int, Mapping[str, msgspec.Struct]]],
    ) -> None:
        """Several views' rows, each batch's at its position: in one statement where the
        table holds several views."""
        ...

    async def delete(
        self, connection: asyncpg.Connection, generation: Generation, keys: Sequence[str]
    ) -> None: ...

    async def delete_many(
        self, connection: asyncpg.Connection, batches: Sequence[tuple[Generation, Sequence[str]]]
    ) -> None: ...

    async def read(
        self, connection: asyncpg.Pool | asyncpg.Connection, view: str
    ) -> list[tuple[str, str]]:
        """The serving generation's rows as (key, JSON text), in key order."""
        ...

    async def delete_generation(
        self, connection: asyncpg.Pool | asyncpg.Connection, view: str, generation: int
    ) -> None: ...


class ViewRows:
    """`view_rows`: any view's rows, as JSON documents by key."""

    table: str = "view_rows"
    columns: tuple[str, ...] = ROW_COLUMNS

    def document(self, row: msgspec.Struct) -> bytes:
        return _encoder.encode(row)

    def line(self, generation: Generation, position: int, key: str, row: msgspec.Struct) -> bytes:
        # JSON has no raw tab, newline or carriage return (they are escaped inside strings),
        # so only its backslashes need doubling.
        document = _encoder.encode(row).replace(b"\\", b"\\\\")
        return b"%s\t%d\t%s\t%s\t%d\n" % (
            escaped(generation.view.encode()),
            generation.generation,
            escaped(key.encode()),
            document,
            position,
        )

    async def upsert(
        self,
        connection: asyncpg.Connection,
        generation: Generation,
        position: int,
        rows: Mapping[str, msgspec.Struct],
    ) -> None:
        await self.upsert_many(connection, [(generation, position, rows)])

    async def upsert_many(
        self,
        connection: asyncpg.Connection,
        batches: Sequence[tuple[Generation, int, Mapping[str, msgspec.Struct]]],
    ) -> None:
        rows = [
            (generation.view, generation.generation, key, self.document(row).decode(), position)
            for generation, position, batch in batches
            for key, row in batch.items()
        ]
        if rows:
            await connection.execute(
                UPSERT_ROWS, *(list(column) for column in zip(*rows, strict=True))
            )

    async def delete(
        self, connection: asyncpg.Connection, generation: Generation, keys: Sequence[str]
    ) -> None:
        await self.delete_many(connection, [(generation, keys)])

    async def delete_many(
        self, connection: asyncpg.Connection, batches: Sequence[tuple[Generation, Sequence[str]]]
    ) -> None:
        gone = [
            (generation.view, generation.generation, key)
            for generation, keys in batches
            for key in keys
        ]
        if gone:
            await connection.execute(
                DELETE_ROWS, *(list(column) for column in zip(*gone, strict=True))
            )

    async def read(
        self, connection: asyncpg.Pool | asyncpg.Connection, view: str
    ) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in await connection.fetch(READ_ROWS, view)]

    async def delete_generation(
        self, connection: asyncpg.Pool | asyncpg.Connection, view: str, generation: int
    ) -> None:
        await connection.execute(DELETE_GENERATION_ROWS, view, generation)


VIEW_ROWS = ViewRows()
ROW_STORES: dict[str, RowStore] = {TimelineView.name: TIMELINE_ENTRIES}


def row_store(view: str) -> RowStore:
    return ROW_STORES.get(view, VIEW_ROWS)


async def serving_generation(connection: asyncpg.Connection, view: str) -> Generation:
    """The generation that serves `view`, created (empty, at position 0) on first use."""
    row = await connection.fetchrow(SERVING, view)
    if row is None:
        await connection.execute(CREATE_FIRST, view)
        row = await connection.fetchrow(SERVING, view)
        assert row is not None
    return Generation(view, row["generation"], row["position"])


# What the database (or the encoder before it) refuses because of a row's content, as
# opposed to the connection or the server failing: a retry would be refused again.
REFUSED = (
    asyncpg.DataError,
    asyncpg.ProgramLimitExceededError,
    asyncpg.IntegrityConstraintViolationError,
    msgspec.EncodeError,
    ValueError,  # asyncpg's own "invalid input for query argument", a bad encoding
)


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


async def read_rows(pool: asyncpg.Pool, view: str) -> list[tuple[str, str]]:
    """The serving generation's rows as (key, JSON text), in key order."""
    return await row_store(view).read(pool, view)


# --- rebuilds ---------------------------------------------------------------------------


async def start_building(connection: asyncpg.Connection, view: str) -> Generation:
    """A new, empty generation of `view` in state 'building', numbered after every earlier
    one; a building generation left by an interrupted rebuild is retired first. The caller
    holds the view's rebuild lock."""
    await connection.execute(RETIRE_BUILDING, view)
    row = await connection.fetchrow(START_BUILDING, view)
    # Versions left under this number by an operator who emptied projection_generations by
    # hand would collide with the ones the rebuild writes.
    if _keeps_versions(view):
        await delete_generation_history(connection, view, row["generation"])
    if row_store(view) is TIMELINE_ENTRIES:  # and so would its replaced rows
        await delete_superseded_generation(connection, row["generation"])
    return Generation(view, row["generation"], row["position"])


async def copy_rows(
    connection: asyncpg.Connection, store: RowStore, lines: AsyncIterable[bytes]
) -> None:
    """Load rows given as lines of `store.line` with one COPY, streamed."""
    await connection.copy_to_table(store.table, source=lines, columns=store.columns, format="text")


async def lock_live(connection: asyncpg.Connection, view: str) -> dict[str, Generation]:
    """The view's serving and building generations by state, locked until the caller's
    transaction ends; a runner's next batch waits for it."""
    rows = await connection.fetch(LOCK_LIVE, view)
    return {row["state"]: Generation(view, row["generation"], row["position"]) for row in rows}


async def switch_serving(
    connection: asyncpg.Connection, serving: Generation | None, building: Generation
) -> None:
    """Retire `serving` and serve `building` instead, inside the caller's transaction (which
    holds both rows, `lock_live`). A read sees one or the other, never a mix of the two."""
    if serving is not None:
        await connection.execute(RETIRE, serving.view, serving.generation)
    await connection.execute(SERVE, building.view, building.generation)
    await connection.execute(
        "SELECT pg_notify($1, $2)",
        VIEWS_CHANNEL,
        f"{building.view} {building.generation} {building.position} true",
    )


async def delete_retired_rows(pool: asyncpg.Pool, view: str) -> None:
    """Drop the rows and report versions of every retired generation of `view` (no read ever
    sees them)."""
    store = row_store(view)
    for row in await pool.fetch(RETIRED, view):
        await store.delete_generation(pool, view, row["generation"])
        if _keeps_versions(view):
            await delete_generation_history(pool, view, row["generation"])


def _keeps_versions(view: str) -> bool:
    known = VIEWS.get(view)
    return known is not None and keeps_versions(known)
