"""One-line, human summaries of events and claims, for `timeline log`, feeds and the views' rows
(plain words from the domain's own vocabulary: no layer above it is needed to say them)."""

from __future__ import annotations

from datetime import date
from typing import assert_never

from domain.attribution import Attribution
from domain.claims import (
    AttackOnCivilians,
    Casualties,
    Claim,
    Clash,
    Counterattack,
    DamageTally,
    EquipmentLosses,
    EquipmentState,
    ForceStrength,
    FrontAdvance,
    Incident,
    OccupationShare,
    OffensiveLaunched,
    Strike,
    Tally,
    TerritorialChange,
    TerritoryControl,
    TroopDeployment,
)
from domain.events import (
    DomainEvent,
    ReportCorrected,
    ReportCorroborated,
    ReportDenied,
    ReportDisputed,
    ReportFiled,
    ReportRetracted,
)
from domain.quantities import Qualifier, Quantity, Unit

_QUALIFIER_WORDS = {
    Qualifier.EXACT: "",
    Qualifier.ABOUT: "about ",
    Qualifier.AT_MOST: "at most ",
    Qualifier.AT_LEAST: "at least ",
    Qualifier.MORE_THAN: "more than ",
    Qualifier.LESS_THAN: "less than ",
    Qualifier.BETWEEN: "",
}


def _figure(figure: float) -> str:
    # Whole figures in full (1,456,610 personnel, not 1.45661e+06); others to six digits.
    return f"{int(figure):,}" if figure.is_integer() else f"{figure:,g}"


def quantity_text(quantity: Quantity) -> str:
    unit = quantity.unit.value
    if quantity.value is not None:
        return f"{_QUALIFIER_WORDS[quantity.qualifier]}{_figure(quantity.value)} {unit}"
    if quantity.low is not None and quantity.high is not None:
        return f"{_figure(quantity.low)}-{_figure(quantity.high)} {unit}"
    if quantity.low is not None:
        hedge = _QUALIFIER_WORDS[quantity.qualifier] or "at least "
        return f"{hedge}{_figure(quantity.low)} {unit}"
    assert quantity.high is not None
    hedge = _QUALIFIER_WORDS[quantity.qualifier] or "at most "
    return f"{hedge}{_figure(quantity.high)} {unit}"


def claim_text(claim: Claim) -> str:
    match claim:
        case TerritoryControl():
            peak = " at peak" if claim.extent == "peak" else ""
            return f"{claim.actor} holds {quantity_text(claim.area)} of {claim.region}{peak}"
        case OffensiveLaunched():
            return f"{claim.actor} launched an {claim.mode} into {claim.region}"
        case Counterattack():
            return f"{claim.actor} counter-attacks {claim.against} in {claim.region}"
        case TroopDeployment():
            return f"{claim.actor} deployed {quantity_text(claim.troops)} to {claim.theatre}"
        case ForceStrength():
            target = f", aiming for {quantity_text(claim.target)}" if claim.target else ""
            return f"{claim.actor} has {quantity_text(claim.troops)} in {claim.theatre}{target}"
        case FrontAdvance():
            return f"{claim.actor} advancing {quantity_text(claim.rate)} towards {claim.direction}"
        case Strike():
            weapon = f" with {claim.weapon}" if claim.weapon else ""
            return f"{claim.attacker} struck {claim.target} in {claim.place.name}{weapon}"
        case DamageTally():
            return (
                f"{quantity_text(claim.count)} of {claim.category} damaged by {claim.responsible}"
            )
        case OccupationShare():
            area = f" ({quantity_text(claim.area)})" if claim.area else ""
            return (
                f"{claim.occupier} occupies {quantity_text(claim.share)}{area} of {claim.country}"
            )
        case Casualties() | EquipmentLosses():
            return _losses_text(claim)
        case Clash() | AttackOnCivilians() | TerritorialChange() | Incident():
            return _incident_text(claim)
        case _:
            assert_never(claim)


def _losses_text(claim: Casualties | EquipmentLosses) -> str:
    if isinstance(claim, Casualties):
        return _casualties_text(claim)
    state = "" if claim.state is EquipmentState.UNSPECIFIED else f" {claim.state.value}"
    return (
        f"{claim.side} lost {_counted(claim.count)} {claim.source_category}{state}"
        f"{_period_text(claim.tally, claim.since)}"
    )


def _incident_text(claim: Clash | AttackOnCivilians | TerritorialChange | Incident) -> str:
    match claim:
        case Clash():
            what = f"{claim.actor} clashed with {claim.against}"
        case AttackOnCivilians():
            what = f"{claim.attacker} attacked {claim.victims}"
        case TerritorialChange():
            taken_from = f" from {claim.from_actor}" if claim.from_actor else ""
            what = f"{claim.actor} took control{taken_from}"
        case Incident():
            kind = claim.classified_as.subcategory or claim.classified_as.category
            by = f" by {claim.actor}" if claim.actor else ""
            against = f" against {claim.against}" if claim.against else ""
            what = f"{kind}{by}{against}"
        case _:
            assert_never(claim)
    region = f" ({claim.place.region})" if claim.place.region else ""
    dead = f", {quantity_text(claim.fatalities)} killed" if claim.fatalities else ""
    return f"{what} in {claim.place.name}{region}{dead}"


def _counted(quantity: Quantity) -> str:
    """A count without its unit ("9,419 tank", not "9,419 count tank")."""
    text = quantity_text(quantity)
    return text.removesuffix(" count") if quantity.unit is Unit.COUNT else text


def _period_text(tally: Tally, since: date | None) -> str:
    if tally is Tally.INCREMENT:
        return " (new)"
    return f" since {since.isoformat()}" if since is not None else " in all"


_CASUALTY_WORDS = {
    "killed": "killed",
    "wounded": "wounded",
    "missing": "missing",
    "captured": "captured",
    "total": "lost",
}


def _casualties_text(claim: Casualties) -> str:
    figures = []
    for name in Casualties.FIGURES:
        quantity = getattr(claim, name)
        if quantity is not None:
            label = f" ({claim.label})" if name == "total" and claim.label else ""
            figures.append(f"{quantity_text(quantity)} {_CASUALTY_WORDS[name]}{label}")
    whose = claim.side if claim.status == "unknown" else f"{claim.side} ({claim.status.value})"
    return f"{whose}: {', '.join(figures)}{_period_text(claim.tally, claim.since)}"


def _by(attribution: Attribution | None) -> str:
    if attribution is None:
        return ""
    via = f" via {attribution.outlet}" if attribution.outlet else ""
    return f" (per {attribution.source}{via})"


def event_summary(event: DomainEvent) -> str:
    match event:
        case ReportFiled():
            return f"{claim_text(event.claim)}{_by(event.attribution)}"
        case ReportCorroborated():
            return f"corroborated{_by(event.by)}"
        case ReportDisputed():
            return f"disputed: {event.reason}{_by(event.by)}"
        case ReportDenied():
            return f"denied: {event.statement}{_by(event.by)}"
        case ReportCorrected():
            return f"corrected to: {claim_text(event.claim)} ({event.reason})"
        case ReportRetracted():
            return f"retracted: {event.reason}{_by(event.by)}"
    return type(event).__name__
