"""The quarantine table: what each view skipped (projections/core.py says when), and why.

The folds decide what to skip by themselves, the same way every time; this table only tells
operators. A runner records what a batch skipped in the batch's own transaction (with its
rows and tracking position), so an entry is there exactly when the view's position is past
it. A rebuild (and `timeline quarantine retry`, which is one) records what it skipped when it
switches, and marks resolved whatever it no longer skips (after a code fix): entries are
never deleted. Each entry is logged once, when it is first recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.core import Quarantined

log = logging.getLogger("timeline.projections")

# The report comes from the log when the fold could not tell (an event it could not decode).
RECORD = """
INSERT INTO projection_quarantine (view, position, key, report_id, error)
SELECT q.view, q.position, q.key,
       coalesce(q.report_id, (SELECT originator_id FROM timeline_events
                              WHERE notification_id = q.position)),
       q.error
FROM unnest($1::text[], $2::int8[], $3::text[], $4::uuid[], $5::text[])
     AS q(view, position, key, report_id, error)
ON CONFLICT (view, position, key) DO NOTHING
RETURNING view, position, key, report_id, error
"""
# A rebuild's findings: new ones recorded, resolved ones found again reopened.
RECORD_AGAIN = """
INSERT INTO projection_quarantine (view, position, key, report_id, error)
SELECT q.view, q.position, q.key,
       coalesce(q.report_id, (SELECT originator_id FROM timeline_events
                              WHERE notification_id = q.position)),
       q.error
FROM unnest($1::text[], $2::int8[], $3::text[], $4::uuid[], $5::text[])
     AS q(view, position, key, report_id, error)
ON CONFLICT (view, position, key) DO UPDATE
SET error = excluded.error, resolved_at = NULL, resolution = NULL
WHERE projection_quarantine.resolved_at IS NOT NULL
RETURNING view, position, key, report_id, error
"""
RESOLVE_OTHERS = """
UPDATE projection_quarantine SET resolved_at = now(), resolution = $4
WHERE view = $1 AND resolved_at IS NULL AND position <= $2
  AND (position, key) NOT IN (SELECT * FROM unnest($3::int8[], $5::text[]))
"""
OPEN_COUNTS = """
SELECT view, count(*) FROM projection_quarantine WHERE resolved_at IS NULL GROUP BY view
"""
LISTED = """
SELECT view, position, key, report_id, error, quarantined_at, resolved_at, resolution
FROM projection_quarantine
WHERE ($1::text IS NULL OR view = $1) AND ($2 OR resolved_at IS NULL)
ORDER BY view, position, key
"""


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the quarantine, as `timeline quarantine list` shows it."""

    view: str
    position: int
    key: str | None  # the row that could not show the report; None: the view skipped the event
    report_id: UUID | None
    error: str
    quarantined_at: datetime
    resolved_at: datetime | None
    resolution: str | None


def _columns(entries: Sequence[Quarantined]) -> tuple[list[object], ...]:
    return (
        [q.view for q in entries],
        [q.position for q in entries],
        [q.key for q in entries],
        [q.report_id for q in entries],
        [q.error for q in entries],
    )


def _warn(rows: Iterable[asyncpg.Record]) -> None:
    for row in rows:
        what = f"row {row['key']!r} leaves out report" if row["key"] else "skipped report"
        log.warning(
            "view %s quarantined position %d (%s %s): %s; see `timeline quarantine list`",
            row["view"],
            row["position"],
            what,
            row["report_id"],
            row["error"],
        )


async def record(connection: asyncpg.Connection, entries: Sequence[Quarantined]) -> None:
    """Record `entries` (those already recorded stay as they are), inside the caller's
    transaction; each new one is logged once."""
    if entries:
        _warn(await connection.fetch(RECORD, *_columns(entries)))


async def record_rebuilt(
    connection: asyncpg.Connection, view: str, position: int, entries: Sequence[Quarantined]
) -> None:
    """What a rebuild of `view` up to `position` skipped is exactly `entries`: record them
    and mark every other open entry of the view up to there resolved."""
    columns = _columns(entries)
    await connection.execute(
        RESOLVE_OTHERS,
        view,
        position,
        columns[1],
        f"taken by a rebuild at position {position}",
        columns[2],
    )
    if entries:
        _warn(await connection.fetch(RECORD_AGAIN, *columns))


async def open_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """How many entries each view has that are not resolved (views with none are absent)."""
    return {row[0]: row[1] for row in await pool.fetch(OPEN_COUNTS)}


async def listed(
    pool: asyncpg.Pool, view: str | None = None, *, resolved: bool = False
) -> list[Entry]:
    """The open entries (with `resolved`, every one), by view and position."""
    return [
        Entry(
            view=row["view"],
            position=row["position"],
            key=row["key"] or None,
            report_id=row["report_id"],
            error=row["error"],
            quarantined_at=row["quarantined_at"],
            resolved_at=row["resolved_at"],
            resolution=row["resolution"],
        )
        for row in await pool.fetch(LISTED, view, resolved)
    ]
