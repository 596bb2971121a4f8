"""Pages about the past of the views whose rows are each one report's: the timeline, the
strikes.

A replay folds the whole log to answer "the timeline as known at T" or "the strikes as of 1
September": 15 s at 10^6 events, for a page of 50 rows. Each of their rows is one report's
alone, so a page needs only its own reports: their versions (projections/history.py, kept
by the same fold that draws the rows) say, by index, which reports had a row at the cut N
and the valid time D, in the page's order; those reports' own events up to N are folded
and rendered, as the replay folds and renders them. The answer is the replay's, row for
row and byte for byte, at a cost that depends on the page and not on the log.

- Strikes are paged in key order (report ids): the versions' key index is walked after the
  cursor.
- The timeline is paged in its order (occurrence, reporting, filing): the versions of the
  timeline are indexed in that order (migration 0016), with the claim's kind (a correction
  keeps it) as their group, so a page of some kinds walks theirs only. Its other filters
  (region, actor, source, verification, date ranges, retracted) are those of the rows as
  they stood at N, so they are applied to the rendered rows: the scan goes on, in growing
  steps, until the page is full. A filter that few rows pass reads more of the order.

A view whose serving generation has not reached the cut yet (being rebuilt, a runner
behind) is answered by the replay's fold, as `past_answers` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from projections.core import View, render
from projections.past_answers import Cut, folded_reports, serving_cut
from projections.replay import check_question, valid_time
from projections.timeline import TimelineRow
from projections.timeline_entries import order_of
from projections.timeline_pages import TimelineFilter

_EARLIEST = datetime.min.replace(tzinfo=UTC)

# The reports with a row at $2 begun by $3, after the order ($4, $5, $6), of the kinds $7
# (NULL: any), in the timeline's order: `LIMIT $8`.
TIMELINE_AT = """
SELECT report_id, occurred_at, reported_at, filed_position FROM report_versions
WHERE view = 'timeline' AND generation = $1 AND from_position <= $2 AND to_position > $2
    AND occurred_at <= coalesce($3::timestamptz, 'infinity')
    AND (occurred_at, reported_at, filed_position) > ($4::timestamptz, $5::timestamptz, $6::int8)
    AND ($7::text[] IS NULL OR grp = ANY($7::text[]))
ORDER BY occurred_at, reported_at, filed_position LIMIT $8
"""
# The rows of view $1 at $3 begun by $4, in key order after $5: `LIMIT $6`.
KEYS_AT = """
SELECT key, report_id FROM report_versions
WHERE view = $1 AND generation = $2 AND key > $5
    AND from_position <= $3 AND to_position > $3
    AND occurred_at <= coalesce($4::timestamptz, 'infinity')
ORDER BY key LIMIT $6
"""

# How many of the timeline's reports a filtered page reads at most per step (each step
# reads four times the one before, from the page's size up).
MOST_PER_STEP = 4_096


class TimelinePage(NamedTuple):
    position: int  # the log position the rows reflect
    rows: list[TimelineRow]  # at most the page's limit, in order
    next_after: str | None  # the sort_key to continue after, if more rows match


class KeyPage(NamedTuple):
    position: int
    rows: list[tuple[str, msgspec.Struct]]  # in key order: up to one more than the limit


async def timeline_page(
    pool: asyncpg.Pool,
    wanted: TimelineFilter,
    after: str | None,
    limit: int,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
) -> TimelinePage | None:
    """The page of the timeline after the sort key `after` that the question asks about
    (up to `limit` rows passing `wanted`); None when the view's versions have not reached
    the cut (the caller replays). Raises ValueError for an `after` that is no sort key, and
    InvalidReplayQuestion as `replay` does."""
    view = check_question("timeline", known_at, position, as_of)
    start = (_EARLIEST, _EARLIEST, -1) if after is None else tuple(order_of(after))
    kinds = None if wanted.kinds is None else sorted(wanted.kinds)
    moment = valid_time(as_of)
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            return None
        rows: list[TimelineRow] = []
        step = limit + 1
        while len(rows) <= limit:
            found = await cut.connection.fetch(
                TIMELINE_AT, cut.generation, cut.position, moment, *start, kinds, step
            )
            ids = [candidate["report_id"] for candidate in found]
            rows.extend(
                row
                for row in await _rendered(cut, view, ids, moment)
                if isinstance(row, TimelineRow) and wanted.matches(row)
            )
            if len(found) < step:
                break
            start = tuple(found[-1])[1:]
            step = min(step * 4, MOST_PER_STEP)
        more = len(rows) > limit
        return TimelinePage(cut.position, rows[:limit], rows[limit - 1].sort_key if more else None)


async def key_page(
    pool: asyncpg.Pool,
    view_name: str,
    after: str | None,
    limit: int,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
) -> KeyPage | None:
    """The rows after the key `after` (up to `limit`, and one more if there is one) of a
    view whose rows are each one report's, as the question asks; None when its versions have
    not reached the cut (the caller replays). Raises InvalidReplayQuestion as `replay` does."""
    view = check_question(view_name, known_at, position, as_of)
    moment = valid_time(as_of)
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            return None
        found = await cut.connection.fetch(
            KEYS_AT, view.name, cut.generation, cut.position, moment, after or "", limit + 1
        )
        ids = [row["report_id"] for row in found]
        rendered = await _rendered(cut, view, ids, moment)
        return KeyPage(
            cut.position,
            [(row["key"], drawn) for row, drawn in zip(found, rendered, strict=True) if drawn],
        )


async def _rendered(
    cut: Cut, view: View, ids: Sequence[UUID], moment: datetime | None
) -> list[msgspec.Struct | None]:
    """The rows of the reports `ids` at the cut and valid time, in the order of `ids`: each
    folded from its own events, rendered as a replay renders it (None: no row)."""
    state, _ = await folded_reports(cut.connection, view, cut.position, ids)
    return [render(view, state, str(report_id), moment) for report_id in ids]
