"""The histories as flat, chart-ready points: `GET /v1/{history}/points`.

A history's row is one key and day with its points nested (`rows[].row.points[]`), each a
quantity whose hedging lies in a nested object and whose source lies elsewhere: a chart
wants one line per point. This answers the same page of the same history (the same
parameters, the same question about the past, the same `limit` of days and `cursor`), each
point flat: its series, date, value, low, high, unit, qualifier, what it measures, its
report with source, relay and side, and the precision the source gave the occurrence (a
day, a month, an interval).

The report's source and precision are its timeline row's at the answer's own log position,
folded from that report's events alone (projections/past_answers.py), so a point of the
past shows the report as it then stood.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from api.auth import requires_reader
from api.csv_answers import HISTORIES
from api.explain_pages import page_of
from api.limits import Cost, costs
from api.problems import Documented
from api.read_cache import answered_before
from api.reads import (
    POSITION_HEADER,
    VIEW_ERRORS,
    AsOf,
    AtPosition,
    KnownAt,
    MinPosition,
    RowKey,
    answer_view,
    live_view,
    memoized,
    question,
    row_key,
)
from api.row_pages import PageCursor, PageLimit, rows_limit
from api.schemas import ANSWER_TYPES, SeriesPoint, SeriesPoints
from domain.quantities import Quantity
from projections.core import render
from projections.forces import ForcesHistory
from projections.front import FrontSeries
from projections.holdings import HoldingSeries
from projections.past_answers import at_or_under
from projections.registry import VIEWS
from projections.snapshots import folded_reports
from projections.timeline import TimelineRow


class _Drawn(msgspec.Struct, frozen=True):
    series: str
    place: str
    actor: str
    date: str
    measure: str
    quantity: Quantity
    verification: str
    report_id: UUID


def _drawn(key: str, row: object) -> list[_Drawn]:
    series = key.rsplit("/", 1)[0]
    match row:
        case HoldingSeries():
            return [
                _Drawn(series, row.region, row.actor, point.date, point.extent.value, point.area,
                       point.verification.value, point.report_id)
                for point in row.points
            ]  # fmt: skip
        case ForcesHistory():
            return [
                _Drawn(series, row.theatre, row.actor, point.date, point.measure.value,
                       point.troops, point.verification.value, point.report_id)
                for point in row.points
            ]  # fmt: skip
        case FrontSeries():
            return [
                _Drawn(series, row.direction, row.actor, point.date, "rate", point.rate,
                       point.verification.value, point.report_id)
                for point in row.points
            ]  # fmt: skip
    return []


async def _reports_at(
    pool: asyncpg.Pool, position: int, ids: Sequence[UUID]
) -> dict[UUID, TimelineRow]:
    """The timeline's rows of the reports `ids` as they stood at `position`."""
    timeline = VIEWS["timeline"]
    async with pool.acquire() as connection:
        state, _ = await folded_reports(connection, timeline, position, ids)
    rows = {}
    for report_id in ids:
        row = render(timeline, state, str(report_id))
        if isinstance(row, TimelineRow):
            rows[report_id] = row
    return rows


def _figure(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


async def points_of(pool: asyncpg.Pool, name: str, series_page: bytes, position: int) -> Any:
    """The flat points of a page of the history `name` (its JSON, at `position`)."""
    page = msgspec.json.decode(series_page, type=ANSWER_TYPES[name])
    drawn = [point for entry in page.rows for point in _drawn(entry.key, entry.row)]  # type: ignore[attr-defined]
    reports = await _reports_at(pool, position, sorted({point.report_id for point in drawn}))
    points = []
    for point in drawn:
        report = reports.get(point.report_id)
        points.append(
            SeriesPoint(
                series=point.series,
                place=point.place,
                actor=point.actor,
                date=point.date,
                measure=point.measure,
                value=_figure(point.quantity.value),
                low=_figure(point.quantity.low),
                high=_figure(point.quantity.high),
                unit=point.quantity.unit.value,
                qualifier=point.quantity.qualifier.value,
                verification=point.verification,
                report_id=point.report_id,
                source=None if report is None else report.source,
                outlet=None if report is None else report.outlet,
                side=None if report is None else report.side.value,
                precision=None if report is None else _precision(report),
            )
        )
    return SeriesPoints(
        view=name,
        known_at=page.known_at,  # type: ignore[attr-defined]
        position=position,
        as_of=page.as_of,  # type: ignore[attr-defined]
        points=tuple(points),
        limit=page.limit,  # type: ignore[attr-defined]
        next_cursor=page.next_cursor,  # type: ignore[attr-defined]
    )


def _precision(report: TimelineRow) -> str:
    tag = msgspec.to_builtins(report.occurred).get("precision")
    return str(tag)


class _AnyWillDo(Exception):
    def __init__(self, response: Response[bytes]) -> None:
        super().__init__()
        self.response = response


def _points_route(name: str) -> Any:
    title = "".join(part.title() for part in name.split("-"))

    @get(
        f"/{name}/points",
        operation_id=f"get{title}Points",
        summary=f"The {name} as flat points for charts, a page of days at a time",
        description=f"Every point of /v1/{name} (the same parameters and pages: `limit` "
        "days, `cursor`), one flat object each: series, place, actor, date, measure, value, "
        "low, high, unit, qualifier, verification, report, source, outlet, side, and the "
        "precision of the occurrence. As CSV with `Accept: text/csv` or "
        f"/v1/{name}/points.csv.",
        tags=["views"],
        guards=[requires_reader],
        opt=costs(Cost.VERSIONED_PAST),
        middleware=[answered_before(name)],
        responses={200: Documented(SeriesPoints, description="A page of points"), **VIEW_ERRORS},
        name=f"points-{name}",
    )
    async def read_points(
        *,
        request: Request[Any, Any, Any],
        state: State,
        known_at: KnownAt = None,
        position: AtPosition = None,
        as_of: AsOf = None,
        min_position: MinPosition = None,
        key: RowKey = None,
        limit: PageLimit = None,
        cursor: PageCursor = None,
    ) -> Response[bytes]:
        asked = question(known_at, position, as_of)
        wanted = None if key is None else row_key(key)
        rows_page = page_of(rows_limit(limit), cursor)
        view = await live_view(state, name, min_position)

        async def answer() -> tuple[msgspec.Struct, int]:
            # The history's own page, as its route answers it (and remembers it).
            series = await answer_view(
                request,
                state,
                name,
                asked,
                min_position=min_position,
                pick=None if wanted is None else at_or_under(wanted),
                under=wanted,
                memo_key=None if wanted is None else ("key", wanted),
                rows_page=rows_page,
            )
            if series.status_code == HTTP_304_NOT_MODIFIED:  # If-None-Match: * (any answer)
                raise _AnyWillDo(series)
            at = int(series.headers[POSITION_HEADER])
            points = await points_of(state.read_pool, name, series.content, at)
            return points, at

        try:
            return await memoized(request, view, ("points", asked, wanted, rows_page), answer)
        except _AnyWillDo as given:
            return given.response

    return read_points


POINTS_ROUTES = [_points_route(name) for name in HISTORIES]
