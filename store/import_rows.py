"""The importer's fingerprints of the rows it read (application/imports/fingerprints.py), in
`timeline_import_rows` (migrations/versions/0018_import_rows.py): a cache beside the log,
never a record. A fingerprint is handed back only while its report is at the version it was
stored with, so a report changed since by anyone is read from the log again.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

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


class ReadRow(msgspec.Struct, frozen=True, gc=False):
    """The row a report was read from (its key in the dataset), as of the report's
    `version`."""

    report_id: UUID
    row_key: str
    version: int
    fingerprint: bytes


class ImportRows:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def known(self, first: UUID, last: UUID) -> dict[str, tuple[UUID, bytes]]:
        """By row key, the report id and fingerprint of the reports with ids from `first` to
        `last` that are still at the version their fingerprint was stored with."""
        rows = await self._pool.fetch(KNOWN, first, last)
        return {row[0]: (row[1], row[2]) for row in rows}

    async def remember(self, rows: Sequence[ReadRow]) -> None:
        await self._pool.execute(
            REMEMBER,
            [row.report_id for row in rows],
            [row.row_key for row in rows],
            [row.version for row in rows],
            [row.fingerprint for row in rows],
        )
