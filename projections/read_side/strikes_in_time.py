"""Strikes in the order they happened (`GET /v1/strikes/by-date`), newest or oldest first.

`/v1/strikes` pages its rows by key (report ids), which is no order a reader wants: a
dashboard's list of strikes wants them by when they happened. The strikes keep their
reports' versions (migration 0016), indexed in the order things happened (occurrence, then
reporting, then filing), so the strikes in that order are one walk of that index, backwards
for newest first; the page's own reports are then folded into their strike rows at the
answer's position, as a replay draws them (projections/past_pages.py does the same for the
strikes' pages by key). Strikes whose versions have not reached the question's cut (being
rebuilt) are put in order from their replay instead (`in_time_order`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from projections.core import render
from projections.replay import ReplayAnswer, check_question, valid_time
from projections.snapshots import folded_reports, serving_cut
from projections.views.strikes import StrikeRow

FIRST = (datetime.min.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC), -1)
LAST = (datetime.max.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), 2**62)

# The strikes with a row at $2 begun by $3, beyond the order ($4, $5, $6) in the walk's
# direction: `LIMIT $7`. (The strikes' versions' time-order index, 0016.)
_WALK = """
SELECT report_id, occurred_at, reported_at, filed_position FROM report_versions
WHERE view = 'strikes' AND generation = $1 AND from_position <= $2 AND to_position > $2
    AND occurred_at <= coalesce($3::timestamptz, 'infinity')
    AND (occurred_at, reported_at, filed_position)
        {beyond} ($4::timestamptz, $5::timestamptz, $6::int8)
ORDER BY occurred_at {direction}, reported_at {direction}, filed_position {direction} LIMIT $7
"""
NEWEST_FIRST = _WALK.format(beyond="<", direction="DESC")
OLDEST_FIRST = _WALK.format(beyond=">", direction="ASC")
MOST_PER_STEP = 4_096

Order = tuple[datetime, datetime, int]


class InTime(msgspec.Struct, frozen=True):
    """Strikes in time order from where a page starts (up to one more than the page), and
    the log position they were drawn at."""

    position: int
    rows: list[tuple[str, StrikeRow, Order]]


async def walked(
    pool: asyncpg.Pool,
    *,
    known_at: datetime | None,
    position: int | None,
    as_of: datetime | date | None,
    newest: bool,
    after: Order | None,
    limit: int,
) -> InTime | None:
    """The page's strikes found by their versions; None when they are behind."""
    strikes = check_question("strikes", known_at, position, as_of)
    moment = valid_time(as_of)
    start = after or (LAST if newest else FIRST)
    async with serving_cut(pool, "strikes", known_at, position) as cut:
        if cut is None:
            return None
        rows: list[tuple[str, StrikeRow, Order]] = []
        step = limit + 1
        while len(rows) <= limit:
            found = await cut.connection.fetch(
                NEWEST_FIRST if newest else OLDEST_FIRST,
                cut.generation,
                cut.position,
                moment,
                *start,
                step,
            )
            ids: list[UUID] = [candidate["report_id"] for candidate in found]
            state, _ = await folded_reports(cut.connection, strikes, cut.position, ids)
            for candidate in found:
                key = str(candidate["report_id"])
                row = render(strikes, state, key, moment)
                if isinstance(row, StrikeRow):  # as the view draws it, or not at all
                    rows.append((key, row, tuple(candidate)[1:]))
            if len(found) < step:
                break
            start = tuple(found[-1])[1:]
            step = min(step * 4, MOST_PER_STEP)
        return InTime(cut.position, rows)


def in_time_order(answer: ReplayAnswer, *, newest: bool, after: Order | None) -> InTime:
    """A replayed answer's strikes in time order, from after `after`."""
    rows = []
    for entry in answer.rows:
        row = entry.row
        if isinstance(row, StrikeRow):
            occurred = datetime.fromisoformat(_start(msgspec.to_builtins(row.occurred)))
            reported = datetime.fromisoformat(_start(msgspec.to_builtins(row.reported)))
            rows.append((entry.key, row, (occurred, reported, row.source.filed_at_position)))
    rows.sort(key=lambda found: found[2], reverse=newest)
    if after is not None:
        rows = [found for found in rows if (found[2] < after if newest else found[2] > after)]
    return InTime(answer.position, rows)


def _start(occurrence: Any) -> str:
    if "at" in occurrence:
        return str(occurrence["at"]).replace("Z", "+00:00")
    if "on" in occurrence:
        return f"{occurrence['on']}T00:00:00+00:00"
    if "year" in occurrence:
        return f"{occurrence['year']:04d}-{occurrence['month']:02d}-01T00:00:00+00:00"
    if occurrence.get("start"):
        return _start(occurrence["start"])
    return "0001-01-01T00:00:00+00:00"
