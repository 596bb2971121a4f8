"""The views' stored rows as readers read them: the serving generation and its position, all
of a view's rows, those changed since a position, and a range of them by key (at or under a
key, after a cursor). Written by the runners (projections/persistence.py; `serving` is
projections/generations.py's); followed in memory by each API process (api/live_views.py)."""

from __future__ import annotations

import asyncpg

from projections.generations import serving

ALL_ROWS = "SELECT key, doc FROM view_rows WHERE view = $1 AND generation = $2"
CHANGED_ROWS = """
SELECT key, doc FROM view_rows WHERE view = $1 AND generation = $2 AND position > $3
"""
# The rows whose key is $3 or lies under it ("kursk-oblast/ukraine" and its days), or all.
ROWS_UNDER = """
SELECT key, doc FROM view_rows WHERE view = $1 AND generation = $2
    AND key >= $3 AND key > $4 AND key < $5
    AND ($6::text IS NULL OR key = $6 OR starts_with(key, $6 || '/'))
ORDER BY key LIMIT $7
"""
# Bounds of ROWS_UNDER's key range where the question sets none (keys are never empty, and
# none begins with the last code point): keys compare by code point (migration 0015).
_FIRST_KEY, _PAST_LAST_KEY = "", "\U0010ffff"

Rows = list[tuple[str, str]]


async def all_rows(connection: asyncpg.Connection, view: str, generation: int) -> Rows:
    return [(r[0], r[1]) for r in await connection.fetch(ALL_ROWS, view, generation)]


async def changed_rows(
    connection: asyncpg.Connection, view: str, generation: int, since: int
) -> Rows:
    """The rows written after the position `since`."""
    found = await connection.fetch(CHANGED_ROWS, view, generation, since)
    return [(r[0], r[1]) for r in found]


async def rows_in_range(
    pool: asyncpg.Pool, view: str, under: str | None, *, after: str | None, limit: int
) -> tuple[Rows, int]:
    """The serving rows whose key is `under` or lies under it (None: every row), after the
    key `after`, `limit` of them at most, in key order, and the position they stand at: one
    snapshot of PostgreSQL, one range of the rows' index."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        found = await serving(connection, view)
        if found is None:
            return [], 0
        generation, position = found
        rows = await connection.fetch(
            ROWS_UNDER,
            view,
            generation,
            _FIRST_KEY if under is None else under,
            _FIRST_KEY if after is None else after,
            # "/" is followed by "0": a key under `under` sorts before `under` + "0"
            _PAST_LAST_KEY if under is None else under + "0",
            under,
            limit,
        )
    return [(key, doc) for key, doc in rows], position
