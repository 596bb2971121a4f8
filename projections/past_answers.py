"""Past-tense answers read from the reports' versions, not by folding the log.

For a view that keeps its reports' versions and whose rows need a few of them
(`history.Indexed`, `history.picks_few`): the answer at a log cut N
and a valid time D takes, by index, the few versions each row needs (`history`'s rule, asked
of PostgreSQL in one statement: the row keys, groups and classes are walked along the index,
and each class gives its latest, its highest or all of its versions holding at N), folds
those reports' own events up to N (by the log's originator index) with the view's `fold`,
and renders with its `render`: the answer `replay` gives, byte for byte, in time that
depends on the number of rows and not on the length of the log.

A history (`history.Pieced`: a day row shows every report of its day) is put together
from the pieces its versions keep, read in the fold's order (`put_together_at`): no event
is folded; the answer costs what the rows it holds cost to read.

The question is answered from one snapshot of the database (REPEATABLE READ): the serving
generation, its position and its versions as one committed state, so that a rebuild's
switch or a runner's batch landing meanwhile cannot mix two states. Any other view (the
timeline's and the strikes', a row per report), or one whose serving generation has not
reached the cut yet (being rebuilt, or a runner behind), is answered by `replay`'s fold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple, cast
from uuid import UUID

import asyncpg
import msgspec

from domain.recorded import LogEntry
from projections.core import View, ViewState, fold
from projections.history import ALWAYS, Indexed, Pieced, indexed, picks_few, pieced, put_together
from projections.replay import (
    ReplayAnswer,
    answer_of,
    check_question,
    cut_of,
    rendered,
    replay,
    valid_time,
)
from store.event_store import EventStore, entry_from_row

SERVING = """
SELECT generation, position FROM projection_generations WHERE view = $1 AND state = 'serving'
"""
# The log's last position at or before the cut: what a replay's fold ends at.
LAST_AT = "SELECT max(notification_id) FROM timeline_events WHERE notification_id <= $1"

# $1 view, $2 generation, $3 the cut, $4 the valid time (NULL: no limit), $5 the classes
# picked by their latest, $6 by their highest, $7 all of them, $8 `FEW_BEFORE`.
_HOLDS = """
v.view = $1 AND v.generation = $2 AND v.key = t.key AND v.grp = t.grp AND v.class = t.class
AND v.from_position <= $3 AND v.to_position > $3
AND v.occurred_at <= coalesce($4::timestamptz, 'infinity')
AND v.counts_from <= coalesce($4::timestamptz, 'infinity')
"""
# A class's versions that had occurred by the valid time, latest first, `FEW_BEFORE` at
# most, holding at the cut or not: read along the fold's order.
_BEFORE = """
SELECT v.view, v.generation, v.key, v.grp, v.class, v.occurred_at, v.reported_at,
    v.filed_position, v.report_id, v.from_position, v.to_position, v.counts_from, v.rank
FROM report_versions v
WHERE v.view = $1 AND v.generation = $2 AND v.key = t.key AND v.grp = t.grp AND v.class = t.class
    AND v.occurred_at <= coalesce($4::timestamptz, 'infinity')
ORDER BY v.occurred_at DESC, v.reported_at DESC, v.filed_position DESC LIMIT $8
"""
# Whether no more than `FEW_BEFORE` of them had: counted from the index alone, before any
# version is read (PostgreSQL checks it once per class, ahead of the scan it guards).
_FEW_BEFORE = """
(SELECT count(*) FROM (
    SELECT 1 FROM report_versions w
    WHERE w.view = $1 AND w.generation = $2 AND w.key = t.key AND w.grp = t.grp
        AND w.class = t.class AND w.occurred_at <= coalesce($4::timestamptz, 'infinity')
    LIMIT $8 + 1
) b) <= $8
"""
_TOP = "ORDER BY v.rank DESC, v.occurred_at DESC, v.reported_at DESC, v.filed_position DESC LIMIT 1"
# A class's highest version by the valid time is found along its rank, from the top down,
# unless few of its versions had occurred by then: those are then all read, along the
# fold's order, and the highest taken among them. The rank scan alone read every version of
# a key for an early date (none of the highest had occurred yet: 4,000 versions a key at
# 10^6 events); now a scan reads about the class's versions over those before the date,
# or those before it, whichever is fewer.
PICK = f"""
WITH RECURSIVE t AS (
    (SELECT key, grp, class FROM report_versions
     WHERE view = $1 AND generation = $2 ORDER BY key, grp, class LIMIT 1)
    UNION ALL
    SELECT n.key, n.grp, n.class FROM t CROSS JOIN LATERAL (
        SELECT v.key, v.grp, v.class FROM report_versions v
        WHERE v.view = $1 AND v.generation = $2
            AND (v.key, v.grp, v.class) > (t.key, t.grp, t.class)
        ORDER BY v.key, v.grp, v.class LIMIT 1
    ) n
)
SELECT DISTINCT p.report_id FROM t CROSS JOIN LATERAL (
    (SELECT v.report_id FROM report_versions v WHERE t.class = ANY($5::int2[]) AND {_HOLDS}
     ORDER BY v.occurred_at DESC, v.reported_at DESC, v.filed_position DESC LIMIT 1)
    UNION ALL
    (SELECT v.report_id FROM ({_BEFORE}) v
     WHERE t.class = ANY($6::int2[]) AND {_FEW_BEFORE} AND v.rank IS NOT NULL AND {_HOLDS}
     {_TOP})
    UNION ALL
    (SELECT v.report_id FROM report_versions v
     WHERE t.class = ANY($6::int2[]) AND NOT {_FEW_BEFORE} AND v.rank IS NOT NULL AND {_HOLDS}
     {_TOP})
    UNION ALL
    (SELECT v.report_id FROM report_versions v WHERE t.class = ANY($7::int2[]) AND {_HOLDS})
) p
"""
# The same picks, for the given row keys ($9) only: a runner's batch redraws those.
PICK_KEYS = PICK.replace(
    """    (SELECT key, grp, class FROM report_versions
     WHERE view = $1 AND generation = $2 ORDER BY key, grp, class LIMIT 1)""",
    """    SELECT f.key, f.grp, f.class FROM unnest($9::text[]) AS k(key) CROSS JOIN LATERAL (
        SELECT key, grp, class FROM report_versions
        WHERE view = $1 AND generation = $2 AND key = k.key ORDER BY grp, class LIMIT 1
    ) f""",
).replace(
    """        WHERE v.view = $1 AND v.generation = $2
            AND (v.key, v.grp, v.class) > (t.key, t.grp, t.class)
        ORDER BY v.key, v.grp, v.class LIMIT 1""",
    """        WHERE v.view = $1 AND v.generation = $2 AND v.key = t.key
            AND (v.grp, v.class) > (t.grp, t.class)
        ORDER BY v.grp, v.class LIMIT 1""",
)
# The events up to $3 of the reports PICK_KEYS picks: what a runner's batch redraws rows from.
PICKED_REPORTS = f"""
SELECT notification_id, recorded_at, topic, state FROM timeline_events
WHERE originator_id = ANY(ARRAY({PICK_KEYS})) AND notification_id <= $3
ORDER BY notification_id
"""
READ_REPORTS = """
SELECT notification_id, recorded_at, topic, state FROM timeline_events
WHERE originator_id = ANY($1::uuid[]) AND notification_id <= $2 ORDER BY notification_id
"""


# How many versions of a class that had occurred by the valid time are read along the
# fold's order, at most, before its highest is looked for along its rank instead.
FEW_BEFORE = 64


def pick_parameters(
    view: Indexed, few: int = FEW_BEFORE
) -> tuple[list[int], list[int], list[int], int]:
    """The pick statements' $5 to $8: the classes picked by their latest, by their highest,
    and all of them (with the versions a view could not class, `ALWAYS`), and `FEW_BEFORE`."""
    return (
        list(view.latest_classes),
        list(view.top_classes),
        [*view.all_classes, ALWAYS],
        few,
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A view's versions as one committed state, cut where the question says."""

    connection: asyncpg.Connection
    view: Indexed
    generation: int
    position: int  # the log's last position at or before the cut: what the answer reflects


@asynccontextmanager
async def snapshot(
    pool: asyncpg.Pool, view: View, known_at: datetime | None, position: int | None
) -> AsyncIterator[Snapshot | None]:
    """The view's versions at the question's cut, read in one REPEATABLE READ transaction;
    None when the view keeps none or its serving generation has not reached the cut.

    Raises InvalidReplayQuestion as `replay` does for a cut that cannot be answered."""
    picking = indexed(view)
    if picking is None or not (picks_few(picking) or pieced(picking) is not None):
        yield None
        return
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            yield None
        else:
            yield Snapshot(cut.connection, picking, cut.generation, cut.position)


class Cut(NamedTuple):
    """A view's serving generation, read at the question's cut in one committed state."""

    connection: asyncpg.Connection
    generation: int
    position: int  # the log's last position at or before the cut: what the answer reflects


@asynccontextmanager
async def serving_cut(
    pool: asyncpg.Pool, view: str, known_at: datetime | None, position: int | None
) -> AsyncIterator[Cut | None]:
    """The serving generation of `view` and the question's cut, in one REPEATABLE READ
    transaction (its versions are then one committed state); None when that generation has
    not reached the cut (being rebuilt, or a runner behind).

    Raises InvalidReplayQuestion as `replay` does for a cut that cannot be answered."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        cut = await cut_of(EventStore(cast(asyncpg.Pool, connection)), known_at, position)
        serving = await connection.fetchrow(SERVING, view)
        if serving is None or serving["position"] < cut:
            yield None
            return
        last = int(await connection.fetchval(LAST_AT, cut) or 0)
        yield Cut(connection, serving["generation"], last)


async def folded(at: Snapshot, ids: Sequence[UUID]) -> tuple[ViewState, list[LogEntry]]:
    """The view's fold of the events of `ids` up to the snapshot's position, and the events."""
    return await folded_reports(at.connection, at.view, at.position, ids)


async def folded_reports(
    connection: asyncpg.Connection, view: View, position: int, ids: Sequence[UUID]
) -> tuple[ViewState, list[LogEntry]]:
    """`view`'s fold of the events of the reports `ids` up to `position`, and the events."""
    rows = await connection.fetch(READ_REPORTS, list(ids), position) if ids else []
    events = [entry_from_row(row) for row in rows]
    state, _ = fold(view, events)
    state.position = position
    return state, events


async def past_answer(
    pool: asyncpg.Pool,
    view_name: str,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
    under: str | None = None,
) -> ReplayAnswer:
    """`replay`'s answer to the same question; from the versions when the view keeps them.
    With `under` (a row key), the answer may hold only the rows at or under that key, as a
    caller that filters them asks (a history's days are then the only ones read).

    Raises InvalidReplayQuestion as `replay` does."""
    view = check_question(view_name, known_at, position, as_of)
    async with snapshot(pool, view, known_at, position) as at:
        if at is not None:
            assembling = pieced(at.view)
            if assembling is not None:
                moment = valid_time(as_of)
                keys = None
                if under is not None:
                    keys = list(filter(at_or_under(under), await row_keys(at, moment)))
                rows = await put_together_at(at, assembling, moment, keys)
                if rows is not None:
                    return answer_of(view, rows, at.position, known_at, as_of)
            else:
                ids = await picked(at, valid_time(as_of))
                state, _ = await folded(at, ids)
                return rendered(view, state, known_at, as_of)
    return await replay(pool, view_name, known_at=known_at, position=position, as_of=as_of)


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


def at_or_under(wanted: str) -> Callable[[str], bool]:
    """Whether a row key is `wanted` or begins with it, part by part."""
    return lambda key: key == wanted or key.startswith(wanted + "/")


async def picked(
    at: Snapshot,
    moment: datetime | None,
    keys: Sequence[str] | None = None,
    *,
    few: int = FEW_BEFORE,
) -> list[UUID]:
    """The reports whose versions holding at the snapshot's position the view's rows (of
    `keys` only, if given) need at valid time `moment` (None: whenever), as
    `history_recording.relevant_ids` says."""
    view = at.view
    asked = (view.name, at.generation, at.position, moment, *pick_parameters(view, few))
    if keys is None:
        rows = await at.connection.fetch(PICK, *asked)
    else:
        rows = await at.connection.fetch(PICK_KEYS, *asked, list(keys))
    return [row[0] for row in rows]


# The keys with a version holding at $3 that had occurred by $4, in key order after $5.
KEYS = """
WITH RECURSIVE k AS (
    (SELECT key FROM report_versions WHERE view = $1 AND generation = $2 ORDER BY key LIMIT 1)
    UNION ALL
    SELECT n.key FROM k CROSS JOIN LATERAL (
        SELECT v.key FROM report_versions v
        WHERE v.view = $1 AND v.generation = $2 AND v.key > k.key ORDER BY v.key LIMIT 1
    ) n
)
SELECT k.key FROM k WHERE EXISTS (
    SELECT 1 FROM report_versions v
    WHERE v.view = $1 AND v.generation = $2 AND v.key = k.key
        AND v.from_position <= $3 AND v.to_position > $3
        AND v.occurred_at <= coalesce($4::timestamptz, 'infinity')
)
ORDER BY k.key
"""
# Every report feeding the rows of these keys, at $3 and by $4.
FEEDING = """
SELECT DISTINCT report_id FROM report_versions
WHERE view = $1 AND generation = $2 AND key = ANY($5::text[])
    AND from_position <= $3 AND to_position > $3
    AND occurred_at <= coalesce($4::timestamptz, 'infinity')
"""


async def row_keys(at: Snapshot, moment: datetime | None) -> list[str]:
    """The keys of the rows fed at the snapshot's position by reports begun by `moment`."""
    rows = await at.connection.fetch(KEYS, at.view.name, at.generation, at.position, moment)
    return [row[0] for row in rows]


async def feeding_ids(at: Snapshot, keys: Sequence[str], moment: datetime | None) -> list[UUID]:
    """Every report feeding the rows of `keys`, as `core.feeding` hands them to `render`."""
    rows = await at.connection.fetch(
        FEEDING, at.view.name, at.generation, at.position, moment, list(keys)
    )
    return [row[0] for row in rows]


# Per key ($5): how many reports feed its row at $3 by $4, and the $6 latest of them.
LATEST_FEEDING = """
SELECT k.key, (
    SELECT count(*) FROM report_versions v
    WHERE v.view = $1 AND v.generation = $2 AND v.key = k.key
        AND v.from_position <= $3 AND v.to_position > $3
        AND v.occurred_at <= coalesce($4::timestamptz, 'infinity')
) AS total, ARRAY(
    SELECT v.report_id FROM report_versions v
    WHERE v.view = $1 AND v.generation = $2 AND v.key = k.key
        AND v.from_position <= $3 AND v.to_position > $3
        AND v.occurred_at <= coalesce($4::timestamptz, 'infinity')
    ORDER BY v.occurred_at DESC, v.reported_at DESC, v.filed_position DESC LIMIT $6
) AS latest
FROM unnest($5::text[]) AS k(key)
"""


async def latest_feeding(
    at: Snapshot, keys: Sequence[str], moment: datetime | None, most: int
) -> tuple[dict[str, int], list[UUID]]:
    """How many reports feed each row of `keys`, and the `most` latest of each (in the
    fold's order), as `core.feeding` hands them to `render`."""
    rows = await at.connection.fetch(
        LATEST_FEEDING, at.view.name, at.generation, at.position, moment, list(keys), most
    )
    return {row["key"]: row["total"] for row in rows}, [i for row in rows for i in row["latest"]]
