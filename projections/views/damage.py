"""Damage: running totals per source, kept apart from incidents that add up.

One row per country, category and responsible side (key `slug(country, category,
responsible)`, "ua/port-infrastructure-facilities/russia"), fed by `DamageTally` reports.
A tally ("321 port facilities since July 2023", per Zelenskiy) is a running total: it
replaces the same source's earlier tally and is never added to another, so each source shows
its latest standing total, even when that total is lower than before (a correction, or a
recount). Different sources' totals sit side by side; a reader compares them, we do not.

A retracted tally never counts: its source falls back to its previous tally, and the row goes
when no tally stands at all. The row names each source's latest withdrawn tally. How totals
replace one another is projections/views/running_totals.py's, shared with the tallies of
losses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Claim, DamageTally
from domain.quantities import Quantity
from domain.report import Report
from projections.history import Relevance
from projections.row_keys import slug
from projections.tracked import Source, Tracked
from projections.views import running_totals
from projections.views.running_totals import STANDING, WITHDRAWN, as_of_day


class SourceTotal(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One source's latest running total: how many, counted from when, up to when."""

    attribution: Attribution
    count: Quantity
    # ISO days: "since" is the start of the counted period (None if the source gave none),
    # "as_of" its last day, or the day the total was stated when the period is open.
    since: str | None
    as_of: str
    cause: str | None
    verification: Verification
    caveats: tuple[Caveat, ...]
    source: Source


class DamageRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Damage of one category in one country by one side, as totals and as incidents."""

    category: str
    country: str
    responsible: str
    totals_by_source: tuple[SourceTotal, ...]
    # The sum of counted increments from single incidents, never mixed with the totals.
    # Always 0 for now: a strike's damage (`StrikeEffects.damage`) is free text in the
    # domain, with no count or category to add up, so no incident feeds this view yet.
    incident_sum: Quantity
    incidents_counted: int
    # Each source's most recently withdrawn tally (by source name), not every one withdrawn:
    # a row whose size grew with the log would be rewritten whole by every batch that
    # touches it (83 kB for one category at 10^6 events). An explanation lists them all.
    retracted: tuple[Source, ...]


def _tally(report: Report) -> DamageTally:
    claim = report.claim
    # The engine only hands this view reports it follows, and a correction keeps the kind.
    assert isinstance(claim, DamageTally)
    return claim


def _total(tracked: Tracked) -> SourceTotal:
    report = tracked.report
    tally = _tally(report)
    start = report.occurred.earliest()
    return SourceTotal(
        attribution=report.attribution,
        count=tally.count,
        since=None if start is None else start.astimezone(UTC).date().isoformat(),
        as_of=as_of_day(report).isoformat(),
        cause=tally.cause,
        verification=report.verification,
        caveats=report.caveats,
        source=tracked.source,
    )


class DamageView:
    name: ClassVar[str] = "damage"

    # Past answers (projections/history.py): `render` reads each source's most recent
    # standing total and its latest withdrawn tally (projections/views/running_totals.py).
    latest_classes: ClassVar[tuple[int, ...]] = (WITHDRAWN,)
    top_classes: ClassVar[tuple[int, ...]] = (STANDING,)
    all_classes: ClassVar[tuple[int, ...]] = ()

    def relevance(self, report: Report, filed_at_position: int) -> Relevance:
        return running_totals.relevance(report, filed_at_position)

    def follows(self, claim: Claim) -> bool:
        # Strikes would feed `incident_sum` once the domain counts their damage by category;
        # today their damage is free text, so following them would add nothing.
        return isinstance(claim, DamageTally)

    def keys(self, report: Report) -> tuple[str, ...]:
        tally = _tally(report)
        return (slug(tally.country, tally.category, tally.responsible),)

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> DamageRow | None:
        standing = running_totals.standing(reports, as_of)
        if not standing:
            return None
        latest_by_source = running_totals.latest_by_source(standing)
        totals = tuple(_total(latest_by_source[name]) for name in sorted(latest_by_source))
        newest = running_totals.latest(standing)
        names = _tally(newest.report)
        return DamageRow(
            category=names.category,
            country=names.country,
            responsible=names.responsible,
            totals_by_source=totals,
            incident_sum=Quantity(unit=names.count.unit, value=0.0),
            incidents_counted=0,
            retracted=running_totals.latest_withdrawn(reports),
        )
