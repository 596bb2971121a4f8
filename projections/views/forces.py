"""Forces: how many troops an actor has in a theatre, what it aims for, and who it sent.

One row per actor and theatre (key `slug(actor, theatre)`, "north-korea/kursk-oblast"), fed by
`ForceStrength` reports (the size of a force and its target: 575,000 aiming for 690,000) and
`TroopDeployment` reports (troops sent: 59,000 Russians to Kursk since August). The latest
standing strength, target and deployment are shown. Deployments are never summed, because two
reports of a deployment are as likely to be two accounts of the same troops as two waves of
them; every one is kept, in full, in the `forces-history` view beside this one (one row per
actor, theatre and day, "north-korea/kursk-oblast/2024-11-01", with the chart's points), so
that no row grows with the length of the war. Each deployment carries its report's caveats
("neither confirmed nor denied"), since a figure nobody will confirm reads differently from
one nobody asked about.

Retracted reports never count (the previous standing one shows instead); when every report
about a force has been withdrawn the row goes (render returns None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Claim, ForceStrength, TroopDeployment
from domain.occurrence import Occurrence
from domain.quantities import Quantity
from domain.report import Report
from projections.history import LatestOfItsDay, Relevance
from projections.row_keys import DayPiece, daily_key, day_piece, day_row, slug
from projections.tracked import Source, Tracked, occurred_date


class Measure(StrEnum):
    STRENGTH = "strength"
    DEPLOYMENT = "deployment"


class TroopFigure(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A strength or a target with everything a reader needs to judge it."""

    troops: Quantity
    occurred: Occurrence
    date: str
    verification: Verification
    attribution: Attribution
    caveats: tuple[Caveat, ...]
    source: Source


class Deployment(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Troops sent to the theatre, as one report tells it."""

    troops: Quantity
    in_support_of: str | None
    status: str | None
    # The ISO day the deployment began, None when the source gave only an end ("had arrived").
    since: str | None
    occurred: Occurrence
    verification: Verification
    attribution: Attribution
    caveats: tuple[Caveat, ...]
    source: Source


class ForcePoint(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One standing report for the chart."""

    date: str
    measure: Measure
    troops: Quantity
    target: Quantity | None
    verification: Verification
    report_id: UUID


class ForceDayPoint(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What a standing report gives its day of a force's history: its point, and the
    deployment in full when it reports one."""

    point: ForcePoint
    deployment: Deployment | None


class ForcesRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An actor's force in one theatre: its size, its target and the troops sent there."""

    actor: str
    theatre: str
    country: str | None  # only deployments name one; a strength's theatre may be a country
    strength: TroopFigure | None
    target: TroopFigure | None
    deployment: Deployment | None  # the latest standing one


class ForcesHistory(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """One day of a force's history: a point per standing report for the chart, the
    day's deployments in full, and the reports withdrawn (never plotted)."""

    actor: str
    theatre: str
    day: str  # "2024-11-01": when the reports say it was so, in UTC
    points: tuple[ForcePoint, ...]
    deployments: tuple[Deployment, ...]
    retracted: tuple[Source, ...]
    # the day has reports before these (its latest DAY_POINTS are listed; explain has all)
    earlier_reports: bool = False


def _force(report: Report) -> ForceStrength | TroopDeployment:
    claim = report.claim
    # The engine only hands this view reports it follows, and a correction keeps the kind.
    assert isinstance(claim, ForceStrength | TroopDeployment)
    return claim


def _figure(tracked: Tracked, troops: Quantity) -> TroopFigure:
    report = tracked.report
    return TroopFigure(
        troops=troops,
        occurred=report.occurred,
        date=occurred_date(report),
        verification=report.verification,
        attribution=report.attribution,
        caveats=report.caveats,
        source=tracked.source,
    )


def _deployment(tracked: Tracked) -> Deployment:
    report = tracked.report
    claim = _force(report)
    assert isinstance(claim, TroopDeployment)
    start = report.occurred.earliest()
    return Deployment(
        troops=claim.troops,
        in_support_of=claim.in_support_of,
        status=claim.status,
        since=None if start is None else start.astimezone(UTC).date().isoformat(),
        occurred=report.occurred,
        verification=report.verification,
        attribution=report.attribution,
        caveats=report.caveats,
        source=tracked.source,
    )


def _point(tracked: Tracked) -> ForcePoint:
    report = tracked.report
    claim = _force(report)
    return ForcePoint(
        date=occurred_date(report),
        measure=Measure.STRENGTH if isinstance(claim, ForceStrength) else Measure.DEPLOYMENT,
        troops=claim.troops,
        target=claim.target if isinstance(claim, ForceStrength) else None,
        verification=report.verification,
        report_id=report.id,
    )


def _facts(tracked: Tracked) -> tuple[bool, Quantity | None, Quantity | None, str | None]:
    """What the scan asks of a report, worked out once per version of it (a force that has
    no strength or no deployment on record is read from every report, on every batch that
    touches it): standing; a strength's troops and target; a deployment's country."""
    report = tracked.report
    claim = _force(report)
    if isinstance(claim, ForceStrength):
        return not report.is_retracted, claim.troops, claim.target, None
    return not report.is_retracted, None, None, claim.country


class ForcesView:
    name: ClassVar[str] = "forces"

    # Past answers (projections/history.py): `render` reads the latest standing strength
    # with a target (1), without one (2), and deployment (3): the latest of these three is
    # the latest standing report. Withdrawn reports never count.
    latest_classes: ClassVar[tuple[int, ...]] = (1, 2, 3)
    top_classes: ClassVar[tuple[int, ...]] = ()
    all_classes: ClassVar[tuple[int, ...]] = ()

    def relevance(self, report: Report, filed_at_position: int) -> Relevance:
        if report.is_retracted:
            return Relevance(kind=0)
        claim = _force(report)
        if isinstance(claim, ForceStrength):
            return Relevance(kind=1 if claim.target is not None else 2)
        return Relevance(kind=3)

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, ForceStrength | TroopDeployment)

    def keys(self, report: Report) -> tuple[str, ...]:
        claim = _force(report)
        return (slug(claim.actor, claim.theatre),)

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> ForcesRow | None:
        # `reports` come in order of occurrence, then reporting, then log: the last standing
        # report of a kind is the most recent one. Scanning back finds them in a few steps.
        latest: Tracked | None = None
        strength: tuple[Tracked, Quantity] | None = None
        target: tuple[Tracked, Quantity] | None = None
        deployment: Tracked | None = None
        country: str | None = None
        for tracked in reversed(reports):
            standing, troops, aim, deployed_in = tracked.derived(_facts)
            if not standing:
                continue
            latest = latest or tracked
            if troops is not None:
                strength = strength or (tracked, troops)
                if target is None and aim is not None:
                    target = (tracked, aim)
            elif deployment is None:
                deployment, country = tracked, deployed_in
            if strength and target and deployment:
                break
        if latest is None:
            return None
        names = _force(latest.report)
        return ForcesRow(
            actor=names.actor,
            theatre=names.theatre,
            country=country,
            strength=None if strength is None else _figure(*strength),
            target=None if target is None else _figure(*target),
            deployment=None if deployment is None else deployment.derived(_deployment),
        )


class ForcesHistoryView(LatestOfItsDay):
    """The forces' history, one row per actor, theatre and day."""

    name: ClassVar[str] = "forces-history"

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, ForceStrength | TroopDeployment)

    def keys(self, report: Report) -> tuple[str, ...]:
        claim = _force(report)
        return (daily_key(slug(claim.actor, claim.theatre), report),)

    # A day row is put together from one piece per report (projections/history.py,
    # `Pieced`): its runner keeps each report's piece with its version. A standing
    # deployment's piece carries the deployment in full beside its point.
    piece_type: ClassVar[type] = DayPiece[ForceDayPoint]

    def piece(self, tracked: Tracked) -> DayPiece[ForceDayPoint]:
        claim = _force(tracked.report)
        return day_piece(
            tracked,
            (claim.actor, claim.theatre),
            lambda: ForceDayPoint(
                point=_point(tracked),
                deployment=(_deployment(tracked) if isinstance(claim, TroopDeployment) else None),
            ),
        )

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> ForcesHistory | None:
        return self.assemble(key, [t.derived(self.piece) for t in self.latest_of_day(reports)])

    def assemble(self, key: str, pieces: Sequence[DayPiece[ForceDayPoint]]) -> ForcesHistory:
        day = day_row(key, pieces, self.day_points)
        actor, theatre = day.names
        return ForcesHistory(
            actor=actor,
            theatre=theatre,
            day=day.day,
            points=tuple(standing.point for standing in day.points),
            deployments=tuple(
                standing.deployment for standing in day.points if standing.deployment is not None
            ),
            retracted=day.retracted,
            earlier_reports=day.earlier_reports,
        )
