"""Folding the stored log into views in memory: one way, for a rebuild, for runners catching
up on start, and for the benchmarks that measure them.

The log is read in big pages, the next page asked for as soon as one arrives, so that the
database reads it while this one is folded; each event is decoded once for every view
(`Folds`). The fold keeps every report of the log alive, millions of objects the cyclic
garbage collector would scan again and again for nothing (none of them is in a cycle), so
the collector is paused while folding (`store.collector`); it is process-wide, and other
tasks of the process run without cyclic collection meanwhile (reference counting still
frees memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg

from projections.folds import Folds
from store.event_store import READ_LOG, READ_LOG_THROUGH, entry_from_row

PAGE_SIZE = 20_000
# Events folded between two turns of the event loop, so the next page arrives meanwhile and
# the process's other tasks go on.
FOLD_SLICE = 1_000


async def log_pages(
    pool: asyncpg.Pool, *, through: int | None = None, page_size: int = PAGE_SIZE
) -> AsyncIterator[list[asyncpg.Record]]:
    """The log from its start (up to position `through`, if given) in pages of raw rows."""

    async def page(after: int) -> list[asyncpg.Record]:
        if through is None:
            rows: list[asyncpg.Record] = await pool.fetch(READ_LOG, after, page_size)
        else:
            rows = await pool.fetch(READ_LOG_THROUGH, after, through, page_size)
        return rows

    def fetch(after: int) -> asyncio.Future[list[asyncpg.Record]]:
        return asyncio.ensure_future(page(after))

    upcoming = fetch(0)
    try:
        while rows := await upcoming:
            upcoming = fetch(rows[-1][0])
            yield rows
    finally:
        upcoming.cancel()


async def fold_log(
    pool: asyncpg.Pool, folds: Folds, *, through: int | None = None, page_size: int = PAGE_SIZE
) -> None:
    """Feed `folds` the log from its start, up to position `through` if given. The caller
    pauses the collector (`collector_paused`) for as long as it keeps what was folded."""
    async for rows in log_pages(pool, through=through, page_size=page_size):
        for start in range(0, len(rows), FOLD_SLICE):
            folds.feed([entry_from_row(row) for row in rows[start : start + FOLD_SLICE]])
            await asyncio.sleep(0)
