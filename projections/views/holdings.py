"""Holdings: how much of a region each actor holds now and held at its peak, as claimed.

One row per region and actor (key `slug(region, actor)`, "kursk-oblast/ukraine"), fed by every
`TerritoryControl` report about it. The row shows the latest standing "current" figure, the
peak and the share lost between them. The history, one point per standing claim for charts,
is the `holdings-series` view beside it: one row per region, actor and day
("kursk-oblast/ukraine/2024-08-06"), so that neither row grows with the length of the war and a
new claim rewrites only its own day.

Retracted claims never count: the current figure falls back to the previous standing one,
and the peak to the previous peak claim (or, failing that, to the highest current figure).
Disputed and denied claims still count, marked, because contradicting sources are both kept
and a reader judges them by verification state and attribution. When every claim about a
holding has been withdrawn the row goes (render returns None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Claim, Extent, TerritoryControl
from domain.occurrence import Occurrence
from domain.quantities import Quantity
from domain.report import Report
from projections.history import LatestOfItsDay, Relevance, float_rank
from projections.row_keys import DayPiece, daily_key, day_piece, day_row, slug
from projections.tracked import Source, Tracked, occurred_date


class PeakBasis(StrEnum):
    """Where the peak figure comes from, so a chart can say how firm it is."""

    CLAIMED = "claimed"  # a source named the peak ("at most, we controlled about 1376 km²")
    HIGHEST_CURRENT = "highest_current"  # nobody did: the largest "current" figure on record


class HeldArea(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One claimed area with everything a reader needs to judge it."""

    area: Quantity
    occurred: Occurrence
    date: str
    verification: Verification
    attribution: Attribution
    caveats: tuple[Caveat, ...]
    source: Source


class HoldingPoint(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One standing claim for the chart."""

    date: str
    area: Quantity
    extent: Extent
    verification: Verification
    report_id: UUID


class Holding(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What an actor holds of a region: now, at its peak, and how much it lost since."""

    region: str
    country: str
    actor: str
    current: HeldArea | None
    peak: HeldArea | None
    peak_basis: PeakBasis | None
    # As the current claim's source put it ("more than 40 per cent"), qualifier kept.
    share_lost_from_peak: Quantity | None
    # Ours, from the two point figures; None when either figure is only a bound or missing.
    computed_share_lost_percent: float | None


class HoldingSeries(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One day of a holding's history: its standing claims in order of occurrence, and
    the ones withdrawn (kept for auditors, never plotted)."""

    region: str
    country: str
    actor: str
    day: str  # "2024-08-06": when the claims say the area was held, in UTC
    points: tuple[HoldingPoint, ...]
    retracted: tuple[Source, ...]
    # the day has reports before these (its latest DAY_POINTS are listed; explain has all)
    earlier_reports: bool = False


def _territory(report: Report) -> TerritoryControl:
    claim = report.claim
    # The engine only hands this view reports it follows, and a correction keeps the kind.
    assert isinstance(claim, TerritoryControl)
    return claim


def _held(tracked: Tracked) -> HeldArea:
    report = tracked.report
    return HeldArea(
        area=_territory(report).area,
        occurred=report.occurred,
        date=occurred_date(report),
        verification=report.verification,
        attribution=report.attribution,
        caveats=report.caveats,
        source=tracked.source,
    )


def _point(tracked: Tracked) -> HoldingPoint:
    report = tracked.report
    claim = _territory(report)
    return HoldingPoint(
        date=occurred_date(report),
        area=claim.area,
        extent=claim.extent,
        verification=report.verification,
        report_id=report.id,
    )


def _size(area: Quantity) -> float:
    """A figure to compare areas by: the point value, else the bound the source gave."""
    for figure in (area.value, area.high, area.low):
        if figure is not None:
            return figure
    return 0.0  # unreachable for a validated quantity; keeps the comparison total


def _facts(tracked: Tracked) -> tuple[bool, bool, float]:
    """What the scan asks of a claim, worked out once per version of its report: a holding
    with no claimed peak is read from every claim, on every batch that touches it."""
    report = tracked.report
    claim = _territory(report)
    return not report.is_retracted, claim.extent is Extent.PEAK, _size(claim.area)


class _Reading:
    """The standing claims a holding is shown from, found scanning back from the most
    recent: usually a few steps, whatever the length of the row's history."""

    __slots__ = ("current", "latest", "peak", "peak_basis")

    def __init__(self, reports: Sequence[Tracked]) -> None:
        self.latest: Tracked | None = None
        self.current: Tracked | None = None
        claimed: Tracked | None = None
        highest: Tracked | None = None
        highest_size = 0.0
        for tracked in reversed(reports):
            standing, is_peak, size = tracked.derived(_facts)
            if not standing:
                continue
            if self.latest is None:
                self.latest = tracked
            if is_peak:
                if claimed is None:
                    claimed = tracked
            else:
                if self.current is None:
                    self.current = tracked
                # Strictly larger, scanning back: among equal figures the most recent
                # claim stands for the peak.
                if highest is None or size > highest_size:
                    highest, highest_size = tracked, size
            if claimed is not None and self.current is not None:
                break  # a claimed peak makes the highest current figure moot
        self.peak: Tracked | None
        self.peak_basis: PeakBasis | None
        if claimed is not None:
            self.peak, self.peak_basis = claimed, PeakBasis.CLAIMED
        elif highest is not None:
            self.peak, self.peak_basis = highest, PeakBasis.HIGHEST_CURRENT
        else:
            self.peak, self.peak_basis = None, None


def _share_lost_percent(peak: Quantity | None, current: Quantity | None) -> float | None:
    if peak is None or current is None or peak.value is None or current.value is None:
        return None
    if peak.value == 0:
        return None
    return round((peak.value - current.value) / peak.value * 100, 1)


class HoldingsView:
    name: ClassVar[str] = "holdings"

    # Past answers (projections/history.py): `render` reads the latest standing "current"
    # claim (1), the latest standing claimed peak (2), the highest current figure (1, by
    # area; the most recent among equals) and the latest of them all for names: nothing
    # else, whatever the length of the holding's history. Withdrawn claims never count.
    latest_classes: ClassVar[tuple[int, ...]] = (1, 2)
    top_classes: ClassVar[tuple[int, ...]] = (1,)
    all_classes: ClassVar[tuple[int, ...]] = ()

    def relevance(self, report: Report, filed_at_position: int) -> Relevance:
        if report.is_retracted:
            return Relevance(kind=0)
        claim = _territory(report)
        if claim.extent is Extent.PEAK:
            return Relevance(kind=2)
        return Relevance(kind=1, rank=float_rank(_size(claim.area)))

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, TerritoryControl)

    def keys(self, report: Report) -> tuple[str, ...]:
        claim = _territory(report)
        return (slug(claim.region, claim.actor),)

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> Holding | None:
        # `reports` come in order of occurrence, then reporting, then log: the last standing
        # claim of a kind is the most recent one.
        reading = _Reading(reports)
        if reading.latest is None:
            return None
        current, peak = reading.current, reading.peak
        current_claim = None if current is None else _territory(current.report)
        peak_area = None if peak is None else _territory(peak.report).area
        names = _territory(reading.latest.report)
        return Holding(
            region=names.region,
            country=names.country,
            actor=names.actor,
            current=None if current is None else _held(current),
            peak=None if peak is None else _held(peak),
            peak_basis=reading.peak_basis,
            share_lost_from_peak=(
                None if current_claim is None else current_claim.share_lost_from_peak
            ),
            computed_share_lost_percent=_share_lost_percent(
                peak_area, None if current_claim is None else current_claim.area
            ),
        )


class HoldingsSeriesView(LatestOfItsDay):
    """The holdings' history, one row per region, actor and day."""

    name: ClassVar[str] = "holdings-series"

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, TerritoryControl)

    def keys(self, report: Report) -> tuple[str, ...]:
        claim = _territory(report)
        return (daily_key(slug(claim.region, claim.actor), report),)

    # A day row is put together from one piece per report (projections/history.py,
    # `Pieced`): its runner keeps each report's piece with its version.
    piece_type: ClassVar[type] = DayPiece[HoldingPoint]

    def piece(self, tracked: Tracked) -> DayPiece[HoldingPoint]:
        claim = _territory(tracked.report)
        names = (claim.region, claim.country, claim.actor)
        return day_piece(tracked, names, lambda: _point(tracked))

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> HoldingSeries | None:
        return self.assemble(key, [t.derived(self.piece) for t in self.latest_of_day(reports)])

    def assemble(self, key: str, pieces: Sequence[DayPiece[HoldingPoint]]) -> HoldingSeries:
        day = day_row(key, pieces, self.day_points)
        region, country, actor = day.names
        return HoldingSeries(
            region=region,
            country=country,
            actor=actor,
            day=day.day,
            points=day.points,
            retracted=day.retracted,
            earlier_reports=day.earlier_reports,
        )
