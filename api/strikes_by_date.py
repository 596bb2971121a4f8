"""Strikes newest first (or oldest first), a page at a time: `GET /v1/strikes/by-date`.

`/v1/strikes` pages its rows by key (report ids), which is no order a reader wants: a
dashboard's list of strikes, or a chart of the latest twenty, wants them by when they
happened. The strikes keep their reports' versions (migration 0016), indexed in the order
things happened (occurrence, then reporting, then filing), so the strikes in that order
are one walk of that index, backwards for newest first; the page's own reports are then
folded into their strike rows at the answer's position, as a replay draws them
(projections/past_pages.py does the same for the strikes' pages by key). Live and past
questions take the same path; strikes whose versions have not reached the question's cut
(being rebuilt) are answered from their replay, sorted here.

The answer is the shape of `/v1/strikes`'s page (`rows` of `{key, row}`, `limit`,
`next_cursor`), so a client, and the CSV of it, reads both alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from api.auth import requires_reader
from api.cursors import cursor_of, key_of
from api.limits import Cost, costs
from api.live_views import LiveRow
from api.problems import ApiProblem, Documented
from api.read_cache import answered_before
from api.reads import (
    VIEW_ERRORS,
    AsOf,
    AtPosition,
    KnownAt,
    MinPosition,
    Question,
    live_view,
    memoized,
    question,
    replayed,
    rows_of,
)
from api.row_pages import PageCursor, PageLimit, RowsPage, rows_limit
from api.schemas import ANSWER_TYPES
from projections.core import render
from projections.replay import as_asked, check_question, valid_time
from projections.snapshots import folded_reports, serving_cut
from projections.strikes import StrikeRow
from projections.timeline_columns import order_of
from projections.tracked import iso

_canonical = msgspec.json.Encoder(order="sorted")
_FIRST = (datetime.min.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC), -1)
_LAST = (datetime.max.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), 2**62)

# The strikes with a row at $2 begun by $3, beyond the order ($4, $5, $6) in the walk's
# direction: `LIMIT $7`. (The strikes' versions' time-order index, 0016.)
_WALK = """
SELECT report_id, occurred_at, reported_at, filed_position FROM report_versions
WHERE view = 'strikes' AND generation = $1 AND from_position <= $2 AND to_position > $2
    AND occurred_at <= coalesce($3::timestamptz, 'infinity')
    AND (occurred_at, reported_at, filed_position)
        {beyond} ($4::timestamptz, $5::timestamptz, $6::int8)
ORDER BY occurred_at {direction}, reported_at {direction}, filed_position {direction} LIMIT $7
"""
NEWEST_FIRST = _WALK.format(beyond="<", direction="DESC")
OLDEST_FIRST = _WALK.format(beyond=">", direction="ASC")
MOST_PER_STEP = 4_096

Order = tuple[datetime, datetime, int]


class StrikeOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"


class _Found(msgspec.Struct, frozen=True):
    position: int
    rows: list[tuple[str, StrikeRow, Order]]  # up to one more than the page


def _cursor(order: Order) -> str:
    return cursor_of(f"{iso(order[0])}|{iso(order[1])}|{order[2]}")


def _after(cursor: str) -> Order:
    text = key_of(cursor)
    try:
        assert text is not None
        return tuple(order_of(text))  # type: ignore[return-value]
    except (AssertionError, ValueError):
        raise ApiProblem(
            400,
            "invalid-parameter",
            "A query parameter is not valid",
            "cursor: not a cursor this service gave; pass next_cursor as is",
            field="cursor",
        ) from None


async def _walked(
    pool: asyncpg.Pool, asked: Question, order: StrikeOrder, after: Order | None, limit: int
) -> _Found | None:
    """The page's strikes found by their versions; None when they are behind."""
    strikes = check_question("strikes", asked.known_at, asked.position, asked.as_of)
    moment = valid_time(asked.as_of)
    newest = order is StrikeOrder.NEWEST
    start = after or (_LAST if newest else _FIRST)
    async with serving_cut(pool, "strikes", asked.known_at, asked.position) as cut:
        if cut is None:
            return None
        rows: list[tuple[str, StrikeRow, Order]] = []
        step = limit + 1
        while len(rows) <= limit:
            found = await cut.connection.fetch(
                NEWEST_FIRST if newest else OLDEST_FIRST,
                cut.generation,
                cut.position,
                moment,
                *start,
                step,
            )
            ids: list[UUID] = [candidate["report_id"] for candidate in found]
            state, _ = await folded_reports(cut.connection, strikes, cut.position, ids)
            for candidate in found:
                key = str(candidate["report_id"])
                row = render(strikes, state, key, moment)
                if isinstance(row, StrikeRow):  # as the view draws it, or not at all
                    rows.append((key, row, tuple(candidate)[1:]))
            if len(found) < step:
                break
            start = tuple(found[-1])[1:]
            step = min(step * 4, MOST_PER_STEP)
        return _Found(cut.position, rows)


async def _replayed(
    state: State, asked: Question, order: StrikeOrder, after: Order | None
) -> _Found:
    answer = await replayed(state, "strikes", asked)
    rows = []
    for key, row in rows_of(answer, StrikeRow).items():
        occurred = datetime.fromisoformat(_anchor(row))
        rows.append((key, row, (occurred, _reported(row), row.source.filed_at_position)))
    rows.sort(key=lambda found: found[2], reverse=order is StrikeOrder.NEWEST)
    if after is not None:
        rows = [
            found
            for found in rows
            if (found[2] < after if order is StrikeOrder.NEWEST else found[2] > after)
        ]
    return _Found(answer.position, rows)


def _anchor(row: StrikeRow) -> str:
    occurred = msgspec.to_builtins(row.occurred)
    return _start(occurred)


def _start(occurrence: Any) -> str:
    if "at" in occurrence:
        return str(occurrence["at"]).replace("Z", "+00:00")
    if "on" in occurrence:
        return f"{occurrence['on']}T00:00:00+00:00"
    if "year" in occurrence:
        return f"{occurrence['year']:04d}-{occurrence['month']:02d}-01T00:00:00+00:00"
    if occurrence.get("start"):
        return _start(occurrence["start"])
    return "0001-01-01T00:00:00+00:00"


def _reported(row: StrikeRow) -> datetime:
    return datetime.fromisoformat(_start(msgspec.to_builtins(row.reported)))


@get(
    "/strikes/by-date",
    operation_id="getStrikesByDate",
    summary="Strikes newest first (or oldest first), a page at a time",
    description="The rows of /v1/strikes in the order they happened, then were reported, "
    "then filed: `order=newest` (the default) or `oldest`, `limit` (1-1000, default 200), "
    "`cursor` (the `next_cursor` of the page before); the same questions about the past. "
    "As CSV with `Accept: text/csv` or /v1/strikes/by-date.csv.",
    tags=["views"],
    guards=[requires_reader],
    opt=costs(Cost.VERSIONED_PAST),
    middleware=[answered_before("strikes")],
    responses={
        200: Documented(ANSWER_TYPES["strikes"], description="A page of strikes"),
        **VIEW_ERRORS,
    },
)
async def strikes_by_date(
    *,
    request: Request[Any, Any, Any],
    state: State,
    order: Annotated[
        StrikeOrder, QueryParameter(description="newest (first) or oldest (first)")
    ] = StrikeOrder.NEWEST,
    known_at: KnownAt = None,
    position: AtPosition = None,
    as_of: AsOf = None,
    min_position: MinPosition = None,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> Response[bytes]:
    # Drawn at the strikes' position (their versions say which there are), live or as the
    # question asks: remembered with the strikes' view, which moves when a strike does.
    strikes = await live_view(state, "strikes", min_position)
    asked = question(known_at, position, as_of)
    after = None if cursor is None else _after(cursor)
    size = rows_limit(limit)
    walk = (
        asked if asked.about_the_past else msgspec.structs.replace(asked, position=strikes.position)
    )

    async def answer() -> tuple[msgspec.Struct, int]:
        found = await _walked(state.read_pool, walk, order, after, size)
        if found is None:
            found = await _replayed(state, asked, order, after)
        shown = found.rows[:size]
        more = len(found.rows) > size
        return RowsPage(
            view="strikes",
            # as a replayed answer writes it (`encode_answer`)
            known_at=msgspec.json.decode(_canonical.encode(asked.known_at)),
            position=found.position,
            as_of=as_asked(asked.as_of),
            rows=tuple(LiveRow(key, msgspec.Raw(_canonical.encode(row))) for key, row, _ in shown),
            limit=size,
            next_cursor=_cursor(shown[-1][2]) if more and shown else None,
        ), found.position

    return await memoized(request, strikes, ("strikes-by-date", asked, order, after, size), answer)
