"""Running totals: how a source's totals replace one another, for every view that shows them
(damage's tallies, the tallies of losses).

A running total ("321 port facilities since July 2023", "9,419 tanks since 24 February
2022") replaces the same source's earlier total and is never added to another, so a view
shows each source's latest standing total, even when it is lower than the one before (a
correction, a recount). "Latest" is by the day the total counts up to (`recency`), and a
total is only known once that day has come (`counts_from`): "321 since July 2023", counted
up to 23 November 2024, is not yet the figure in September 2024.

Past answers (projections/history.py) pick, per source, the standing total of highest
`recency` (class `STANDING`) and the latest withdrawn one (class `WITHDRAWN`), through
`relevance`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from domain.occurrence import Instant, Interval, Occurrence
from domain.report import Report
from projections.history import Relevance, day_rank, moment_rank, position_rank
from projections.tracked import Source, Tracked, anchor

STANDING = 1  # a standing total: its source's highest by `recency` is picked
WITHDRAWN = 2  # a retracted one: its source's latest is picked (the row names it)


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


def counts_from(report: Report) -> datetime:
    """The earliest valid time at which a total is known: once its period has begun and the
    day it counts up to has come."""
    day = datetime.combine(as_of_day(report), datetime.min.time(), UTC)
    return max(anchor(report.occurred), day)


def recency(tracked: Tracked) -> tuple[date, datetime, int]:
    """The order in which a source's totals replace one another (an explanation reads which
    total superseded which in the same order)."""
    # A total is as recent as the day it counts up to, not the day its counting began:
    # "321 since July 2023" said on Saturday is newer than "300 since February 2022" said
    # in August, although the engine's order (by occurrence start) puts it first.
    reported = tracked.report.reported.earliest()
    assert reported is not None
    return as_of_day(tracked.report), reported, tracked.filed_at_position


def _recency(tracked: Tracked) -> tuple[date, datetime, int]:
    return tracked.derived(recency)


def relevance(report: Report, filed_at_position: int) -> Relevance:
    """How a version of a running total is classed for past answers (grouped by source)."""
    if report.is_retracted:
        return Relevance(kind=WITHDRAWN, group=report.attribution.source)
    reported = report.reported.earliest()
    assert reported is not None
    return Relevance(
        kind=STANDING,
        group=report.attribution.source,
        rank=day_rank(as_of_day(report)) + moment_rank(reported) + position_rank(filed_at_position),
        counts_from=counts_from(report),
    )


def standing(reports: Iterable[Tracked], as_of: datetime | None) -> list[Tracked]:
    """The totals that count at `as_of`: not withdrawn, and, asked about the past, counted
    up to a day that had come (the engine passes those whose period had begun)."""
    totals = [t for t in reports if not t.report.is_retracted]
    if as_of is None:
        return totals
    cutoff = as_of.astimezone(UTC).date()
    return [t for t in totals if as_of_day(t.report) <= cutoff]


def latest_by_source(totals: Iterable[Tracked]) -> dict[str, Tracked]:
    """Each source's latest total, by `recency`."""
    latest: dict[str, Tracked] = {}
    for tracked in sorted(totals, key=_recency):
        latest[tracked.report.attribution.source] = tracked
    return latest


def latest(totals: Sequence[Tracked]) -> Tracked:
    return max(totals, key=_recency)


def latest_withdrawn(reports: Iterable[Tracked]) -> tuple[Source, ...]:
    """Each source's last retracted total, in the engine's order, by source name. Not every
    one withdrawn: a row whose size grew with the log would be rewritten whole by every
    batch that touches it (83 kB for one category at 10^6 events); an explanation lists
    them all."""
    withdrawn: dict[str, Source] = {}
    for tracked in reports:
        if tracked.report.is_retracted:
            withdrawn[tracked.report.attribution.source] = tracked.source
    return tuple(withdrawn[name] for name in sorted(withdrawn))
