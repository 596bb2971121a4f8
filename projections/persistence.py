"""The thin persistence beside the folds: view rows and tracking positions in PostgreSQL.

Exactly once: a batch's rows and the generation's new tracking position are written in one
transaction, and the position only moves from the value the writer started from. After any
crash the rows hold the effects of exactly the events up to the stored position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg
import msgspec

_encoder = msgspec.json.Encoder()

SERVING = """
SELECT generation, position FROM projection_generations WHERE view = $1 AND state = 'serving'
"""
CREATE_FIRST = """
INSERT INTO projection_generations (view, generation, state) VALUES ($1, 1, 'serving')
ON CONFLICT DO NOTHING
"""
MOVE_POSITION = """
UPDATE projection_generations SET position = $4, updated_at = now()
WHERE view = $1 AND generation = $2 AND position = $3
"""
UPSERT_ROWS = """
INSERT INTO view_rows (view, generation, key, doc, position)
SELECT $1, $2, r.key, r.doc::jsonb, $5 FROM unnest($3::text[], $4::text[]) AS r(key, doc)
ON CONFLICT (view, generation, key) DO UPDATE SET doc = excluded.doc, position = excluded.position
"""
DELETE_ROWS = "DELETE FROM view_rows WHERE view = $1 AND generation = $2 AND key = ANY($3::text[])"
READ_ROWS = """
SELECT r.key, r.doc::text FROM view_rows r
JOIN projection_generations g ON g.view = r.view AND g.generation = r.generation
WHERE r.view = $1 AND g.state = 'serving' ORDER BY r.key
"""


class TrackingMoved(RuntimeError):
    """Another writer moved the generation's position: this writer must stop."""


@dataclass(frozen=True, slots=True)
class Generation:
    view: str
    generation: int
    position: int


async def serving_generation(connection: asyncpg.Connection, view: str) -> Generation:
    """The generation that serves `view`, created (empty, at position 0) on first use."""
    row = await connection.fetchrow(SERVING, view)
    if row is None:
        await connection.execute(CREATE_FIRST, view)
        row = await connection.fetchrow(SERVING, view)
        assert row is not None
    return Generation(view, row["generation"], row["position"])


async def write_batch(
    pool: asyncpg.Pool,
    generation: Generation,
    to_position: int,
    rows: Mapping[str, msgspec.Struct | None],
) -> Generation:
    """Write changed rows (None deletes a row) and move the position, in one transaction."""
    upserts = {key: row for key, row in rows.items() if row is not None}
    gone = [key for key, row in rows.items() if row is None]
    async with pool.acquire() as connection, connection.transaction():
        moved = await connection.execute(
            MOVE_POSITION, generation.view, generation.generation, generation.position, to_position
        )
        if moved != "UPDATE 1":
            raise TrackingMoved(
                f"{generation.view} generation {generation.generation} is no longer at "
                f"position {generation.position}"
            )
        if upserts:
            await connection.execute(
                UPSERT_ROWS,
                generation.view,
                generation.generation,
                list(upserts),
                [_encoder.encode(row).decode() for row in upserts.values()],
                to_position,
            )
        if gone:
            await connection.execute(DELETE_ROWS, generation.view, generation.generation, gone)
    return Generation(generation.view, generation.generation, to_position)


async def read_rows(pool: asyncpg.Pool, view: str) -> list[tuple[str, str]]:
    """The serving generation's rows as (key, JSON text), in key order."""
    return [(row[0], row[1]) for row in await pool.fetch(READ_ROWS, view)]
