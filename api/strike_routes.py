"""The strikes as a map and as a list in time order: `GET /v1/strikes.geojson` (a GeoJSON
FeatureCollection a page at a time) and `GET /v1/strikes/by-date` (newest or oldest first).
Both read the strikes' view as a question asks (api/answers.py); what they draw is the read
side's (projections/read_side/)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.answers import VIEW_ERRORS, ReadSide, memoized, rows_of
from api.auth import requires_reader
from api.cursors import cursor_of, key_of
from api.explain_pages import page_of
from api.limits import Cost, costs
from api.live_views import CANONICAL, LiveRow, rows_in_table
from api.problems import Documented
from api.questions import Question, not_a_cursor
from api.read_cache import answered_before
from api.row_pages import PageCursor, PageLimit, RowsPage, rows_limit
from projections.read_side.shapes import ANSWER_TYPES
from projections.read_side.strike_features import StrikeFeatures, strike_features
from projections.read_side.strikes_in_time import Order, in_time_order, walked
from projections.replay import as_asked
from projections.timeline_columns import order_of
from projections.tracked import iso
from projections.views.strikes import StrikeRow


@get(
    "/strikes.geojson",
    operation_id="getStrikesGeoJSON",
    summary="Strikes whose place has coordinates, as a GeoJSON FeatureCollection",
    description="A page of strikes at a time (`limit`, `cursor`; `next_cursor` in the body, "
    "null on the last page), in key order; strikes without coordinates are left out, so a "
    "page may hold fewer features than `limit`.",
    media_type="application/geo+json",
    responses={
        200: Documented(
            StrikeFeatures, description="The strikes", media_type="application/geo+json"
        ),
        **VIEW_ERRORS,
    },
)
async def strikes_geojson(
    *,
    request: Request[Any, Any, Any],
    reads: NamedDependency[ReadSide],
    asked: NamedDependency[Question],
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> Response[bytes]:
    view = await reads.view("strikes", asked.min_position)
    page = page_of(rows_limit(limit), cursor)

    async def answer() -> tuple[msgspec.Struct, int]:
        rows: list[tuple[str, StrikeRow]]
        if asked.about_the_past:
            past = await reads.own_rows_page("strikes", asked.moment, page)
            at = past.position
            rows = [
                (key, row)
                for key, row in rows_of(past, StrikeRow).items()
                if page.after is None or key > page.after
            ][: page.limit + 1]
        else:
            docs, at = await rows_in_table(
                reads.pool, view, None, after=page.after, limit=page.limit + 1
            )
            rows = [(key, msgspec.json.decode(doc, type=StrikeRow)) for key, doc in docs]
        shown = rows[: page.limit]
        more = len(rows) > page.limit
        features = strike_features(row for _, row in shown)
        next_cursor = cursor_of(shown[-1][0]) if more else None
        return StrikeFeatures(
            features=features, position=at, limit=page.limit, next_cursor=next_cursor
        ), at

    return await memoized(
        request, view, ("geojson", asked.moment, page), answer, media_type="application/geo+json"
    )


class StrikeOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"


def _cursor(order: Order) -> str:
    return cursor_of(f"{iso(order[0])}|{iso(order[1])}|{order[2]}")


def _after(cursor: str) -> Order:
    text = key_of(cursor)
    try:
        assert text is not None
        return tuple(order_of(text))  # type: ignore[return-value]
    except (AssertionError, ValueError):
        raise not_a_cursor() from None


@get(
    "/strikes/by-date",
    operation_id="getStrikesByDate",
    summary="Strikes newest first (or oldest first), a page at a time",
    description="The rows of /v1/strikes in the order they happened, then were reported, "
    "then filed: `order=newest` (the default) or `oldest`, `limit` (1-1000, default 200), "
    "`cursor` (the `next_cursor` of the page before); the same questions about the past. "
    "As CSV with `Accept: text/csv` or /v1/strikes/by-date.csv.",
    responses={
        200: Documented(ANSWER_TYPES["strikes"], description="A page of strikes"),
        **VIEW_ERRORS,
    },
)
async def strikes_by_date(
    *,
    request: Request[Any, Any, Any],
    reads: NamedDependency[ReadSide],
    order: Annotated[
        StrikeOrder, QueryParameter(description="newest (first) or oldest (first)")
    ] = StrikeOrder.NEWEST,
    asked: NamedDependency[Question],
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> Response[bytes]:
    # Drawn at the strikes' position (their versions say which there are), live or as the
    # question asks: remembered with the strikes' view, which moves when a strike does.
    strikes = await reads.view("strikes", asked.min_position)
    after = None if cursor is None else _after(cursor)
    size = rows_limit(limit)
    newest = order is StrikeOrder.NEWEST
    # Live: the strikes at the position this process serves them at.
    walk = asked.moment
    if not walk.about_the_past:
        walk = msgspec.structs.replace(walk, position=strikes.position)

    async def answer() -> tuple[msgspec.Struct, int]:
        found = None
        if walk.from_versions:
            found = await walked(
                reads.pool,
                known_at=walk.known_at,
                position=walk.position,
                as_of=walk.as_of,
                newest=newest,
                after=after,
                limit=size,
            )
        if found is None:
            replayed = await reads.replayed("strikes", asked.moment)
            found = in_time_order(replayed, newest=newest, after=after)
        shown = found.rows[:size]
        more = len(found.rows) > size
        return RowsPage(
            view="strikes",
            # as a replayed answer writes it (`encode_answer`)
            known_at=msgspec.json.decode(CANONICAL.encode(asked.known_at)),
            position=found.position,
            as_of=as_asked(asked.as_of),
            rows=tuple(LiveRow(key, msgspec.Raw(CANONICAL.encode(row))) for key, row, _ in shown),
            limit=size,
            next_cursor=_cursor(shown[-1][2]) if more and shown else None,
            reported_by=as_asked(asked.moment.reported_by),
        ), found.position

    question = ("strikes-by-date", asked.moment, order, after, size)
    return await memoized(request, strikes, question, answer)


STRIKE_ROUTES = Router(
    path="/",
    guards=[requires_reader],
    tags=["views"],
    opt=costs(Cost.VERSIONED_PAST),
    route_handlers=[strikes_geojson, strikes_by_date],
    middleware=[answered_before("strikes")],
)
