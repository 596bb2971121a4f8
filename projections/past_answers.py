"""Past-tense answers read from the reports' versions, not by folding the log.

For a view that keeps its reports' versions and whose rows need a few of them
(`history.Indexed`, `history.picks_few`): the answer at a log cut N and a valid time D
takes, by index, the few versions each row needs (`history`'s rule, asked of PostgreSQL in
one statement: projections/version_picks.py), folds those reports' own events up to N (by
the log's originator index) with the view's `fold`, and renders with its `render`: the
answer `replay` gives, byte for byte, in time that depends on the number of rows and not on
the length of the log.

A history (`history.Pieced`: a day row shows every report of its day) is put together
from the pieces its versions keep, read in the fold's order (projections/past_pieces.py):
no event is folded; the answer costs what the rows it holds cost to read.

The question is answered from one snapshot of the database (projections/snapshots.py): the
serving generation, its position and its versions as one committed state. Any other view
(the timeline's and the strikes', a row per report), or one whose serving generation has not
reached the cut yet (being rebuilt, or a runner behind), is answered by `replay`'s fold, as
is every question with `reported_by`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import asyncpg

from projections.history import pieced
from projections.past_pieces import put_together_at
from projections.replay import (
    ReplayAnswer,
    answer_of,
    check_question,
    rendered,
    replay,
    valid_time,
)
from projections.snapshots import folded, snapshot
from projections.version_picks import picked, row_keys


async def past_answer(
    pool: asyncpg.Pool,
    view_name: str,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
    under: str | None = None,
    reported_by: datetime | date | None = None,
) -> ReplayAnswer:
    """`replay`'s answer to the same question; from the versions when the view keeps them.
    With `under` (a row key), the answer may hold only the rows at or under that key, as a
    caller that filters them asks (a history's days are then the only ones read).

    `reported_by` (what had been published by then) is folded from the log: the versions
    are kept in the log's order, not in the order their sources published them.

    Raises InvalidReplayQuestion as `replay` does."""
    if reported_by is not None:
        return await replay(
            pool,
            view_name,
            known_at=known_at,
            position=position,
            as_of=as_of,
            reported_by=reported_by,
        )
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


def at_or_under(wanted: str) -> Callable[[str], bool]:
    """Whether a row key is `wanted` or begins with it, part by part."""
    return lambda key: key == wanted or key.startswith(wanted + "/")
