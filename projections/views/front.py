"""Front movement: how fast each actor advances on each direction, and how that changed.

One row per direction and actor (key `slug(direction, actor)`, "kurakhove/russia"), fed by
every `FrontAdvance` report about it. The row shows the latest rate that still stands. For
charts, the `front-series` view beside it has one point per claim in order of when it
happened, one row per direction, actor and day ("kurakhove/russia/2024-11-23"), so that no row
grows with the length of the war.

Retracted claims leave the series and can no longer be the latest rate: a withdrawn figure
is not a measurement to plot. When every claim about a direction has been withdrawn the row
goes (render returns None); the timeline view still shows the withdrawn reports. Disputed
and denied claims stay, marked, because contradicting sources are both kept and a reader
judges them by their verification state and attribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Verification
from domain.claims import Claim, FrontAdvance
from domain.occurrence import Occurrence
from domain.quantities import Quantity
from domain.report import Report
from projections.history import LatestOfItsDay, Relevance
from projections.row_keys import DayPiece, daily_key, day_piece, day_row, slug
from projections.tracked import Source, Tracked, occurred_date


class FrontPoint(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One claimed rate for the chart: when it held, what it was, and whose it was."""

    date: str
    rate: Quantity
    verification: Verification
    report_id: UUID
    source: str


class FrontRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An actor's advance on one direction: the latest standing rate."""

    direction: str
    actor: str
    region: str
    country: str
    rate: Quantity
    verification: Verification
    attribution: Attribution
    occurred: Occurrence
    date: str
    source: Source


class FrontSeries(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One day of an advance's history: its standing rates in order of occurrence, and
    the ones withdrawn (never plotted)."""

    direction: str
    actor: str
    day: str  # "2024-11-23": when the rates were claimed to hold, in UTC
    points: tuple[FrontPoint, ...]
    retracted: tuple[Source, ...]
    # the day has reports before these (its latest DAY_POINTS are listed; explain has all)
    earlier_reports: bool = False


def _advance(report: Report) -> FrontAdvance:
    claim = report.claim
    # The engine only hands this view reports it follows, and a correction keeps the kind.
    assert isinstance(claim, FrontAdvance)
    return claim


def _point(tracked: Tracked) -> FrontPoint:
    report = tracked.report
    return FrontPoint(
        date=occurred_date(report),
        rate=_advance(report).rate,
        verification=report.verification,
        report_id=report.id,
        source=report.attribution.source,
    )


class FrontView:
    name: ClassVar[str] = "front"

    # Past answers (projections/history.py): `render` reads the latest standing claim only.
    latest_classes: ClassVar[tuple[int, ...]] = (1,)
    top_classes: ClassVar[tuple[int, ...]] = ()
    all_classes: ClassVar[tuple[int, ...]] = ()

    def relevance(self, report: Report, filed_at_position: int) -> Relevance:
        return Relevance(kind=0 if report.is_retracted else 1)

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, FrontAdvance)

    def keys(self, report: Report) -> tuple[str, ...]:
        claim = _advance(report)
        return (slug(claim.direction, claim.actor),)

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> FrontRow | None:
        # `reports` come in order of occurrence, then reporting, then log: the last standing
        # claim is the most recent one, and names and region are shown as it gives them.
        latest = next((t for t in reversed(reports) if not t.report.is_retracted), None)
        if latest is None:
            return None
        report = latest.report
        claim = _advance(report)
        return FrontRow(
            direction=claim.direction,
            actor=claim.actor,
            region=claim.region,
            country=claim.country,
            rate=claim.rate,
            verification=report.verification,
            attribution=report.attribution,
            occurred=report.occurred,
            date=occurred_date(report),
            source=latest.source,
        )


class FrontSeriesView(LatestOfItsDay):
    """The advances' history, one row per direction, actor and day."""

    name: ClassVar[str] = "front-series"

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, FrontAdvance)

    def keys(self, report: Report) -> tuple[str, ...]:
        claim = _advance(report)
        return (daily_key(slug(claim.direction, claim.actor), report),)

    # A day row is put together from one piece per report (projections/history.py,
    # `Pieced`): its runner keeps each report's piece with its version.
    piece_type: ClassVar[type] = DayPiece[FrontPoint]

    def piece(self, tracked: Tracked) -> DayPiece[FrontPoint]:
        claim = _advance(tracked.report)
        return day_piece(tracked, (claim.direction, claim.actor), lambda: _point(tracked))

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> FrontSeries | None:
        return self.assemble(key, [t.derived(self.piece) for t in self.latest_of_day(reports)])

    def assemble(self, key: str, pieces: Sequence[DayPiece[FrontPoint]]) -> FrontSeries:
        day = day_row(key, pieces, self.day_points)
        direction, actor = day.names
        return FrontSeries(
            direction=direction,
            actor=actor,
            day=day.day,
            points=day.points,
            retracted=day.retracted,
            earlier_reports=day.earlier_reports,
        )
