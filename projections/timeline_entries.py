"""Where the timeline's rows live: `timeline_entries`, a row per report with its filters as
columns (migration 0010), so that pages are read by index instead of held in memory.

Runners and rebuilds write it exactly where they write `view_rows` for the other views
(projections/row_stores.py, `RowStore`), in the same transactions. A row's columns are
projections/timeline_columns.py's. `doc` is the row as the API serves it, canonical JSON
(keys sorted), so a page is the stored documents spliced together, never decoded. The rows
the timeline replaced are kept beside it, in `timeline_superseded`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import msgspec

from projections.copy_text import array_literal
from projections.timeline_columns import CANONICAL, COLUMNS, copy_line, entry_of
from projections.views.timeline import TimelineRow

if TYPE_CHECKING:
    from projections.row_stores import Generation

TABLE = "timeline_entries"

# The type of each column's array in the upsert's unnest (text[] columns go as literals:
# unnest would flatten an array of arrays).
UNNESTED = {
    "report_id": "uuid",
    "occurred_at": "timestamptz",
    "reported_at": "timestamptz",
    "filed_at": "bigint",
    "kind": "text",
    "region_key": "text",
    "region": "text",
    "country": "text",
    "actors": "text",
    "source": "text",
    "outlet": "text",
    "side": "text",
    "verification": "text",
    "retracted": "boolean",
    "tags": "text",
    "occurred_from": "timestamptz",
    "occurred_to": "timestamptz",
    "occurred_span": "smallint",
    "reported_from": "timestamptz",
    "reported_to": "timestamptz",
    "reported_span": "smallint",
    "doc": "text",
    "changed_at": "bigint",
}
_ARRAYS = frozenset({"actors", "tags"})
_SELECTED = ", ".join(f"r.{c}::text[]" if c in _ARRAYS else f"r.{c}" for c in UNNESTED)
_ARGUMENTS = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(UNNESTED.values(), start=2))
UPSERT = f"""
INSERT INTO {TABLE} ({", ".join(COLUMNS)})
SELECT $1, {_SELECTED} FROM unnest({_ARGUMENTS}) AS r({", ".join(UNNESTED)})
ON CONFLICT (generation, report_id) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])}
"""
DELETE = f"DELETE FROM {TABLE} WHERE generation = $1 AND report_id = ANY($2::uuid[])"
READ = f"""
SELECT e.report_id::text, e.doc FROM {TABLE} e
JOIN projection_generations g ON g.generation = e.generation
WHERE g.view = $1 AND g.state = 'serving' ORDER BY e.report_id
"""
DELETE_GENERATION = f"DELETE FROM {TABLE} WHERE generation = $1"

# The rows the timeline replaced, each with the position it stopped holding at (migration
# 0016): with the entries changed by a position N, those holding at N are the timeline at N.
SUPERSEDED = "timeline_superseded"
SUPERSEDED_COLUMNS = (*COLUMNS, "to_position")
INSERT_SUPERSEDED = f"""
INSERT INTO {SUPERSEDED} ({", ".join(SUPERSEDED_COLUMNS)})
SELECT $1, {_SELECTED}, r.to_position
FROM unnest({_ARGUMENTS}, ${len(UNNESTED) + 2}::bigint[])
    AS r({", ".join(UNNESTED)}, to_position)
"""
DELETE_SUPERSEDED_GENERATION = f"DELETE FROM {SUPERSEDED} WHERE generation = $1"


class TimelineEntries:
    """The `RowStore` of the timeline (projections/row_stores.py)."""

    table: str = TABLE
    columns: tuple[str, ...] = COLUMNS

    def document(self, row: msgspec.Struct) -> bytes:
        return CANONICAL.encode(row)

    def line(self, generation: Generation, position: int, key: str, row: msgspec.Struct) -> bytes:
        return copy_line(generation.generation, key, row)

    async def upsert(
        self,
        connection: asyncpg.Connection,
        generation: Generation,
        position: int,
        rows: Mapping[str, msgspec.Struct],
    ) -> None:
        timeline_rows = [row for row in rows.values() if isinstance(row, TimelineRow)]
        await connection.execute(UPSERT, generation.generation, *_unnested(timeline_rows))

    async def upsert_many(
        self,
        connection: asyncpg.Connection,
        batches: Sequence[tuple[Generation, int, Mapping[str, msgspec.Struct]]],
    ) -> None:
        # One view's table: a group holds at most one batch of it.
        for generation, position, rows in batches:
            if rows:
                await self.upsert(connection, generation, position, rows)

    async def delete(
        self, connection: asyncpg.Connection, generation: Generation, keys: Sequence[str]
    ) -> None:
        await connection.execute(DELETE, generation.generation, [UUID(key) for key in keys])

    async def delete_many(
        self, connection: asyncpg.Connection, batches: Sequence[tuple[Generation, Sequence[str]]]
    ) -> None:
        for generation, keys in batches:
            if keys:
                await self.delete(connection, generation, keys)

    async def read(
        self, connection: asyncpg.Pool | asyncpg.Connection, view: str
    ) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in await connection.fetch(READ, view)]

    async def delete_generation(
        self, connection: asyncpg.Pool | asyncpg.Connection, view: str, generation: int
    ) -> None:
        await connection.execute(DELETE_GENERATION, generation)
        await delete_superseded_generation(connection, generation)


TIMELINE_ENTRIES = TimelineEntries()


def _unnested(rows: Sequence[TimelineRow]) -> list[list[Any]]:
    """The rows' columns but the generation, each as an array for `UNNESTED`."""
    entries = [entry_of(row).values() for row in rows]
    columns: list[list[Any]] = [list(values) for values in zip(*entries, strict=True)]
    if not columns:
        columns = [[] for _ in COLUMNS[1:-2]]
    for index, name in enumerate(COLUMNS[1:-2]):
        if name in _ARRAYS:
            columns[index] = [array_literal(texts) for texts in columns[index]]
    documents = [CANONICAL.encode(row).decode() for row in rows]
    return [*columns, documents, [row.last_changed_at_position for row in rows]]


async def write_superseded(
    connection: asyncpg.Connection,
    generation: int,
    replaced: Sequence[tuple[msgspec.Struct, int]],
) -> None:
    """Rows the timeline replaced (each with the position it stopped holding at), inside
    the caller's transaction: one statement."""
    rows = [(row, to) for row, to in replaced if isinstance(row, TimelineRow)]
    if rows:
        await connection.execute(
            INSERT_SUPERSEDED,
            generation,
            *_unnested([row for row, _ in rows]),
            [to for _, to in rows],
        )


async def copy_superseded(
    connection: asyncpg.Connection,
    generation: int,
    replaced: Sequence[tuple[msgspec.Struct, int]],
) -> None:
    """A rebuild's replaced rows, by COPY inside the caller's transaction, in the order
    their pages walk (as the entries are written)."""
    rows = sorted(
        ((row, to) for row, to in replaced if isinstance(row, TimelineRow)),
        key=lambda pair: pair[0].sort_key,
    )
    if rows:
        await connection.copy_to_table(
            SUPERSEDED,
            source=_superseded_lines(generation, rows),
            columns=SUPERSEDED_COLUMNS,
            format="text",
        )


async def _superseded_lines(
    generation: int, rows: Sequence[tuple[TimelineRow, int]]
) -> AsyncIterator[bytes]:
    """The rows as COPY text, a slice at a time: the lines of 300,000 replaced rows are
    never all in memory at once."""
    for start in range(0, len(rows), 4_096):
        yield b"".join(
            copy_line(generation, str(row.report_id), row)[:-1] + b"\t%d\n" % to
            for row, to in rows[start : start + 4_096]
        )


async def delete_superseded_generation(
    connection: asyncpg.Pool | asyncpg.Connection, generation: int
) -> None:
    await connection.execute(DELETE_SUPERSEDED_GENERATION, generation)
