"""Tallies: each source's count of a side's losses, as running totals and as increments.

One row per side whose losses, what is counted and source, fed by `EquipmentLosses` and
`Casualties` reports. Its key is `slug(side, counting, what, condition, source)`:
- equipment: "russia/equipment/tanks/unspecified/general-staff-of-the-armed-forces-of-ukraine"
  (the normalised category and the state; the source's own name, "tank", is in the row);
- people: "russia/people/killed/military/uk-mod" (which figure: killed, wounded, missing,
  captured or total, and the people's status; the source's own word for a total,
  "personnel" or "casualties", is in the row). A report giving several figures (killed and
  wounded) feeds a row per figure.
So `?key=russia/equipment/tanks` is every source's tanks, side by side: a reader compares
sources, we do not.

A running total ("9,419 tanks since 24 February 2022") shows as the source's latest standing
total, by the rule damage's tallies follow (projections/views/running_totals.py): never added
to another, a lower later total replaces a higher one (the General Staff's 3,797 tanks of 28
May 2023 after 3,799 the day before), known from the day it counts up to. Increments ("12
tanks today") add up, summed apart (`increments`), never mixed with the total.

The history `tallies-series` keeps one row per key and month ("…/uk-mod/2024-11"), each a
point per standing report, flat and chart-ready. By month, where the other histories keep a
row per day: a key is one source's, and a source publishes a total a day at most (the General
Staff's ~15 daily categories, the estimates a few a year), so a month row holds ~31 points
at most, and a category's whole war (~55 months) is one page of rows; by day, it would be
~1,600 rows of one point each. The other histories' keys gather every source about a region,
whose busy months held thousands of reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Casualties, Claim, EquipmentLosses, Tally
from domain.quantities import Qualifier, Quantity, Unit
from domain.report import Report
from projections.history import Relevance
from projections.row_keys import day_in, slug
from projections.tracked import Source, Tracked, iso, occurred_date
from projections.views import running_totals
from projections.views.running_totals import STANDING, WITHDRAWN, as_of_day

INCREMENT = 3  # a standing increment: every one is summed, so every one is picked


class Counting(StrEnum):
    EQUIPMENT = "equipment"
    PEOPLE = "people"


class Counted(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What one report counts for one row: the row's key and names, and the figure."""

    key: str
    side: str
    counting: Counting
    what: str  # the equipment's category, or the figure: killed, wounded, ..., total
    condition: str  # the equipment's state, or the people's status
    source: str
    source_name: str  # the source's own name for what it counts: "APC", "personnel"
    figure: Quantity


def counted(report: Report) -> tuple[Counted, ...]:
    """The rows a report feeds, one per figure it gives."""
    claim = report.claim
    source = report.attribution.source
    if isinstance(claim, EquipmentLosses):
        names = (claim.side, Counting.EQUIPMENT, claim.category.value, claim.state.value)
        return (_counted(names, source, claim.source_category, claim.count),)
    # The engine only hands these views reports they follow, and a correction keeps the kind.
    assert isinstance(claim, Casualties)
    rows = []
    for figure in Casualties.FIGURES:
        quantity: Quantity | None = getattr(claim, figure)
        if quantity is not None:
            own = claim.label if figure == "total" and claim.label else figure
            names = (claim.side, Counting.PEOPLE, figure, claim.status.value)
            rows.append(_counted(names, source, own, quantity))
    return tuple(rows)


def _counted(
    names: tuple[str, Counting, str, str], source: str, own: str, figure: Quantity
) -> Counted:
    side, counting, what, condition = names
    return Counted(
        key=slug(*names, source),
        side=side,
        counting=counting,
        what=what,
        condition=condition,
        source=source,
        source_name=own,
        figure=figure,
    )


def _counted_of(tracked: Tracked) -> tuple[Counted, ...]:
    return counted(tracked.report)


def _in_row(tracked: Tracked, key: str) -> Counted:
    return next(c for c in tracked.derived(_counted_of) if c.key == key)


def is_increment(report: Report) -> bool:
    claim = report.claim
    assert isinstance(claim, Casualties | EquipmentLosses)
    return claim.tally is Tally.INCREMENT


def _increment(tracked: Tracked) -> bool:
    return is_increment(tracked.report)


def _follows(claim: Claim) -> bool:
    return isinstance(claim, Casualties | EquipmentLosses)


class StandingTotal(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A source's latest running total, with everything a reader needs to judge it."""

    count: Quantity
    source_name: str
    since: str | None  # the ISO day the count starts from, when the source says
    as_of: str  # the ISO day it counts up to
    attribution: Attribution  # the source, the outlet that relayed it, their side
    verification: Verification
    caveats: tuple[Caveat, ...]
    source: Source


class IncrementSum(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A source's increments added up: its point figures, its low and its high bounds, each
    summed apart (a point figure stands for its own bound where a report gave none); a sum is
    null when one of the increments has no figure for it."""

    value: float | None
    low: float | None
    high: float | None
    unit: Unit  # the latest increment's: every unit of a tally counts things
    counted: int
    first: str  # where the earliest and the latest sit on the time axis (ISO, UTC)
    last: str


class TallyRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One source's count of one kind of a side's losses: its total, its increments."""

    side: str
    counting: Counting
    what: str
    condition: str
    source: str
    total: StandingTotal | None
    increments: IncrementSum | None
    retracted: tuple[Source, ...]  # each source's latest withdrawn report (running_totals)


def _total(tracked: Tracked, key: str) -> StandingTotal:
    report = tracked.report
    claim = report.claim
    assert isinstance(claim, Casualties | EquipmentLosses)
    mine = _in_row(tracked, key)
    return StandingTotal(
        count=mine.figure,
        source_name=mine.source_name,
        since=None if claim.since is None else claim.since.isoformat(),
        as_of=as_of_day(report).isoformat(),
        attribution=report.attribution,
        verification=report.verification,
        caveats=report.caveats,
        source=tracked.source,
    )


def _sum(figures: Sequence[Quantity], bound: Callable[[Quantity], float | None]) -> float | None:
    parts = [bound(figure) for figure in figures]
    return None if any(part is None for part in parts) else math.fsum(parts)  # type: ignore[arg-type]


def _increments(increments: Sequence[Tracked], key: str) -> IncrementSum:
    figures = [_in_row(tracked, key).figure for tracked in increments]
    return IncrementSum(
        value=_sum(figures, lambda f: f.value),
        low=_sum(figures, lambda f: f.value if f.low is None else f.low),
        high=_sum(figures, lambda f: f.value if f.high is None else f.high),
        unit=figures[-1].unit,
        counted=len(figures),
        first=occurred_date(increments[0].report),
        last=occurred_date(increments[-1].report),
    )


class TalliesView:
    name: ClassVar[str] = "tallies"

    # Past answers (projections/history.py): `render` reads the source's most recent
    # standing total and its latest withdrawn report (running_totals), and every standing
    # increment, which it sums.
    latest_classes: ClassVar[tuple[int, ...]] = (WITHDRAWN,)
    top_classes: ClassVar[tuple[int, ...]] = (STANDING,)
    all_classes: ClassVar[tuple[int, ...]] = (INCREMENT,)

    def relevance(self, report: Report, filed_at_position: int) -> Relevance:
        if is_increment(report) and not report.is_retracted:
            return Relevance(kind=INCREMENT)
        return running_totals.relevance(report, filed_at_position)

    def follows(self, claim: Claim) -> bool:
        return _follows(claim)

    def keys(self, report: Report) -> tuple[str, ...]:
        return tuple(row.key for row in counted(report))

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> TallyRow | None:
        totals = running_totals.standing((t for t in reports if not _increment(t)), as_of)
        increments = [t for t in reports if _increment(t) and not t.report.is_retracted]
        if not totals and not increments:
            return None
        total = running_totals.latest(totals) if totals else None
        names = _in_row(total or increments[-1], key)
        return TallyRow(
            side=names.side,
            counting=names.counting,
            what=names.what,
            condition=names.condition,
            source=names.source,
            total=None if total is None else _total(total, key),
            increments=_increments(increments, key) if increments else None,
            retracted=running_totals.latest_withdrawn(reports),
        )


# --- the history, one row per key and month ----------------------------------------------


class TallyPoint(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One standing report on the chart, flat."""

    date: str  # a running total's: the day it counts up to; an increment's: its start
    value: float | None
    low: float | None
    high: float | None
    unit: Unit
    qualifier: Qualifier
    verification: Verification
    report_id: UUID
    source: str
    source_name: str

    def quantity(self) -> Quantity:
        """The figure as a quantity again (an explanation's, the flat points')."""
        return Quantity(
            unit=self.unit,
            value=self.value,
            low=self.low,
            high=self.high,
            qualifier=self.qualifier,
        )


class TallySeries(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One month of a source's tally: its running totals and its increments, apart, in order
    of date, and the reports withdrawn (kept for auditors, never plotted)."""

    side: str
    counting: Counting
    what: str
    condition: str
    source: str
    month: str  # "2024-11"
    totals: tuple[TallyPoint, ...]
    increments: tuple[TallyPoint, ...]
    retracted: tuple[Source, ...]


class TallyPiece(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What one report gives its month rows, from that report alone (one piece for all the
    rows it feeds, as projections/history.py keeps one per version)."""

    counted: tuple[Counted, ...]
    date: str
    increment: bool
    verification: Verification
    report_id: UUID
    withdrawn: Source | None  # the report was withdrawn: kept for auditors


def point_date(report: Report) -> str:
    if is_increment(report):
        return occurred_date(report)
    return iso(datetime.combine(as_of_day(report), datetime.min.time(), UTC))


def _point(piece: TallyPiece, mine: Counted) -> TallyPoint:
    figure = mine.figure
    return TallyPoint(
        date=piece.date,
        value=figure.value,
        low=figure.low,
        high=figure.high,
        unit=figure.unit,
        qualifier=figure.qualifier,
        verification=piece.verification,
        report_id=piece.report_id,
        source=mine.source,
        source_name=mine.source_name,
    )


def _by_date(point: TallyPoint) -> str:
    return point.date


class TalliesSeriesView:
    """The tallies' history, one row per key and month."""

    name: ClassVar[str] = "tallies-series"

    # Past answers: every report of a month (its row shows them all), a running total from
    # the day it counts up to, as in the tallies.
    latest_classes: ClassVar[tuple[int, ...]] = ()
    top_classes: ClassVar[tuple[int, ...]] = ()
    all_classes: ClassVar[tuple[int, ...]] = (1,)

    def relevance(self, report: Report, filed_at_position: int) -> Relevance:
        if is_increment(report):
            return Relevance(kind=1)
        return Relevance(kind=1, counts_from=running_totals.counts_from(report))

    def follows(self, claim: Claim) -> bool:
        return _follows(claim)

    def keys(self, report: Report) -> tuple[str, ...]:
        month = point_date(report)[:7]
        return tuple(f"{row.key}/{month}" for row in counted(report))

    # A month row is put together from one piece per report (projections/history.py,
    # `Pieced`): its runner keeps each report's piece with its version.
    piece_type: ClassVar[type] = TallyPiece

    def piece(self, tracked: Tracked) -> TallyPiece:
        report = tracked.report
        return TallyPiece(
            counted=tracked.derived(_counted_of),
            date=point_date(report),
            increment=is_increment(report),
            verification=report.verification,
            report_id=report.id,
            withdrawn=tracked.source if report.is_retracted else None,
        )

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> TallySeries | None:
        if as_of is not None:
            # As `relevance` says: a running total counts from the day it counts up to.
            cutoff = as_of.astimezone(UTC).date()
            reports = [t for t in reports if _increment(t) or as_of_day(t.report) <= cutoff]
        if not reports:
            return None
        return self.assemble(key, [t.derived(self.piece) for t in reports])

    def assemble(self, key: str, pieces: Sequence[TallyPiece]) -> TallySeries:
        series, month = key.rsplit("/", 1)[0], day_in(key)
        totals: list[TallyPoint] = []
        increments: list[TallyPoint] = []
        retracted: list[Source] = []
        names: Counted | None = None
        withdrawn_names: Counted | None = None
        for piece in pieces:
            mine = next(c for c in piece.counted if c.key == series)
            if piece.withdrawn is not None:
                retracted.append(piece.withdrawn)
                withdrawn_names = mine
                continue
            names = mine
            (increments if piece.increment else totals).append(_point(piece, mine))
        names = names or withdrawn_names
        assert names is not None  # a month row has a report
        return TallySeries(
            side=names.side,
            counting=names.counting,
            what=names.what,
            condition=names.condition,
            source=names.source,
            month=month,
            totals=tuple(sorted(totals, key=_by_date)),
            increments=tuple(sorted(increments, key=_by_date)),
            retracted=tuple(retracted),
        )
