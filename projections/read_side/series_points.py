"""The histories as flat, chart-ready points (`GET /v1/{history}/points`).

A history's row is one key and day with its points nested (`rows[].row.points[]`), each a
quantity whose hedging lies in a nested object and whose source lies elsewhere: a chart
wants one line per point. `points_of` flattens a page of a history: each point with its
series, date, value, low, high, unit, qualifier, what it measures, its report with source,
relay and side, and the precision the source gave the occurrence (a day, a month, an
interval).

The report's source and precision are the report's at the answer's own log position, folded
as the timeline folds it from that report's events alone (projections/snapshots.py), so a
point of the past shows the report as it then stood.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from domain.quantities import Quantity
from domain.report import Report
from projections.read_side.shapes import ANSWER_TYPES
from projections.registry import VIEWS
from projections.snapshots import folded_reports
from projections.views.forces import ForcesHistory
from projections.views.front import FrontSeries
from projections.views.holdings import HoldingSeries
from projections.views.tallies import TallySeries


class SeriesPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One point of a history, flat: a line of a chart's table."""

    series: str  # the history's key without its day: kursk-oblast/ukraine
    place: str  # the region, theatre or direction ("" for a tally: its series says what)
    actor: str  # whose losses, for a tally
    date: str
    # current or peak (holdings), strength or deployment (forces), rate (front),
    # running_total or increment (tallies: never one line)
    measure: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    qualifier: str
    verification: str
    report_id: UUID
    source: str | None
    outlet: str | None
    side: str | None
    precision: str | None  # of the occurrence: instant, day, month or interval


class SeriesPoints(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A page of a history's points: its days (`limit` of them at most, in key order) and
    where the next page starts (`next_cursor`, null on the last one)."""

    view: str
    known_at: str | None
    position: int
    as_of: str | None
    points: tuple[SeriesPoint, ...]
    limit: int
    next_cursor: str | None
    reported_by: str | None = None  # as the history's page says it: absent when not asked


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
        case TallySeries():
            return [
                _Drawn(series, "", row.side, point.date, measure, point.quantity(),
                       point.verification.value, point.report_id)
                for measure, points in (("running_total", row.totals),
                                        ("increment", row.increments))
                for point in points
            ]  # fmt: skip
    return []


async def _reports_at(pool: asyncpg.Pool, position: int, ids: Sequence[UUID]) -> dict[UUID, Report]:
    """The reports `ids` as they stood at `position`, folded as the timeline folds them.
    A point needs only its report's attribution and occurrence, which the timeline's row
    copies unchanged from the report: the row itself (its summary, times spelled out and
    filter keys) is not drawn, which was the most of what a page of thousands cost."""
    async with pool.acquire() as connection:
        state, _ = await folded_reports(connection, VIEWS["timeline"], position, ids)
    folded = state.reports
    return {report_id: folded[report_id].report for report_id in ids if report_id in folded}


def _figure(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


async def points_of(
    pool: asyncpg.Pool, name: str, series_page: bytes, position: int
) -> SeriesPoints:
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
                source=None if report is None else report.attribution.source,
                outlet=None if report is None else report.attribution.outlet,
                side=None if report is None else report.attribution.side.value,
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
        reported_by=getattr(page, "reported_by", None) or None,
    )


def _precision(report: Report) -> str:
    """The occurrence's tag (instant, day, month, interval), read from its type."""
    return str(report.occurred.__struct_config__.tag)
