"""Pages about the past of the views whose rows are each one report's: the timeline, the
strikes.

A replay folds the whole log to answer "the timeline as known at T" or "the strikes as of 1
September": 15 s at 10^6 events, for a page of 50 rows. Each of their rows is one report's
alone, and each keeps its history as the same fold draws the rows (runner batches, rebuilds,
catch-ups alike):
- The timeline keeps every row it replaced, with the log positions between which it held
  (`timeline_superseded`, migration 0016; `history_recording.ReplacedRows`), and each entry
  says since when it holds (`changed_at`). The timeline at a position N is the entries
  changed by N and the replaced rows holding at N; a page of it is read as a live page is
  (projections/timeline_pages.py: the same filters on the same columns, walked by the same
  indexes, each table's, merged), with `occurred_at` bounded by the valid time. Its rows are
  the documents as stored: nothing is folded.
- The strikes keep their reports' versions (`report_versions`, as the aggregate views do): a
  page walks their key index after the cursor, and the page's reports' own events up to N are
  folded and rendered, as a replay folds and renders them.
Either way the answer is the replay's, row for row and byte for byte, at a cost that depends
on the page and not on the log.

A view whose serving generation has not reached the cut yet (being rebuilt, a runner
behind) is answered by the replay's fold, as `past_answers` does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

import asyncpg
import msgspec

from domain.recorded import LogEntry
from projections.core import View, ViewState, render
from projections.replay import check_question, valid_time
from projections.snapshots import Cut, folded_reports, serving_cut
from projections.timeline_columns import order_of
from projections.timeline_pages import page_at, sort_key_in
from projections.timeline_query import Past, TimelineFilter

# Each page's query is planned for its own values, as a live page's is.
CUSTOM_PLANS = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"
# The rows of view $1 at $3 begun by $4, in key order after $5: `LIMIT $6`.
KEYS_AT = """
SELECT key, report_id FROM report_versions
WHERE view = $1 AND generation = $2 AND key > $5
    AND from_position <= $3 AND to_position > $3
    AND occurred_at <= coalesce($4::timestamptz, 'infinity')
ORDER BY key LIMIT $6
"""

# The same rows' keys: those in $5 (a row asked for by its key), or all of them.
KEYS_IN_AT = """
SELECT key, report_id FROM report_versions
WHERE view = $1 AND generation = $2 AND key = ANY($5::text[])
    AND from_position <= $3 AND to_position > $3
    AND occurred_at <= coalesce($4::timestamptz, 'infinity')
ORDER BY key
"""
EVERY_KEY_AT = """
SELECT key FROM report_versions
WHERE view = $1 AND generation = $2
    AND from_position <= $3 AND to_position > $3
    AND occurred_at <= coalesce($4::timestamptz, 'infinity')
ORDER BY key
"""


class TimelinePage(NamedTuple):
    position: int  # the log position the rows reflect
    documents: list[bytes]  # the rows as served (canonical JSON), at most the page's limit
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
    (up to `limit` rows passing `wanted`); None when the view's serving generation has not
    reached the cut (the caller replays). Raises ValueError for an `after` that is no sort
    key, and InvalidReplayQuestion as `replay` does."""
    view = check_question("timeline", known_at, position, as_of)
    if after is not None:
        order_of(after)  # a cursor that is no sort key is refused before any read
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            return None
        await cut.connection.execute(CUSTOM_PLANS)
        past = Past(cut.position, valid_time(as_of))
        found = await page_at(cut.connection, cut.generation, wanted, after, limit + 1, past=past)
    documents = found[:limit]
    next_after = sort_key_in(documents[-1]) if len(found) > limit else None
    return TimelinePage(cut.position, documents, next_after)


async def groups_at(
    pool: asyncpg.Pool,
    counted: str,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
) -> tuple[int, list[asyncpg.Record]] | None:
    """The timeline's rows as the question asks, counted by `counted`
    (`timeline_groups.SOURCE_GROUPS_AT` or `REGION_GROUPS_AT`), and the position they reflect;
    None when its serving generation has not reached the cut (the caller replays). Raises
    InvalidReplayQuestion as `replay` does."""
    view = check_question("timeline", known_at, position, as_of)
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            return None
        rows = await cut.connection.fetch(counted, cut.generation, cut.position, valid_time(as_of))
        return cut.position, rows


async def key_page(
    pool: asyncpg.Pool,
    view_name: str,
    after: str | None,
    limit: int,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
    under: str | None = None,
) -> KeyPage | None:
    """The rows after the key `after` (up to `limit`, and one more if there is one) of a
    view whose rows are each one report's, as the question asks (with `under`, of the rows at
    or under that key); None when its versions have not reached the cut (the caller
    replays). Raises InvalidReplayQuestion as `replay` does."""
    view = check_question(view_name, known_at, position, as_of)
    moment = valid_time(as_of)
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            return None
        if under is None:
            keys, state, _ = await own_rows_at(cut, view, after, limit + 1, moment)
        else:
            # Such a row is keyed by its report alone (its id): none stands under another,
            # so the rows at or under a key are the one row of that key, found by the index.
            keys, state, _ = await own_rows_of(cut, view, [under], moment)
            keys = [key for key in keys if after is None or key > after]
    rows = ((key, render(view, state, key, moment)) for key in keys)
    return KeyPage(cut.position, [(key, row) for key, row in rows if row is not None])


async def own_rows_at(
    cut: Cut,
    view: View,
    after: str | None,
    limit: int,
    moment: datetime | None,
) -> tuple[list[str], ViewState, list[LogEntry]]:
    """Up to `limit` keys after `after` of the rows a view whose rows are each one report's
    (and that keeps their versions) shows at the cut and valid time `moment`, found by the
    versions' key index; and the fold of those rows' reports up to the cut, with its events."""
    found = await cut.connection.fetch(
        KEYS_AT, view.name, cut.generation, cut.position, moment, after or "", limit
    )
    state, events = await folded_reports(
        cut.connection, view, cut.position, [row["report_id"] for row in found]
    )
    return [row["key"] for row in found], state, events


async def own_rows_of(
    cut: Cut, view: View, keys: list[str], moment: datetime | None
) -> tuple[list[str], ViewState, list[LogEntry]]:
    """Of `keys`, those of the rows `own_rows_at` would find, in key order; and the fold of
    their reports up to the cut, with its events."""
    found = await cut.connection.fetch(
        KEYS_IN_AT, view.name, cut.generation, cut.position, moment, keys
    )
    state, events = await folded_reports(
        cut.connection, view, cut.position, [row["report_id"] for row in found]
    )
    return [row["key"] for row in found], state, events


async def own_keys_at(cut: Cut, view: View, moment: datetime | None) -> list[str]:
    """Every key of the rows `own_rows_at` finds, in key order: for a key typed in part."""
    rows = await cut.connection.fetch(EVERY_KEY_AT, view.name, cut.generation, cut.position, moment)
    return [row["key"] for row in rows]
