"""Front movement: how fast each actor advances on each direction, and how that changed.

One row per direction and actor (key `slug(direction, actor)`, "kurakhove/russia"), fed by
every `FrontAdvance` report about it. The row shows the latest rate that still stands and,
for charts, one point per claim in order of when it happened.

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
from projections.core import Source, Tracked, occurred_date, slug


class FrontPoint(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One claimed rate for the chart: when it held, what it was, and whose it was."""

    date: str
    rate: Quantity
    verification: Verification
    report_id: UUID
    source: str


class FrontRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An actor's advance on one direction: the latest standing rate and its history."""

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
    series: tuple[FrontPoint, ...]


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

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, FrontAdvance)

    def keys(self, report: Report) -> tuple[str, ...]:
        claim = _advance(report)
        return (slug(claim.direction, claim.actor),)

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> FrontRow | None:
        standing = [tracked for tracked in reports if not tracked.report.is_retracted]
        if not standing:
            return None
        # `reports` come in order of occurrence, then reporting, then log: the last standing
        # claim is the most recent one, and names and region are shown as it gives them.
        latest = standing[-1]
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
            series=tuple(tracked.derived(_point) for tracked in standing),
        )
