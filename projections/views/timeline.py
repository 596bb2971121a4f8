"""The timeline: every report, one row each, in the order things happened.

Keys are report ids, not the timeline order. A correction may move when a report says
something happened, and the runner replaces a row only under a key that stays put; a key
holding the order would leave the old row behind. The order lives in the row's `sort_key`, a
string that sorts as text into occurrence, then reporting, then log order (the engine's
`Tracked.sort_key`, written out at fixed width in UTC).

Retracted reports stay, with `retracted: true`, so an auditor sees what was withdrawn;
`timeline_matches` hides them unless asked. The filter fields are plain: `kind` is the claim's
tag, `region_key` and `actor_keys` are `slug`s of the names, times are ISO 8601 in UTC
(compare them as timestamps; only `sort_key` is meant to be compared as text).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timezone
from functools import lru_cache
from typing import ClassVar, NamedTuple, assert_never
from uuid import UUID

import msgspec

from domain.attribution import Caveat, Side, Verification
from domain.claims import (
    AttackOnCivilians,
    Casualties,
    Claim,
    Clash,
    Counterattack,
    DamageTally,
    EquipmentLosses,
    ForceStrength,
    FrontAdvance,
    Incident,
    OccupationShare,
    OffensiveLaunched,
    Strike,
    TerritorialChange,
    TerritoryControl,
    TroopDeployment,
)
from domain.occurrence import Instant, Interval, Occurrence
from domain.report import Report
from domain.summaries import claim_text
from projections.row_keys import slug
from projections.tracked import Tracked, anchor, iso


class TimelineRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    report_id: UUID
    sort_key: str
    kind: str
    summary: str
    region: str | None
    region_key: str | None
    country: str | None
    actors: tuple[str, ...]
    actor_keys: tuple[str, ...]
    source: str
    outlet: str | None
    side: Side
    verification: Verification
    occurred: Occurrence
    occurred_from: str | None
    occurred_to: str | None
    reported: Occurrence
    reported_on: str
    caveats: tuple[Caveat, ...]
    corrections: int
    retracted: bool
    filed_at_position: int
    last_changed_at_position: int
    recorded_at: datetime


def _sortable(moment: datetime) -> str:
    # Fixed width, so that text order is time order (isoformat drops zero microseconds).
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class _Times(NamedTuple):
    """An occurrence's times as a row spells them."""

    sortable: str  # its anchor, for `sort_key`
    anchor: str
    earliest: str | None
    latest: str | None


def _spelled(when: Occurrence) -> _Times:
    at, earliest, latest = anchor(when), when.earliest(), when.latest()
    return _Times(
        _sortable(at),
        iso(at),
        iso(earliest) if earliest is not None else None,
        iso(latest) if latest is not None else None,
    )


# A rebuild renders one row per report, and reports repeat the same days over and over.
_spelled_remembered = lru_cache(maxsize=1 << 16)(_spelled)


def rememberable(when: Occurrence) -> bool:
    """Whether what is worked out from `when` may be remembered: only occurrences at fixed
    offsets, as `iso` does (two equal times in a named zone may be different instants, a
    clock set back)."""
    match when:
        case Instant(at=at) if type(at.tzinfo) is not timezone:
            return False
        case Interval(start=Instant(at=at)) if type(at.tzinfo) is not timezone:
            return False
        case Interval(end=Instant(at=at)) if type(at.tzinfo) is not timezone:
            return False
    return True


def _times(when: Occurrence) -> _Times:
    return _spelled_remembered(when) if rememberable(when) else _spelled(when)


def where_and_who(claim: Claim) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The region, the country and the actors a claim is about, for filtering.

    A deployment's or a force's theatre stands in for its region; a tally or an occupation
    share covers a whole country. A strike's target is a thing, not an actor. Losses name the
    side that suffered them as their actor. An incident names every armed actor in it, allies
    included; the civilians attacked are its victims, not actors.
    """
    match claim:
        case TerritoryControl() | OffensiveLaunched() | FrontAdvance():
            return claim.region, claim.country, (claim.actor,)
        case Counterattack():
            return claim.region, claim.country, (claim.actor, claim.against)
        case TroopDeployment():
            allies = (claim.in_support_of,) if claim.in_support_of else ()
            return claim.theatre, claim.country, (claim.actor, *allies)
        case ForceStrength():
            return claim.theatre, None, (claim.actor,)
        case Strike():
            return claim.place.region, claim.place.country, (claim.attacker,)
        case DamageTally():
            return None, claim.country, (claim.responsible,)
        case OccupationShare():
            return None, claim.country, (claim.occupier,)
        case Casualties():
            return None, claim.country, (claim.side,)
        case EquipmentLosses():
            return None, None, (claim.side,)
        case Clash() | AttackOnCivilians() | TerritorialChange() | Incident():
            return claim.place.region, claim.place.country, claim.actors()
        case _:
            assert_never(claim)


class TimelineView:
    name: ClassVar[str] = "timeline"
    # A row is its report's alone: a runner's batch draws it from the batch's own reports,
    # keeping nothing between batches (projections/versioned_batches.py).
    one_report_per_key: ClassVar[bool] = True
    # The rows it replaced are kept with the positions between which they held, so that a
    # page about the past is read as a live one is (projections/past_pages.py).
    keeps_replaced_rows: ClassVar[bool] = True

    def follows(self, claim: Claim) -> bool:
        return True

    def keys(self, report: Report) -> tuple[str, ...]:
        return (str(report.id),)

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> TimelineRow | None:
        # The key is the report id, so exactly one report feeds each row.
        (tracked,) = reports
        report = tracked.report
        claim, attribution = report.claim, report.attribution
        # `Tracked.sort_key` written out: occurrence, then reporting, then log order.
        occurred, reported = _times(report.occurred), _times(report.reported)
        region, country, actors = where_and_who(claim)
        if len(actors) > 1:
            actors = tuple(dict.fromkeys(actors))
        return TimelineRow(
            report_id=report.id,
            sort_key=f"{occurred.sortable}|{reported.sortable}|{tracked.filed_at_position:012d}",
            kind=report.kind,
            summary=claim_text(claim),
            region=region,
            region_key=slug(region) if region else None,
            country=country,
            actors=actors,
            actor_keys=tuple(slug(actor) for actor in actors),
            source=attribution.source,
            outlet=attribution.outlet,
            side=attribution.side,
            verification=report.verification,
            occurred=report.occurred,
            occurred_from=occurred.earliest,
            occurred_to=occurred.latest,
            reported=report.reported,
            reported_on=reported.anchor,
            caveats=report.caveats,
            corrections=report.corrections,
            retracted=report.is_retracted,
            filed_at_position=tracked.filed_at_position,
            last_changed_at_position=tracked.last_position,
            recorded_at=tracked.filed_recorded_at,
        )


def _overlaps(when: Occurrence, since: datetime | None, until: datetime | None) -> bool:
    """Whether something that happened `when` may have happened within [since, until).

    An open end of the occurrence reaches as far as it can ("since July 2023" overlaps any
    later range). A day or a month ends at the first moment after it, so a day that ends at
    `since` is out; an instant at `since` is in.
    """
    start, end = when.earliest(), when.latest()
    if until is not None and start is not None and start >= until:
        return False
    if since is not None and end is not None:
        is_point = start == end
        if end < since or (end == since and not is_point):
            return False
    return True


def timeline_matches(
    row: TimelineRow,
    *,
    kinds: Collection[str] | None = None,
    region: str | None = None,
    actor: str | None = None,
    source: str | None = None,
    verification: str | None = None,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
    reported_from: datetime | None = None,
    reported_to: datetime | None = None,
    include_retracted: bool = False,
) -> bool:
    """The timeline's filters, one place for the API and the tests.

    `region` and `actor` accept names or slugs ("Kursk Oblast" or "kursk-oblast"); `source`
    is the source's name, in any case. Date ranges are half-open, [from, to), and match a
    report whose occurrence (or reporting) overlaps them. Retracted reports are hidden unless
    `include_retracted`, or unless the filter asks for verification "retracted".
    """
    if row.retracted and not include_retracted and verification != Verification.RETRACTED:
        return False
    if kinds is not None and row.kind not in kinds:
        return False
    if region is not None and row.region_key != slug(region):
        return False
    if actor is not None and slug(actor) not in row.actor_keys:
        return False
    if source is not None and row.source.casefold() != source.casefold():
        return False
    if verification is not None and row.verification != verification:
        return False
    if not _overlaps(row.occurred, occurred_from, occurred_to):
        return False
    return _overlaps(row.reported, reported_from, reported_to)
