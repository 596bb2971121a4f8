"""The figures each view's rows show, and which reports they come from: read off the
rendered row (its `Source` fields), never worked out again, so an explanation cannot tell a
different story from the view. One case per row type; a view added without one fails
loudly (and `tests/unit/test_explain.py` runs every registered view).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec

from domain.claims import ForceStrength
from domain.quantities import Quantity, Unit
from domain.report import Report
from domain.summaries import claim_text, quantity_text
from projections.tracked import Source, Tracked
from projections.views.damage import DamageRow
from projections.views.forces import ForcesHistory, ForcesRow
from projections.views.front import FrontRow, FrontSeries
from projections.views.holdings import Holding, HoldingSeries
from projections.views.incidents import IncidentsRow
from projections.views.running_totals import recency
from projections.views.strikes import StrikeRow
from projections.views.tallies import TallyRow, TallySeries, is_increment
from projections.views.timeline import TimelineRow


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """One figure the row shows, and the reports it comes from."""

    field: str  # where in the row: "current", "peak", "totals_by_source[0]", "points[3]"
    text: str  # "about 800 km2"
    quantity: Quantity | None
    report_ids: tuple[UUID, ...]  # one, or the two a computed share was worked out from


@dataclass(frozen=True, slots=True)
class RowReading:
    """What one rendered row says about its reports."""

    figures: tuple[Figure, ...]
    leading: frozenset[UUID]  # the reports whose role is `current`
    # Reports of the same measure replace one another (a strength another strength, a
    # source's total its own earlier one); a deployment is a measure of its own.
    measure: Callable[[Report], object]
    order: Callable[[Tracked], Any]  # the order in which they replace one another
    # The fields of a sum, which stands on every standing report of its row without naming
    # them (the incidents': thousands a month); those reports are `shown` as these.
    counted: tuple[str, ...] = ()


def _figure(field: str, quantity: Quantity, source: Source) -> Figure:
    return Figure(
        field=field,
        text=quantity_text(quantity),
        quantity=quantity,
        report_ids=(source.report_id,),
    )


def _one_measure(_: Report) -> object:
    return None


def _own_measure(report: Report) -> object:
    return report.id


def _force_measure(report: Report) -> object:
    # The row shows the latest strength and the latest deployment: each replaces the last.
    return "strength" if isinstance(report.claim, ForceStrength) else "deployment"


def read_row(row: msgspec.Struct, reports: Sequence[Tracked]) -> RowReading:
    """The figures a row shows and the reports behind them: one case per view's row type."""
    by_occurrence = Tracked.sort_key
    match row:
        case Holding():
            return _read_holding(row)
        case DamageRow():
            figures = tuple(
                _figure(f"totals_by_source[{i}]", total.count, total.source)
                for i, total in enumerate(row.totals_by_source)
            )
            return RowReading(figures, _ids(figures), lambda r: r.attribution.source, recency)
        case ForcesRow():
            return _read_forces(row)
        case FrontRow():
            figures = (_figure("rate", row.rate, row.source),)
            return RowReading(figures, _ids(figures), _one_measure, by_occurrence)
        case HoldingSeries():
            return _points((point.area, point.report_id) for point in row.points)
        case ForcesHistory():
            return _points((point.troops, point.report_id) for point in row.points)
        case FrontSeries():
            return _points((point.rate, point.report_id) for point in row.points)
        case IncidentsRow():
            return _read_incidents(row)
        case TallyRow():
            return _read_tally(row, reports)
        case TallySeries():
            points = (*row.totals, *row.increments)
            return _points((point.quantity(), point.report_id) for point in points)
        case StrikeRow():
            (tracked,) = reports  # the key is the report id
            strike = Figure(
                field="strike",
                text=claim_text(tracked.report.claim),
                quantity=None,
                report_ids=(row.report_id,),
            )
            return RowReading((strike,), _ids((strike,)), _own_measure, by_occurrence)
        case TimelineRow():
            summary = Figure(
                field="summary", text=row.summary, quantity=None, report_ids=(row.report_id,)
            )
            return RowReading((summary,), _ids((summary,)), _own_measure, by_occurrence)
    raise TypeError(
        f"no explanation reads rows of type {type(row).__name__}: add a case to "
        "projections/figures.py `read_row`"
    )


def _ids(figures: Iterable[Figure]) -> frozenset[UUID]:
    return frozenset(report_id for figure in figures for report_id in figure.report_ids)


def _read_holding(row: Holding) -> RowReading:
    figures: list[Figure] = []
    current, peak = row.current, row.peak
    if current is not None:
        figures.append(_figure("current", current.area, current.source))
    if peak is not None:
        figures.append(_figure("peak", peak.area, peak.source))
    if current is not None and row.share_lost_from_peak is not None:
        # As the current claim's source put it.
        figures.append(_figure("share_lost_from_peak", row.share_lost_from_peak, current.source))
    if row.computed_share_lost_percent is not None and current and peak:
        figures.append(
            Figure(
                field="computed_share_lost_percent",
                text=f"{row.computed_share_lost_percent:g} percent, from peak and current",
                quantity=None,
                report_ids=(peak.source.report_id, current.source.report_id),
            )
        )
    leading = current or peak
    assert leading is not None  # a holding is rendered only with a claim standing
    return RowReading(
        tuple(figures), frozenset((leading.source.report_id,)), _one_measure, Tracked.sort_key
    )


def _read_forces(row: ForcesRow) -> RowReading:
    figures: list[Figure] = []
    if row.strength is not None:
        figures.append(_figure("strength", row.strength.troops, row.strength.source))
    if row.target is not None:
        figures.append(_figure("target", row.target.troops, row.target.source))
    if row.deployment is not None:
        figures.append(_figure("deployment", row.deployment.troops, row.deployment.source))
    return RowReading(tuple(figures), _ids(figures), _force_measure, Tracked.sort_key)


def _read_tally(row: TallyRow, reports: Sequence[Tracked]) -> RowReading:
    figures: list[Figure] = []
    if row.total is not None:
        figures.append(_figure("total", row.total.count, row.total.source))
    if row.increments is not None:
        # The row holds the sum, not its reports (it would grow with them): they are the
        # standing increments `render` was handed, the very list given here.
        summed = row.increments
        added = tuple(
            t.report.id for t in reports if is_increment(t.report) and not t.report.is_retracted
        )
        assert len(added) == summed.counted
        quantity = Quantity(unit=summed.unit, value=summed.value, low=summed.low, high=summed.high)
        figures.append(
            Figure(
                field="increments",
                text=f"{quantity_text(quantity)}, the sum of {summed.counted} increments",
                quantity=quantity,
                report_ids=added,
            )
        )
    leading = frozenset(() if row.total is None else (row.total.source.report_id,))
    return RowReading(tuple(figures), leading, _tally_measure, recency)


def _tally_measure(report: Report) -> object:
    # A running total replaces the source's earlier ones; an increment replaces none.
    return report.id if is_increment(report) else "total"


def _points(quantities: Iterable[tuple[Quantity, UUID]]) -> RowReading:
    """A month of a history: every point is shown, none leads, none replaces another."""
    figures = tuple(
        Figure(
            field=f"points[{i}]",
            text=quantity_text(quantity),
            quantity=quantity,
            report_ids=(report_id,),
        )
        for i, (quantity, report_id) in enumerate(quantities)
    )
    return RowReading(figures, frozenset(), _own_measure, Tracked.sort_key)


def _read_incidents(row: IncidentsRow) -> RowReading:
    """A sum: its figures stand on every incident counted in it, none leading."""
    dead = Quantity(
        unit=Unit.PEOPLE,
        value=row.fatalities_best,
        low=row.fatalities_low,
        high=row.fatalities_high,
    )
    figures = (
        Figure(field="events", text=f"{row.events} incidents", quantity=None, report_ids=()),
        Figure(field="fatalities_best", text=quantity_text(dead), quantity=dead, report_ids=()),
    )
    return RowReading(
        figures, frozenset(), _own_measure, Tracked.sort_key, counted=("events", "fatalities_best")
    )
