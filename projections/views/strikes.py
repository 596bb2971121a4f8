"""Strikes: each reported attack with its place, weapon, claimed effects and who claims them.

One row per strike report, keyed by the report id, so two sources' accounts of one attack
stay two rows, each with its own claimant ("nobody injured", per the Kremlin-installed
governor) and its own corroborations, disputes and denials.

A retracted strike keeps its row, marked `verification: "retracted"`. A strike once shown on
a map that silently vanished would leave a reader wondering whether it was lost; seeing that
the claim was withdrawn, by whom and that it is no longer counted is the news. Whoever adds
strikes up (counts per region, maps of live claims) filters on `verification`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Claim, Strike, StrikeEffects
from domain.occurrence import Occurrence
from domain.report import Report
from projections.tracked import Source, Tracked


class StrikePlace(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Where it hit. Unlike the domain's `Place`, every field is always present (null when
    the claim does not say), so the API can build GeoJSON without probing for keys."""

    name: str
    region: str | None
    country: str | None
    latitude: float | None
    longitude: float | None


class StrikeRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    report_id: UUID
    attacker: str
    target: str
    place: StrikePlace
    weapon: str | None
    effects: StrikeEffects
    occurred: Occurrence
    reported: Occurrence
    claimant: Attribution
    caveats: tuple[Caveat, ...]
    notes: str | None
    verification: Verification
    corroborated_by: tuple[Attribution, ...]
    disputed_by: tuple[Attribution, ...]
    denied_by: tuple[Attribution, ...]
    corrections: int
    source: Source


def _strike(report: Report) -> Strike:
    claim = report.claim
    # The engine only hands this view reports it follows, and a correction keeps the kind.
    assert isinstance(claim, Strike)
    return claim


class StrikesView:
    name: ClassVar[str] = "strikes"
    # A row is its report's alone: a runner's batch draws it from the batch's own reports,
    # keeping nothing between batches (projections/versioned_batches.py).
    one_report_per_key: ClassVar[bool] = True

    def follows(self, claim: Claim) -> bool:
        return isinstance(claim, Strike)

    def keys(self, report: Report) -> tuple[str, ...]:
        return (str(report.id),)

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> StrikeRow | None:
        # The key is the report id, so exactly one report feeds each row.
        (tracked,) = reports
        report = tracked.report
        claim = _strike(report)
        place = claim.place
        return StrikeRow(
            report_id=report.id,
            attacker=claim.attacker,
            target=claim.target,
            place=StrikePlace(
                name=place.name,
                region=place.region,
                country=place.country,
                latitude=place.latitude,
                longitude=place.longitude,
            ),
            weapon=claim.weapon,
            effects=claim.effects,
            occurred=report.occurred,
            reported=report.reported,
            claimant=report.attribution,
            caveats=report.caveats,
            notes=report.notes,
            verification=report.verification,
            corroborated_by=report.corroborated_by,
            disputed_by=report.disputed_by,
            denied_by=report.denied_by,
            corrections=report.corrections,
            source=tracked.source,
        )
