"""Where a view's rows live (`RowStore`), and how they are written, read and dropped there.

Most views' rows are JSON documents by key in `view_rows`; the
timeline's, one per report and hundreds of thousands of them, are in `timeline_entries` with
their filters as indexed columns (projections/timeline_entries.py), so the API pages them
by index instead of holding them. Only there, not in both: one write per row, and a rebuild
loads each row once.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import msgspec

from projections.copy_text import escaped
from projections.timeline_entries import TIMELINE_ENTRIES
from projections.views.timeline import TimelineView

_encoder = msgspec.json.Encoder()

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
# By primary key prefix, one generation at a time (a join would scan every view's rows).
DELETE_GENERATION_ROWS = "DELETE FROM view_rows WHERE view = $1 AND generation = $2"
ROW_COLUMNS = ("view", "generation", "key", "doc", "position")


@dataclass(frozen=True, slots=True)
class Generation:
    """One generation of a view's rows (projections/generations.py), at the log position its
    rows reflect."""

    view: str
    generation: int
    position: int


# What the database (or the encoder before it) refuses because of a row's content, as
# opposed to the connection or the server failing: a retry would be refused again.
REFUSED = (
    asyncpg.DataError,
    asyncpg.ProgramLimitExceededError,
    asyncpg.IntegrityConstraintViolationError,
    msgspec.EncodeError,
    ValueError,  # asyncpg's own "invalid input for query argument", a bad encoding
)


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


async def read_rows(pool: asyncpg.Pool, view: str) -> list[tuple[str, str]]:
    """The serving generation's rows as (key, JSON text), in key order."""
    return await row_store(view).read(pool, view)


async def copy_rows(
    connection: asyncpg.Connection, store: RowStore, lines: AsyncIterable[bytes]
) -> None:
    """Load rows given as lines of `store.line` with one COPY, streamed."""
    await connection.copy_to_table(store.table, source=lines, columns=store.columns, format="text")
