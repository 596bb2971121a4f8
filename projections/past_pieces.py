"""A history's rows put together from the pieces its versions keep (`history.Pieced`: a day
row shows every report of its day), read in the fold's order: no event is folded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from projections.history import Pieced, put_together
from projections.snapshots import Snapshot

# The pieces of every version holding at $3 that had occurred by $4 and counts by then, in
# the fold's order per key.
PIECES_AT = """
SELECT key, piece FROM report_versions
WHERE view = $1 AND generation = $2 AND from_position <= $3 AND to_position > $3
    AND occurred_at <= coalesce($4::timestamptz, 'infinity')
    AND counts_from <= coalesce($4::timestamptz, 'infinity')
ORDER BY key, occurred_at, reported_at, filed_position
"""
# The same, for the rows of given keys of one view or several ($1 views, $2 generations,
# $3 keys; $4 the position, $5 the valid time): a runner's batches put those together.
PIECES_OF_KEYS = """
SELECT v.view, v.key, v.piece
FROM unnest($1::text[], $2::int[], $3::text[]) AS k(view, generation, key)
JOIN report_versions v ON v.view = k.view AND v.generation = k.generation AND v.key = k.key
WHERE v.from_position <= $4 AND v.to_position > $4
    AND v.occurred_at <= coalesce($5::timestamptz, 'infinity')
    AND v.counts_from <= coalesce($5::timestamptz, 'infinity')
ORDER BY v.view, v.key, v.occurred_at, v.reported_at, v.filed_position
"""

Pieces = dict[str, list[bytes | None]]  # per row key, in the fold's order


async def pieces_at(
    connection: asyncpg.Connection,
    view: Pieced,
    generation: int,
    position: int,
    *,
    moment: datetime | None,
    keys: Sequence[str] | None = None,
) -> Pieces:
    """The pieces of the versions holding at `position` that had occurred by `moment`, per
    row key (of `keys` only, if given), in the fold's order."""
    if keys is not None:
        found = await pieces_of_keys(
            connection, position, [(view.name, generation, keys)], moment=moment
        )
        return found.get(view.name, {})
    pieces: Pieces = {}
    for key, piece in await connection.fetch(PIECES_AT, view.name, generation, position, moment):
        pieces.setdefault(key, []).append(piece)
    return pieces


async def pieces_of_keys(
    connection: asyncpg.Connection,
    position: int,
    wanted: Sequence[tuple[str, int, Sequence[str]]],
    *,
    moment: datetime | None = None,
) -> dict[str, Pieces]:
    """`pieces_at` for the given keys of several views (view, generation, keys), in one
    statement: each view's pieces per row key."""
    asked = [(view, generation, key) for view, generation, keys in wanted for key in keys]
    if not asked:
        return {}
    found = await connection.fetch(
        PIECES_OF_KEYS, *(list(column) for column in zip(*asked, strict=True)), position, moment
    )
    pieces: dict[str, Pieces] = {}
    for view, key, piece in found:
        pieces.setdefault(view, {}).setdefault(key, []).append(piece)
    return pieces


async def put_together_at(
    at: Snapshot, view: Pieced, moment: datetime | None, keys: Sequence[str] | None = None
) -> dict[str, msgspec.Struct] | None:
    """Every row of a `Pieced` view (of `keys` only, if given) at the snapshot's position
    and valid time `moment`, put together from its versions' pieces, in key order; None when
    a row cannot be (the log is then folded)."""
    pieces = await pieces_at(
        at.connection, view, at.generation, at.position, moment=moment, keys=keys
    )
    rows: dict[str, msgspec.Struct] = {}
    for key in sorted(pieces):
        row = put_together(view, key, pieces[key])
        if row is None:
            return None
        rows[key] = row
    return rows
