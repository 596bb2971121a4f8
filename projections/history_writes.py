"""Writing a view's history: the versions and replaced rows a batch took
(projections/history_recording.py), in the batch's own transaction or by COPY for a
rebuild; and a generation's history deleted with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from projections.history_recording import HistoryBatch
from projections.timeline_entries import copy_superseded, write_superseded

# `report_versions`' columns: a view, a generation, then a `Version`'s fields in order.
COLUMNS = (
    "view",
    "generation",
    "key",
    "grp",
    "class",
    "occurred_at",
    "reported_at",
    "filed_position",
    "report_id",
    "from_position",
    "to_position",
    "counts_from",
    "rank",
    "piece",
)


# A runner's batches, of one view or several: the versions they ended ($1 to $6: view,
# generation, report, key, from and to position) and the ones they made, in one statement
# (a bulk load of a rebuild goes by COPY, `copy_history`).
CLOSE = """
UPDATE report_versions v SET to_position = c.to_position
FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int8[], $6::int8[])
    AS c(view, generation, report_id, key, from_position, to_position)
WHERE v.view = c.view AND v.generation = c.generation AND v.report_id = c.report_id
    AND v.key = c.key AND v.from_position = c.from_position
"""
CLOSE_AND_ADD = f"""
WITH closed AS ({CLOSE})
INSERT INTO report_versions ({", ".join(COLUMNS)})
SELECT * FROM unnest(
    $7::text[], $8::int[], $9::text[], $10::text[], $11::int2[], $12::timestamptz[],
    $13::timestamptz[], $14::int8[], $15::uuid[], $16::int8[], $17::int8[],
    $18::timestamptz[], $19::bytea[], $20::bytea[]
) AS a
"""
DELETE_GENERATION = "DELETE FROM report_versions WHERE view = $1 AND generation = $2"


async def write_history(
    connection: asyncpg.Connection, view: str, generation: int, batch: HistoryBatch
) -> None:
    """A batch's versions, inside the caller's transaction (the one that moves the view's
    position, so the history always holds exactly the events up to it): one round trip."""
    await write_histories(connection, [(view, generation, batch)])


async def write_histories(
    connection: asyncpg.Connection, batches: Sequence[tuple[str, int, HistoryBatch]]
) -> None:
    """Several views' batches of versions (view, generation, batch), in one round trip."""
    for _, generation, batch in batches:
        if batch.replaced:
            await write_superseded(connection, generation, batch.replaced)
    closed = [
        (view, generation, *ended) for view, generation, batch in batches for ended in batch.closed
    ]
    added = [
        (view, generation, *version)
        for view, generation, batch in batches
        for version in batch.versions
    ]
    if not (closed or added):
        return
    await connection.execute(
        CLOSE_AND_ADD,
        *(list(column) for column in zip(*closed, strict=True)) if closed else ([],) * 6,
        *(list(column) for column in zip(*added, strict=True)) if added else ([],) * 14,
    )


async def copy_history(
    connection: asyncpg.Connection, view: str, generation: int, batch: HistoryBatch
) -> None:
    """A rebuild's versions, by COPY inside the caller's transaction, in the order of the
    index a row's versions are read by (key, group, class, then the fold's order): a busy
    series' thousands of versions then lie in a few pages each, not one page each."""
    if batch.closed:  # a rebuild's fold starts from nothing: it closes nothing written
        raise ValueError("a rebuild's history closes no version written before it")
    if batch.replaced:
        await copy_superseded(connection, generation, batch.replaced)
    if not batch.versions:
        return
    await connection.copy_records_to_table(
        "report_versions",
        # A `Version` sorts by those fields first (then report and position, which a report's
        # filing position already decides): no key to compute for each of a million.
        records=[(view, generation, *version) for version in sorted(batch.versions)],
        columns=COLUMNS,
    )


async def delete_generation_history(
    connection: asyncpg.Pool | asyncpg.Connection, view: str, generation: int
) -> None:
    await connection.execute(DELETE_GENERATION, view, generation)
