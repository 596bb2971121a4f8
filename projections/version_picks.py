"""Which versions a past answer needs, asked of PostgreSQL: `history_recording.relevant_ids`'
rule in one statement over `report_versions` (`PICK`: the row keys, groups and classes are
walked along the index, and each class gives its latest, its highest or all of its versions
holding at the cut), and the keys and reports feeding the rows at a snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from projections.history import ALWAYS, Indexed
from projections.snapshots import Snapshot

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


ALL_KEYS = 2**31 - 1  # a count of keys no view reaches: the statement's $6 is an int4

# The keys with a version holding at $3 that had occurred by $4, in key order, after $5 (if
# given) and $6 of them at most (if given): each found by one step along the versions' order
# index from the key before, so a page of keys costs its own keys, not the view's.
KEYS = """
WITH RECURSIVE k(key, n) AS (
    (SELECT v.key, 1 FROM report_versions v
     WHERE v.view = $1 AND v.generation = $2 AND ($5::text IS NULL OR v.key > $5::text)
        AND v.from_position <= $3 AND v.to_position > $3
        AND v.occurred_at <= coalesce($4::timestamptz, 'infinity')
     ORDER BY v.key LIMIT 1)
    UNION ALL
    SELECT n.key, k.n + 1 FROM k CROSS JOIN LATERAL (
        SELECT v.key FROM report_versions v
        WHERE v.view = $1 AND v.generation = $2 AND v.key > k.key
            AND v.from_position <= $3 AND v.to_position > $3
            AND v.occurred_at <= coalesce($4::timestamptz, 'infinity')
        ORDER BY v.key LIMIT 1
    ) n
    WHERE $6::int IS NULL OR k.n < $6::int
)
SELECT k.key FROM k ORDER BY k.key
"""
# Every report feeding the rows of these keys, at $3 and by $4.
FEEDING = """
SELECT DISTINCT report_id FROM report_versions
WHERE view = $1 AND generation = $2 AND key = ANY($5::text[])
    AND from_position <= $3 AND to_position > $3
    AND occurred_at <= coalesce($4::timestamptz, 'infinity')
"""


async def row_keys(
    at: Snapshot, moment: datetime | None, *, after: str | None = None, most: int | None = None
) -> list[str]:
    """The keys of the rows fed at the snapshot's position by reports begun by `moment`, in
    key order (after `after`, and `most` of them, if given)."""
    bound = most if most is not None and most <= ALL_KEYS else None  # beyond: every key
    rows = await at.connection.fetch(
        KEYS, at.view.name, at.generation, at.position, moment, after, bound
    )
    return [row[0] for row in rows]


async def feeding_ids(at: Snapshot, keys: Sequence[str], moment: datetime | None) -> list[UUID]:
    """Every report feeding the rows of `keys`, as `core.feeding` hands them to `render`."""
    rows = await at.connection.fetch(
        FEEDING, at.view.name, at.generation, at.position, moment, list(keys)
    )
    return [row[0] for row in rows]


# Per key ($5): how many reports feed its row at $3 by $4, and the $6 latest of them (those
# before ($7, $8, $9) in the fold's order, when $7 is given).
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
        AND ($7::timestamptz IS NULL
            OR (v.occurred_at, v.reported_at, v.filed_position) < ($7, $8::timestamptz, $9::bigint))
    ORDER BY v.occurred_at DESC, v.reported_at DESC, v.filed_position DESC LIMIT $6
) AS latest
FROM unnest($5::text[]) AS k(key)
"""


async def latest_feeding(
    at: Snapshot,
    keys: Sequence[str],
    moment: datetime | None,
    most: int,
    before: tuple[datetime, datetime, int] | None = None,
) -> tuple[dict[str, int], list[UUID]]:
    """How many reports feed each row of `keys`, and the `most` latest of each (in the
    fold's order, before `before` if given), as `core.feeding` hands them to `render`."""
    after = (None, None, None) if before is None else before
    rows = await at.connection.fetch(
        LATEST_FEEDING, at.view.name, at.generation, at.position, moment, list(keys), most, *after
    )
    return {row["key"]: row["total"] for row in rows}, [i for row in rows for i in row["latest"]]
