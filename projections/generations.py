"""A view's generations: the one that serves reads, and the one a rebuild fills beside it.

One 'serving' generation per view answers reads; a rebuild (projections/rebuild.py) fills a
'building' one beside it, then swaps which one serves and retires the old. A runner moves
its generation's position with each batch (projections/persistence.py).
"""

from __future__ import annotations

import asyncpg

from projections.history import keeps_versions
from projections.history_writes import delete_generation_history
from projections.persistence import VIEWS_CHANNEL
from projections.registry import VIEWS
from projections.row_stores import Generation, row_store
from projections.timeline_entries import TIMELINE_ENTRIES, delete_superseded_generation

SERVING = """
SELECT generation, position FROM projection_generations WHERE view = $1 AND state = 'serving'
"""
CREATE_FIRST = """
INSERT INTO projection_generations (view, generation, state) VALUES ($1, 1, 'serving')
ON CONFLICT DO NOTHING
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


async def serving(connection: asyncpg.Connection, view: str) -> tuple[int, int] | None:
    """The view's serving generation and its position, or None before its first: read
    only, so that a standby can answer it (`serving_generation` creates the first)."""
    row = await connection.fetchrow(SERVING, view)
    return None if row is None else (row["generation"], row["position"])


async def serving_generation(connection: asyncpg.Connection, view: str) -> Generation:
    """The generation that serves `view`, created (empty, at position 0) on first use."""
    row = await connection.fetchrow(SERVING, view)
    if row is None:
        await connection.execute(CREATE_FIRST, view)
        row = await connection.fetchrow(SERVING, view)
        assert row is not None
    return Generation(view, row["generation"], row["position"])


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
