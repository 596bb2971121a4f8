"""Incidents: what single events add up to, per place, actor, kind, source and month.

The event datasets (ACLED, UCDP GED) record increments: one clash, one attack, its dead. Unlike
a running total ("321 port facilities since July 2023", the damage view's), increments add
up, so this view sums them: one row per country, first-level region, actor, kind, source and
month, keyed `slug(country, region, actor, kind, source)/month`
("russia/kursk/military-forces-of-ukraine-(2019-)/clash/acled/2024-11"), with how many
incidents stand in it and their fatalities summed.

What is summed, and how:
- Kinds: the four incident kinds (clash, attack_on_civilians, territorial_change, incident)
  and strikes, which are single attacks too, their dead being `effects.killed`.
- Per source, never across sources. The same clash may be in ACLED and in UCDP GED (or told
  by two governors): adding their counts would count it twice, so each source (the report's
  `attribution.source`: "ACLED", "UCDP") has rows of its own.
- Per actor, each armed actor of an incident counted: a clash between Ukraine and Russia
  (with North Korea beside Russia) is in Ukraine's row, Russia's and North Korea's, as a
  reader asking "how many clashes did North Korea fight in Kursk" expects. Rows of different
  actors therefore overlap. The actor `all-actors` (`ALL_ACTORS`) counts each incident once,
  whoever fought it, with or without a named actor: the sum per region, kind and month (an
  actor whose own name slugs to `all-actors` is keyed `named-all-actors`).
- Fatalities: `fatalities_low`, `fatalities_best` and `fatalities_high`, each summed apart
  (UCDP's low, best and high). A figure with no range (ACLED's one number, a governor's
  "three killed") bounds itself: its low and high are its best. A figure with a bound only
  ("more than 10") counts that bound as its best; with no low, its low is 0.
  `without_fatalities` counts the incidents that gave no figure (counted in `events`, adding
  nothing to the sums).
- Month: the UTC month of when the incident began (its start, for a period).
- A retracted incident leaves the sums (`retracted` counts them); a correction changes
  them, moving the incident to another row when its place, actors, kind or date changed.
  A row whose incidents were all withdrawn stays, at 0 events, as a history's day does: a
  sum seen on a chart that silently vanished would leave a reader wondering. Disputed and
  denied incidents stay counted, as every view keeps contradicted claims: a reader judges
  them by the explanation.

The row is a sum, so it names none of its reports: `explain` lists the incidents in it, a page
at a time (projections/explanation.py, `RowReading.counts`).

Its past is a history's (projections/history.py, `Pieced`): each report's share of a row is a
small piece kept with its version, and a row, live or past, is its pieces added up in the
fold's order, with no fold of the log and nothing that grows with the war but the number of
months.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

import msgspec

from domain.claims import AttackOnCivilians, Claim, Clash, Incident, Strike, TerritorialChange
from domain.quantities import Quantity
from domain.report import Report
from projections.history import EveryReportOfItsDay
from projections.row_keys import slug
from projections.tracked import Tracked, occurred_date

ALL_ACTORS = "all-actors"
NAMED_ALL_ACTORS = "named-all-actors"  # an actor so named (`_key`)
UNKNOWN = "unknown"  # a country or region the source did not name
_INCIDENTS = (Clash, AttackOnCivilians, TerritorialChange, Incident)


class IncidentsRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The incidents of one month in one region, of one kind, by one actor (null: any actor,
    each incident once), as one source recorded them, added up."""

    country: str
    region: str
    actor: str | None
    kind: str
    source: str
    month: str  # "2024-11", in UTC
    events: int  # the standing incidents
    fatalities_low: float
    fatalities_best: float
    fatalities_high: float
    without_fatalities: int  # standing incidents that gave no figure of the dead
    retracted: int  # incidents withdrawn, not counted


class IncidentPiece(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One report's share of each row it feeds, from that report alone (`Pieced`): the
    same for every row, its actor's or all actors'."""

    country: str
    region: str
    actors: tuple[str, ...]
    kind: str
    source: str
    month: str
    retracted: bool
    fatalities: tuple[float, float, float] | None  # low, best, high; None: no figure given


def counted(claim: Claim) -> bool:
    """Whether the view adds up reports of this claim: single incidents and strikes."""
    return isinstance(claim, (*_INCIDENTS, Strike))


def _actors(claim: Claim) -> tuple[str, ...]:
    """The armed actors an incident is counted under, allies included, each once."""
    if isinstance(claim, Strike):
        return (claim.attacker,)
    assert isinstance(claim, _INCIDENTS)  # the engine only hands this view what it follows
    return tuple({slug(actor): actor for actor in claim.actors()}.values())


def _dead(claim: Claim) -> Quantity | None:
    if isinstance(claim, Strike):
        return claim.effects.killed
    assert isinstance(claim, _INCIDENTS)
    return claim.fatalities


def bounds(quantity: Quantity) -> tuple[float, float, float]:
    """Low, best and high as the sums add them (the module's docstring says why)."""
    best = quantity.value
    if best is None:
        best = quantity.low if quantity.low is not None else quantity.high
    assert best is not None  # a quantity states a value or a bound
    low = quantity.low if quantity.low is not None else (best if quantity.value is not None else 0)
    high = quantity.high if quantity.high is not None else best
    return float(low), float(best), float(high)


def _piece(tracked: Tracked) -> IncidentPiece:
    report = tracked.report
    claim = report.claim
    assert isinstance(claim, (*_INCIDENTS, Strike))  # the engine hands it what it follows
    place = claim.place
    dead = _dead(claim)
    return IncidentPiece(
        country=place.country or UNKNOWN,
        region=place.region or UNKNOWN,
        actors=_actors(claim),
        kind=report.kind,
        source=report.attribution.source,
        month=occurred_date(report)[:7],
        retracted=report.is_retracted,
        fatalities=None if dead is None else bounds(dead),
    )


def _key(piece: IncidentPiece, actor: str | None) -> str:
    """The row of `actor` (None: of all actors) for the piece's place, kind, source and month.
    An actor whose name slugs to `all-actors` is keyed `named-all-actors`, so that its row
    never merges with the row of all actors."""
    if actor is None:
        who = ALL_ACTORS
    else:
        who = slug(actor)
        if who == ALL_ACTORS:
            who = NAMED_ALL_ACTORS
    return (
        f"{slug(piece.country, piece.region)}/{who}/{slug(piece.kind, piece.source)}/{piece.month}"
    )


class IncidentsView(EveryReportOfItsDay):
    """Incidents added up per region, actor, kind, source and month (module docstring)."""

    name: ClassVar[str] = "incidents"
    # The past of a month row (history.EveryReportOfItsDay): every report of its month, kept
    # with its piece, as a history's day is.
    piece_type: ClassVar[type] = IncidentPiece

    def follows(self, claim: Claim) -> bool:
        return counted(claim)

    def keys(self, report: Report) -> tuple[str, ...]:
        piece = self.piece_of_report(report)
        return tuple(dict.fromkeys(_key(piece, actor) for actor in (*piece.actors, None)))

    def piece_of_report(self, report: Report) -> IncidentPiece:
        # `keys` is asked of a report before the engine tracks it: a throwaway entry.
        return _piece(Tracked(report, 0, 0, datetime.min, ()))

    def piece(self, tracked: Tracked) -> IncidentPiece:
        return _piece(tracked)

    def render(self, key: str, reports: Sequence[Tracked], as_of: datetime | None) -> IncidentsRow:
        return self.assemble(key, [t.derived(_piece) for t in reports])

    def assemble(self, key: str, pieces: Sequence[IncidentPiece]) -> IncidentsRow:
        standing = [piece for piece in pieces if not piece.retracted]
        low = best = high = 0.0
        without = 0
        for piece in standing:  # in the fold's order: live, rebuilt and past sums agree
            if piece.fatalities is None:
                without += 1
            else:
                low += piece.fatalities[0]
                best += piece.fatalities[1]
                high += piece.fatalities[2]
        named = (standing or pieces)[-1]
        return IncidentsRow(
            country=named.country,
            region=named.region,
            actor=_actor_of(key, named),
            kind=named.kind,
            source=named.source,
            month=named.month,
            events=len(standing),
            fatalities_low=low,
            fatalities_best=best,
            fatalities_high=high,
            without_fatalities=without,
            retracted=len(pieces) - len(standing),
        )


def _actor_of(key: str, piece: IncidentPiece) -> str | None:
    """The actor a row is about, as its latest (standing) incident names it; None for the
    row of all actors."""
    return next((actor for actor in piece.actors if _key(piece, actor) == key), None)
