"""How far each view has come, whether a runner is working on it or a rebuild building a new
generation of it, and how many events it has quarantined (projections/quarantine.py)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
import msgspec

from projections.quarantine import open_counts
from projections.rebuild import REBUILD_LOCK_NAMESPACE
from projections.runner import LOCK_NAMESPACE
from store.event_store import HEAD

STATUS = """
SELECT g.generation, g.position
FROM projection_generations g WHERE g.view = $1 AND g.state = 'serving'
"""
# The events a view has yet to fold, and how long the oldest of them has waited: a view
# that keeps up shows (0, 0) however busy the log, one that has stopped shows both growing.
LAG = """
SELECT count(*) AS events,
       coalesce(extract(epoch FROM clock_timestamp() - min(e.recorded_at)), 0)::float8 AS seconds
FROM timeline_events e WHERE e.notification_id > $1
"""
# A session advisory lock on one bigint shows in pg_locks split into two 32-bit halves.
LOCK_HELD = """
WITH k AS (SELECT hashtext($1)::bigint AS key)
SELECT EXISTS (
    SELECT 1 FROM pg_locks l, k
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.classid::text::bigint = (k.key >> 32) & 4294967295
      AND l.objid::text::bigint = k.key & 4294967295)
"""


class ViewStatus(msgspec.Struct, frozen=True, kw_only=True):
    view: str
    generation: int | None
    position: int
    log_position: int
    lag: int
    lag_seconds: float = 0.0  # how long the oldest event it has yet to fold has waited
    # "building" (a rebuild is building a new generation, while this one serves: a
    # `timeline rebuild`, or runners catching up a view far behind), "running" (a runner
    # holds the view), "stopped", or "new" (never run)
    state: str
    quarantined: int = 0  # events it skipped, or reports a row leaves out, not resolved


async def view_statuses(pool: asyncpg.Pool, views: Iterable[str]) -> list[ViewStatus]:
    log_position = int(await pool.fetchval(HEAD))
    quarantined = await open_counts(pool)
    statuses = []
    for view in views:
        row = await pool.fetchrow(STATUS, view)
        position = 0 if row is None else int(row["position"])
        lag = await pool.fetchrow(LAG, position)
        working = await _working_on(pool, view)
        statuses.append(
            ViewStatus(
                view=view,
                generation=None if row is None else row["generation"],
                position=position,
                log_position=log_position,
                lag=int(lag["events"]),
                lag_seconds=round(float(lag["seconds"]), 3),
                state=working or ("new" if row is None else "stopped"),
                quarantined=quarantined.get(view, 0),
            )
        )
    return statuses


async def _working_on(pool: asyncpg.Pool, view: str) -> str | None:
    """Who holds a lock on the view: "building" (a rebuild), "running" (a runner), or None."""
    if await pool.fetchval(LOCK_HELD, REBUILD_LOCK_NAMESPACE + view):
        return "building"
    if await pool.fetchval(LOCK_HELD, LOCK_NAMESPACE + view):
        return "running"
    return None
