"""Holdings: how much of a region each actor holds now and held at its peak, as claimed.

One row per region and actor (key `slug(region, actor)`, "kursk-oblast/ukraine"), fed by every
`TerritoryControl` report about it. The row shows the latest standing "current" figure, the
peak, the share lost between them, and one point per standing claim for charts.

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
from projections.core import Source, Tracked, occurred_date, slug


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
    series: tuple[HoldingPoint, ...]
    retracted: tuple[Source, ...]


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


def _peak(standing: Sequence[Tracked]) -> tuple[Tracked | None, PeakBasis | None]:
    claimed = [t for t in standing if _territory(t.report).extent is Extent.PEAK]
    if claimed:
        return claimed[-1], PeakBasis.CLAIMED
    current = [t for t in standing if _territory(t.report).extent is Extent.CURRENT]
    if not current:
        return None, None
    highest = current[0]
    for tracked in current[1:]:
        # `>=`: among equal figures the most recent claim stands for the peak.
        if _size(_territory(tracked.report).area) >= _size(_territory(highest.report).area):
            highest = tracked
    return highest, PeakBasis.HIGHEST_CURRENT


def _share_lost_percent(peak: Quantity | None, current: Quantity | None) -> float | None:
    if peak is None or current is None or peak.value is None or current.value is None:
        return None
    if peak.value == 0:
        return None
    return round((peak.value - current.value) / peak.value * 100, 1)


class HoldingsView:
    name: ClassVar[str] = "holdings"

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, TerritoryControl)

    def keys(self, report: Report) -> tuple[str, ...]:
        claim = _territory(report)
        return (slug(claim.region, claim.actor),)

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> Holding | None:
        standing = [t for t in reports if not t.report.is_retracted]
        if not standing:
            return None
        # `reports` come in order of occurrence, then reporting, then log: the last standing
        # claim of a kind is the most recent one.
        currents = [t for t in standing if _territory(t.report).extent is Extent.CURRENT]
        current = currents[-1] if currents else None
        peak, peak_basis = _peak(standing)
        current_claim = None if current is None else _territory(current.report)
        peak_area = None if peak is None else _territory(peak.report).area
        names = _territory(standing[-1].report)
        return Holding(
            region=names.region,
            country=names.country,
            actor=names.actor,
            current=None if current is None else _held(current),
            peak=None if peak is None else _held(peak),
            peak_basis=peak_basis,
            share_lost_from_peak=(
                None if current_claim is None else current_claim.share_lost_from_peak
            ),
            computed_share_lost_percent=_share_lost_percent(
                peak_area, None if current_claim is None else current_claim.area
            ),
            series=tuple(t.derived(_point) for t in standing),
            retracted=tuple(t.source for t in reports if t.report.is_retracted),
        )
