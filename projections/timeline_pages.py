"""Pages of the live timeline, and of the timeline as it stood at a past position, read from
`timeline_entries` by the SQL projections/timeline_query.py writes.

How a page is read depends on what the rows are like now: a reporting range few rows fall
in is gathered and sorted (`few_reported_query`); otherwise each span class is walked in
its order or its tagged rows gathered, as projections/timeline_walks.py estimates from the
statistics. A question about the past gathers the rows replaced after its position when
they are few (`FEW_REPLACED`), as near the head of the log.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import asyncpg
import msgspec

from projections.timeline_columns import OPEN_START
from projections.timeline_entries import SUPERSEDED
from projections.timeline_query import (
    FEW_REPORTED,
    SERVING,
    Past,
    TimelineFilter,
    few_reported_query,
    page_query,
)
from projections.timeline_walks import WALK_ONLY, WALK_OR_GATHER, tag_statistics, walks
from projections.views.timeline import TimelineView


class Page(NamedTuple):
    position: int  # the log position the rows reflect
    documents: list[bytes]  # canonical JSON, in order
    next_after: str | None  # the sort_key to continue after, if more rows match


async def _gathers(connection: asyncpg.Connection, generation: int, wanted: TimelineFilter) -> bool:
    if wanted.reported_from is None and wanted.reported_to is None:
        return False
    query, arguments = few_reported_query(generation, wanted)
    return int(await connection.fetchval(query, *arguments)) < FEW_REPORTED


# Up to this many rows replaced after a position, a past page gathers them (`Past`).
FEW_REPLACED = 2_000
REPLACED_AFTER = f"""
SELECT count(*) FROM (
    SELECT FROM {SUPERSEDED} WHERE generation = $1 AND to_position > $2 LIMIT {FEW_REPLACED}
) AS replaced
"""


async def page_at(
    connection: asyncpg.Connection,
    generation: int,
    wanted: TimelineFilter,
    after: str | None,
    limit: int,
    *,
    walked: Collection[int] | None = None,
    past: Past | None = None,
) -> list[bytes]:
    """Up to `limit` documents of `generation` after the sort key `after` that pass
    `wanted`, in order (with `past`, as they stood then). `walked`: the span classes to walk
    in order (None: as `walks` says from the statistics; none when the page gathers a
    reporting range). The statistics and the count that decide how are the entries' (the
    rows now), for a question about the past too: they choose the plan, not the rows."""
    gather = await _gathers(connection, generation, wanted)
    if past is not None:
        replaced = await connection.fetchval(REPLACED_AFTER, generation, past.position)
        past = past._replace(few_replaced=replaced < FEW_REPLACED)
    if gather:
        walked = ()
    elif walked is None:
        walked = walks(await tag_statistics(connection), wanted, limit)
    if not walked:
        query, arguments = page_query(generation, wanted, after, limit, gather=gather, past=past)
        return [row["doc"].encode() for row in await connection.fetch(query, *arguments)]
    # The classes to walk, in a query where nothing else is possible; then the others.
    query, arguments = page_query(generation, wanted, after, limit, spans=walked, past=past)
    await connection.execute(WALK_ONLY)
    found = await connection.fetch(query, *arguments)
    await connection.execute(WALK_OR_GATHER)
    others = [span for span in range(OPEN_START + 1) if span not in walked]
    query, arguments = page_query(generation, wanted, after, limit, spans=others, past=past)
    found += await connection.fetch(query, *arguments)
    found.sort(key=lambda row: (row["occurred_at"], row["reported_at"], row["filed_at"]))
    return [row["doc"].encode() for row in found[:limit]]


async def page(pool: asyncpg.Pool, wanted: TimelineFilter, after: str | None, limit: int) -> Page:
    """The serving generation's rows after the sort key `after` that pass `wanted`, up to
    `limit`, and the sort key to continue after if more pass. Raises ValueError if `after`
    is not a sort key."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        serving = await connection.fetchrow(SERVING, TimelineView.name)
        if serving is None:
            return Page(0, [], None)
        found = await page_at(connection, serving["generation"], wanted, after, limit + 1)
    documents = found[:limit]
    next_after = sort_key_in(documents[-1]) if len(found) > limit else None
    return Page(serving["position"], documents, next_after)


class _SortKey(msgspec.Struct):
    sort_key: str


def sort_key_in(document: bytes) -> str:
    """The sort key of a row as stored (its other fields are skipped, not decoded)."""
    return msgspec.json.decode(document, type=_SortKey).sort_key
