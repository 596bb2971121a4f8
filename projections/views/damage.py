"""Damage: running totals per source, kept apart from incidents that add up.

One row per country, category and responsible side (key `slug(country, category,
responsible)`, "ua/port-infrastructure-facilities/russia"), fed by `DamageTally` reports.
A tally ("321 port facilities since July 2023", per Zelenskiy) is a running total: it
replaces the same source's earlier tally and is never added to another, so each source shows
its latest standing total, even when that total is lower than before (a correction, or a
recount). Different sources' totals sit side by side; a reader compares them, we do not.

A retracted tally never counts: its source falls back to its previous tally, and the row goes
when no tally stands at all. The row names each source's latest withdrawn tally.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

import msgspec

from domain.attribution import Attribution, Caveat, Verification
from domain.claims import Claim, DamageTally
from domain.occurrence import Instant, Interval, Occurrence
from domain.quantities import Quantity
from domain.report import Report
from projections.history import Relevance, day_rank, moment_rank, position_rank
from projections.row_keys import slug
from projections.tracked import Source, Tracked, anchor


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


def _last_day(when: Occurrence) -> date | None:
    """The last day a period covers (None when it is open at its end)."""
    if isinstance(when, Instant):
        return when.at.astimezone(UTC).date()
    if isinstance(when, Interval):
        return None if when.end is None else _last_day(when.end)
    # A day's or a month's latest() is the first moment after it.
    return (when.latest() - timedelta(microseconds=1)).astimezone(UTC).date()


def as_of_day(report: Report) -> date:
    """The day a running total counts up to: the end of its period, or, for "since July
    2023" with no end, the day it was stated."""
    day = _last_day(report.occurred) or _last_day(report.reported)
    assert day is not None  # a report is made at an instant or on a day
    return day


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


def recency(tracked: Tracked) -> tuple[date, datetime, int]:
    """The order in which a source's totals replace one another (an explanation reads which
    tally superseded which in the same order)."""
    # A total is as recent as the day it counts up to, not the day its counting began:
    # "321 since July 2023" said on Saturday is newer than "300 since February 2022" said
    # in August, although the engine's order (by occurrence start) puts it first.
    reported = tracked.report.reported.earliest()
    assert reported is not None
    return as_of_day(tracked.report), reported, tracked.filed_at_position


def _recency(tracked: Tracked) -> tuple[date, datetime, int]:
    return tracked.derived(recency)


class DamageView:
    name: ClassVar[str] = "damage"

    # Past answers (projections/history.py): `render` reads each source's most recent
    # standing total (1, by `recency`, per source) and its latest withdrawn tally (2, per
    # source).
    # A total counts once its period has ended: from the day it counts up to.
    latest_classes: ClassVar[tuple[int, ...]] = (2,)
    top_classes: ClassVar[tuple[int, ...]] = (1,)
    all_classes: ClassVar[tuple[int, ...]] = ()

    def relevance(self, report: Report, filed_at_position: int) -> Relevance:
        if report.is_retracted:
            return Relevance(kind=2, group=report.attribution.source)
        day = as_of_day(report)
        reported = report.reported.earliest()
        assert reported is not None
        return Relevance(
            kind=1,
            group=report.attribution.source,
            rank=day_rank(day) + moment_rank(reported) + position_rank(filed_at_position),
            counts_from=max(
                anchor(report.occurred), datetime.combine(day, datetime.min.time(), UTC)
            ),
        )

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
        standing = [t for t in reports if not t.report.is_retracted]
        if as_of is not None:
            # The engine passes tallies whose period had begun by `as_of`; a running total
            # is only known once its period ends, so "321 since July 2023" (counted up to
            # 23 November 2024) is not yet the figure in September 2024.
            cutoff = as_of.astimezone(UTC).date()
            standing = [t for t in standing if as_of_day(t.report) <= cutoff]
        if not standing:
            return None
        latest_by_source: dict[str, Tracked] = {}
        for tracked in sorted(standing, key=_recency):
            latest_by_source[tracked.report.attribution.source] = tracked
        totals = tuple(_total(latest_by_source[name]) for name in sorted(latest_by_source))
        newest = max(standing, key=_recency)
        names = _tally(newest.report)
        return DamageRow(
            category=names.category,
            country=names.country,
            responsible=names.responsible,
            totals_by_source=totals,
            incident_sum=Quantity(unit=names.count.unit, value=0.0),
            incidents_counted=0,
            retracted=_latest_withdrawn(reports),
        )


def _latest_withdrawn(reports: Sequence[Tracked]) -> tuple[Source, ...]:
    """Each source's last retracted tally, in the engine's order, by source name."""
    latest: dict[str, Source] = {}
    for tracked in reports:
        if tracked.report.is_retracted:
            latest[tracked.report.attribution.source] = tracked.source
    return tuple(latest[name] for name in sorted(latest))
