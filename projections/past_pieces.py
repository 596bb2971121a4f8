"""A history's rows put together from the pieces its versions keep (`history.Pieced`: a day
row shows every report of its day), read in the fold's order: no event is folded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from projections.history import Pieced, pieces_read, put_together
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
# $3 keys, $6 how many of a row's latest pieces, NULL: all; $4 the position, $5 the valid
# time): a runner's batches put those together. The latest are found walking the versions'
# order index back (report_versions_order: key, group, class, then the fold's order), which
# for a history of points by day, one class and one group, is the fold's order
# (history.LatestOfItsDay): a busy day costs no more than a quiet one.
PIECES_OF_KEYS = """
SELECT k.view, k.key, p.piece
FROM unnest($1::text[], $2::int[], $3::text[], $6::int[]) AS k(view, generation, key, most)
CROSS JOIN LATERAL (
    SELECT v.piece, v.occurred_at, v.reported_at, v.filed_position
    FROM report_versions v
    WHERE v.view = k.view AND v.generation = k.generation AND v.key = k.key
        AND v.from_position <= $4 AND v.to_position > $4
        AND v.occurred_at <= coalesce($5::timestamptz, 'infinity')
        AND v.counts_from <= coalesce($5::timestamptz, 'infinity')
    ORDER BY v.grp DESC, v.class DESC, v.occurred_at DESC, v.reported_at DESC,
        v.filed_position DESC
    LIMIT k.most
) AS p
ORDER BY k.view, k.key, p.occurred_at, p.reported_at, p.filed_position
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
            connection, position, [(view, generation, keys)], moment=moment
        )
        return found.get(view.name, {})
    pieces: Pieces = {}
    for key, piece in await connection.fetch(PIECES_AT, view.name, generation, position, moment):
        pieces.setdefault(key, []).append(piece)
    return pieces


async def pieces_of_keys(
    connection: asyncpg.Connection,
    position: int,
    wanted: Sequence[tuple[Pieced, int, Sequence[str]]],
    *,
    moment: datetime | None = None,
) -> dict[str, Pieces]:
    """`pieces_at` for the given keys of several views (view, generation, keys), in one
    statement: each view's pieces per row key (a history of points by day: the latest its
    row needs, `history.pieces_read`)."""
    asked = [
        (view.name, generation, key, pieces_read(view))
        for view, generation, keys in wanted
        for key in keys
    ]
    if not asked:
        return {}
    views, generations, keys, most = (list(column) for column in zip(*asked, strict=True))
    found = await connection.fetch(PIECES_OF_KEYS, views, generations, keys, position, moment, most)
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
