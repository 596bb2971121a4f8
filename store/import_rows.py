"""The importer's fingerprints of the rows it read (application/imports/fingerprints.py), in
`timeline_import_rows` (migrations/versions/0018_import_rows.py): a cache beside the log,
never a record. A fingerprint is handed back only while its report is at the version it was
stored with, so a report changed since by anyone is read from the log again.

An import writes its fingerprints while its events are appended, on a connection of its own
(`remembering`): the two take about as long as each other, and the server does both at
once. They are committed only once the append is, so a fingerprint never outlives an append
that failed (one for a version 1 that was never written could be taken, later, for the
version 1 another import wrote).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
import msgspec

from store.transactions import committed_if

# The import asks about a whole range at once, right after it grew: the statistics still
# say the range is small, and the planner would probe the log once per fingerprint (0.55 s
# for 200,000 rows where a hash join takes 0.3 s). Off for this transaction alone.
WHOLE_RANGES = "SELECT set_config('enable_nestloop', 'off', true)"
# The current version of every report in the range, from the log's primary key, beside
# the fingerprints of the same range.
KNOWN = """
SELECT f.row_key, f.report_id, f.fingerprint
FROM timeline_import_rows f
JOIN (
    SELECT originator_id, max(originator_version) AS version FROM timeline_events
    WHERE originator_id BETWEEN $1 AND $2 GROUP BY originator_id
) e ON e.originator_id = f.report_id AND e.version = f.version
WHERE f.report_id BETWEEN $1 AND $2
"""
REMEMBER = """
INSERT INTO timeline_import_rows (report_id, row_key, version, fingerprint)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::int8[], $4::bytea[])
ON CONFLICT (report_id) DO UPDATE SET row_key = excluded.row_key, version = excluded.version,
    fingerprint = excluded.fingerprint
"""


TABLE = "timeline_import_rows"
COLUMNS = ("report_id", "row_key", "version", "fingerprint")


class ReadRow(msgspec.Struct, frozen=True, gc=False):
    """The row a report was read from (its key in the dataset), as of the report's
    `version`."""

    report_id: UUID
    row_key: str
    version: int
    fingerprint: bytes


# By row key, the report id and fingerprint kept for it (ImportRows.known).
Known = dict[str, tuple[UUID, bytes]]


class ImportRows:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def known(self, first: UUID, last: UUID) -> Known:
        """By row key, the report id and fingerprint of the reports with ids from `first` to
        `last` that are still at the version their fingerprint was stored with."""
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(WHOLE_RANGES)
            rows = await connection.fetch(KNOWN, first, last)
        return {row[0]: (row[1], row[2]) for row in rows}

    async def remember(self, rows: Sequence[ReadRow]) -> None:
        await self._pool.execute(REMEMBER, *_arguments(rows))

    @asynccontextmanager
    async def remembering(self) -> AsyncIterator[Remembering]:
        """A transaction of its own for an import's fingerprints, written as they are handed
        to it (`Remembering.add`) and committed when the block ends, unless
        it raised or `Remembering.abandon` was called: then none is kept. With a pool of one
        connection, which the import's append needs, they are written after the block."""
        if self._pool.get_max_size() < 2:
            remembering = Remembering(None)
            yield remembering
            if remembering.kept:
                await self.remember(remembering.held)
            return
        async with self._pool.acquire() as connection:
            remembering = Remembering(connection)
            async with committed_if(connection, lambda: remembering.kept, remembering.stop):
                yield remembering
                await remembering.flush()


class Remembering:
    """Fingerprints on their way to `timeline_import_rows`: each batch handed to `add` is
    written at once, on a connection of its own, while the importer goes on deciding the
    rows after it (the server is idle meanwhile). See `ImportRows.remembering`."""

    def __init__(self, connection: asyncpg.Connection | None) -> None:
        self._connection = connection
        self._batches: asyncio.Queue[list[ReadRow] | None] = asyncio.Queue()
        self._writer = (
            None
            if connection is None
            else asyncio.create_task(self._write(connection), name="import fingerprints")
        )
        self.held: list[ReadRow] = []  # with no connection of its own: written after
        self.kept = True
        self._stopping = False

    def add(self, rows: list[ReadRow]) -> None:
        """Write `rows`' fingerprints, after those added before."""
        if self._writer is None:
            if self._connection is not None:
                raise RuntimeError("fingerprints added once they were all written")
            self.held.extend(rows)
        elif rows:
            self._batches.put_nowait(rows)

    def abandon(self) -> None:
        """Keep none of the fingerprints (an import that writes nothing)."""
        self.kept = False

    async def flush(self) -> None:
        """Once every fingerprint added so far is written (raises what writing raised); no
        more may be added."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            self._batches.put_nowait(None)
            await writer

    async def stop(self) -> None:
        """Write no more; once the statement under way has ended (a cancel would leave the
        connection to asyncpg's recovery: rare enough to wait)."""
        self._stopping = True  # the batches still waiting are dropped
        if self._writer is not None:
            writer, self._writer = self._writer, None
            self._batches.put_nowait(None)
            await asyncio.gather(writer, return_exceptions=True)

    async def _write(self, connection: asyncpg.Connection) -> None:
        # Copied while no row holds a fingerprint already (an import's first: a third of
        # the server's work of an upsert); from the first batch that meets one, upserted.
        copying = True
        while (rows := await self._batches.get()) is not None:
            if self._stopping:
                continue
            if copying:
                try:
                    async with connection.transaction():  # a savepoint: undoes this batch
                        await connection.copy_records_to_table(
                            TABLE, records=[_record(row) for row in rows], columns=COLUMNS
                        )
                    continue
                except asyncpg.UniqueViolationError:
                    copying = False
            await connection.execute(REMEMBER, *_arguments(rows))


def _record(row: ReadRow) -> tuple[UUID, str, int, bytes]:
    return (row.report_id, row.row_key, row.version, row.fingerprint)


def _arguments(rows: Sequence[ReadRow]) -> tuple[list[UUID], list[str], list[int], list[bytes]]:
    return (
        [row.report_id for row in rows],
        [row.row_key for row in rows],
        [row.version for row in rows],
        [row.fingerprint for row in rows],
    )
