"""One-line, human summaries of events, for `timeline log` and feeds."""

from __future__ import annotations

from typing import assert_never

from domain.attribution import Attribution
from domain.claims import (
    Claim,
    Counterattack,
    DamageTally,
    ForceStrength,
    FrontAdvance,
    OccupationShare,
    OffensiveLaunched,
    Strike,
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
from domain.quantities import Qualifier, Quantity

_QUALIFIER_WORDS = {
    Qualifier.EXACT: "",
    Qualifier.ABOUT: "about ",
    Qualifier.AT_MOST: "at most ",
    Qualifier.AT_LEAST: "at least ",
    Qualifier.MORE_THAN: "more than ",
    Qualifier.LESS_THAN: "less than ",
    Qualifier.BETWEEN: "",
}


def quantity_text(quantity: Quantity) -> str:
    unit = quantity.unit.value
    if quantity.value is not None:
        return f"{_QUALIFIER_WORDS[quantity.qualifier]}{quantity.value:,g} {unit}"
    if quantity.low is not None and quantity.high is not None:
        return f"{quantity.low:,g}-{quantity.high:,g} {unit}"
    if quantity.low is not None:
        return f"{_QUALIFIER_WORDS[quantity.qualifier] or 'at least '}{quantity.low:,g} {unit}"
    assert quantity.high is not None
    return f"{_QUALIFIER_WORDS[quantity.qualifier] or 'at most '}{quantity.high:,g} {unit}"


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
            return f"{claim.occupier} occupies {quantity_text(claim.share)} of {claim.country}"
        case _:
            assert_never(claim)


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
