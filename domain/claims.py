"""What a report claims, one struct per kind, decoded as a tagged union on `kind`."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

import msgspec

from domain.claim_parts import ClaimStruct, Place, PlacePrecision, require_text, require_unit
from domain.errors import InvalidReport
from domain.incidents import (
    AttackOnCivilians,
    Clash,
    FatalitiesAmong,
    Incident,
    SourceCategory,
    TerritorialChange,
)
from domain.limits import FEW, FreeText, Name
from domain.quantities import Quantity, Unit


class Extent(StrEnum):
    CURRENT = "current"
    PEAK = "peak"


class TerritoryControl(ClaimStruct, frozen=True, tag="territory_control"):
    """An actor holds an area of a region ("now about 800 km² of Kursk region")."""

    actor: Name
    region: Name
    country: Name
    area: Quantity
    extent: Extent = Extent.CURRENT
    share_lost_from_peak: Quantity | None = None

    def validate(self) -> None:
        require_text(self.actor, "claim.actor")
        require_text(self.region, "claim.region")
        require_text(self.country, "claim.country")
        require_unit(self.area, frozenset({Unit.KM2}), "claim.area")
        if self.share_lost_from_peak is not None:
            require_unit(
                self.share_lost_from_peak, frozenset({Unit.PERCENT}), "claim.share_lost_from_peak"
            )


class OffensiveLaunched(ClaimStruct, frozen=True, tag="offensive"):
    """An actor launched an offensive or an incursion into a region."""

    actor: Name
    region: Name
    country: Name
    mode: Name = "offensive"
    objectives: Annotated[tuple[Name, ...], FEW] = ()
    description: FreeText | None = None

    def validate(self) -> None:
        require_text(self.actor, "claim.actor")
        require_text(self.region, "claim.region")
        require_text(self.country, "claim.country")
        if self.mode not in ("offensive", "incursion"):
            raise InvalidReport(
                "claim.mode", f"expected 'offensive' or 'incursion', got {self.mode!r}"
            )


class Counterattack(ClaimStruct, frozen=True, tag="counterattack"):
    """An actor counter-attacks against another in a region ("waves of counter-assaults")."""

    actor: Name
    against: Name
    region: Name
    country: Name
    intensity: Name | None = None
    description: FreeText | None = None

    def validate(self) -> None:
        for name in ("actor", "against", "region", "country"):
            require_text(getattr(self, name), f"claim.{name}")


class TroopDeployment(ClaimStruct, frozen=True, tag="deployment"):
    """Troops of an actor sent to a theatre, in support of an ally or not."""

    actor: Name
    theatre: Name
    country: Name
    troops: Quantity
    in_support_of: Name | None = None
    status: Name | None = None

    def validate(self) -> None:
        for name in ("actor", "theatre", "country"):
            require_text(getattr(self, name), f"claim.{name}")
        require_unit(self.troops, frozenset({Unit.TROOPS}), "claim.troops")


class ForceStrength(ClaimStruct, frozen=True, tag="force_strength"):
    """The size of an actor's force in a theatre, and the size it aims for."""

    actor: Name
    theatre: Name
    troops: Quantity
    target: Quantity | None = None

    def validate(self) -> None:
        require_text(self.actor, "claim.actor")
        require_text(self.theatre, "claim.theatre")
        require_unit(self.troops, frozenset({Unit.TROOPS}), "claim.troops")
        if self.target is not None:
            require_unit(self.target, frozenset({Unit.TROOPS}), "claim.target")


class FrontAdvance(ClaimStruct, frozen=True, tag="front_advance"):
    """An actor advancing on a direction at a rate ("200-300 metres a day towards Kurakhove")."""

    actor: Name
    direction: Name
    region: Name
    country: Name
    rate: Quantity
    description: FreeText | None = None

    def validate(self) -> None:
        for name in ("actor", "direction", "region", "country"):
            require_text(getattr(self, name), f"claim.{name}")
        require_unit(self.rate, frozenset({Unit.METRES_PER_DAY}), "claim.rate")


class StrikeEffects(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    omit_defaults=True,
):
    """What the claimant says a strike did; None means the claim is silent on it."""

    killed: Quantity | None = None
    injured: Quantity | None = None
    operations_affected: bool | None = None
    damage: Annotated[tuple[Name, ...], FEW] = ()
    fires: Name | None = None

    def validate(self, field: str) -> None:
        for name in ("killed", "injured"):
            quantity = getattr(self, name)
            if quantity is not None:
                require_unit(quantity, frozenset({Unit.PEOPLE}), f"{field}.{name}")


class Strike(ClaimStruct, frozen=True, tag="strike"):
    """An attack on a target ("a guided missile attack on the port of Berdiansk")."""

    attacker: Name
    target: Name
    place: Place
    weapon: Name | None = None
    effects: StrikeEffects = StrikeEffects()

    def validate(self) -> None:
        require_text(self.attacker, "claim.attacker")
        require_text(self.target, "claim.target")
        self.place.validate("claim.place")
        self.effects.validate("claim.effects")


class DamageTally(ClaimStruct, frozen=True, tag="damage_tally"):
    """A running total of damage since a date ("321 port facilities since July 2023").

    A tally replaces the same source's earlier tally for the category; it is never an
    increment to be added to another tally. The period it covers is the report's occurrence.
    """

    category: Name
    count: Quantity
    responsible: Name
    country: Name
    cause: Name | None = None

    def validate(self) -> None:
        for name in ("category", "responsible", "country"):
            require_text(getattr(self, name), f"claim.{name}")
        self.count.validate("claim.count")
        if self.count.unit in (Unit.KM2, Unit.METRES_PER_DAY, Unit.PERCENT):
            raise InvalidReport("claim.count.unit", f"a tally counts things, got {self.count.unit}")


class OccupationShare(ClaimStruct, frozen=True, tag="occupation_share"):
    """The share of a country an occupier holds ("Russia occupies a fifth of Ukraine"), and
    the area that share is when the source measured it (ISW's assessed 114,727 km²)."""

    occupier: Name
    country: Name
    share: Quantity
    area: Quantity | None = None

    def validate(self) -> None:
        require_text(self.occupier, "claim.occupier")
        require_text(self.country, "claim.country")
        require_unit(self.share, frozenset({Unit.PERCENT}), "claim.share")
        if self.area is not None:
            require_unit(self.area, frozenset({Unit.KM2}), "claim.area")


class Tally(StrEnum):
    """Whether a figure counts everything since a day (`since`) up to the report's
    occurrence, or only what is new within the occurrence."""

    RUNNING_TOTAL = "running_total"  # replaces the same source's earlier total; never summed
    INCREMENT = "increment"  # adds up with the other increments


def _require_period(tally: Tally, since: date | None) -> None:
    if tally is Tally.INCREMENT and since is not None:
        raise InvalidReport(
            "claim.since", "an increment covers its occurrence; `since` is for running totals"
        )


class PersonStatus(StrEnum):
    MILITARY = "military"
    CIVILIAN = "civilian"
    UNKNOWN = "unknown"


class Casualties(ClaimStruct, frozen=True, tag="casualties"):
    """People of one side killed, wounded, missing or captured ("about 729,720 Russian
    personnel since 24 February 2022"). Each figure may carry low, best (`value`) and high, as
    UCDP gives them; `total` is the figure a source gives only as a sum ("casualties": killed
    and wounded together), with `label` the source's own word for it. The period covered: a
    running total counts from `since` to the report's occurrence (the day it counts up to, so
    that it sits on that day in the timeline); an increment covers its occurrence alone.
    """

    side: Name  # whose people: not the side of the source that counts them
    status: PersonStatus = PersonStatus.UNKNOWN
    killed: Quantity | None = None
    wounded: Quantity | None = None
    missing: Quantity | None = None
    captured: Quantity | None = None
    total: Quantity | None = None
    label: Name | None = None
    tally: Tally = Tally.RUNNING_TOTAL
    since: date | None = None
    country: Name | None = None  # where they fell, when the source says

    FIGURES: ClassVar[tuple[str, ...]] = ("killed", "wounded", "missing", "captured", "total")

    def validate(self) -> None:
        require_text(self.side, "claim.side")
        if all(getattr(self, name) is None for name in self.FIGURES):
            raise InvalidReport(
                "claim", "casualties need a figure: killed, wounded, missing, captured or total"
            )
        for name in self.FIGURES:
            quantity = getattr(self, name)
            if quantity is not None:
                require_unit(quantity, frozenset({Unit.PEOPLE}), f"claim.{name}")
        for name in ("label", "country"):
            value = getattr(self, name)
            if value is not None:
                require_text(value, f"claim.{name}")
        _require_period(self.tally, self.since)


class EquipmentCategory(StrEnum):
    """A normalised kind of equipment; a claim keeps the source's own name beside it."""

    TANKS = "tanks"
    ARMOURED_VEHICLES = "armoured_vehicles"
    ARTILLERY = "artillery"
    ROCKET_LAUNCHERS = "rocket_launchers"
    AIR_DEFENCE = "air_defence"
    AIRCRAFT = "aircraft"
    HELICOPTERS = "helicopters"
    DRONES = "drones"
    MISSILES = "missiles"
    MISSILE_LAUNCHERS = "missile_launchers"
    SHIPS = "ships"
    SUBMARINES = "submarines"
    VEHICLES = "vehicles"
    FUEL_TANKERS = "fuel_tankers"
    GROUND_ROBOTS = "ground_robots"
    SPECIAL_EQUIPMENT = "special_equipment"
    OTHER = "other"


class EquipmentState(StrEnum):
    DESTROYED = "destroyed"
    DAMAGED = "damaged"
    ABANDONED = "abandoned"
    CAPTURED = "captured"
    UNSPECIFIED = "unspecified"  # the General Staff counts "losses" without saying which


class EquipmentLosses(ClaimStruct, frozen=True, tag="equipment_losses"):
    """One side's losses of one category of equipment ("9,419 tanks since 24 February 2022").

    `source_category` is the source's own name ("APC", "vehicles and fuel tanks"), kept beside
    the normalised `category` so that nothing the source said is lost in the mapping. The
    period covered is as for `Casualties`: from `since` to the report's occurrence for a
    running total, the occurrence alone for an increment.
    """

    side: Name  # whose equipment
    category: EquipmentCategory
    source_category: Name
    count: Quantity
    state: EquipmentState = EquipmentState.UNSPECIFIED
    tally: Tally = Tally.RUNNING_TOTAL
    since: date | None = None

    def validate(self) -> None:
        require_text(self.side, "claim.side")
        require_text(self.source_category, "claim.source_category")
        require_unit(self.count, frozenset({Unit.COUNT, Unit.VEHICLES, Unit.SHIPS}), "claim.count")


Claim = (
    TerritoryControl
    | OffensiveLaunched
    | Counterattack
    | TroopDeployment
    | ForceStrength
    | FrontAdvance
    | Strike
    | DamageTally
    | OccupationShare
    | Casualties
    | EquipmentLosses
    | Clash
    | AttackOnCivilians
    | TerritorialChange
    | Incident
)

CLAIM_KINDS: tuple[str, ...] = tuple(
    str(kind.__struct_config__.tag)
    for kind in (
        TerritoryControl,
        OffensiveLaunched,
        Counterattack,
        TroopDeployment,
        ForceStrength,
        FrontAdvance,
        Strike,
        DamageTally,
        OccupationShare,
        Casualties,
        EquipmentLosses,
        Clash,
        AttackOnCivilians,
        TerritorialChange,
        Incident,
    )
)

# The kinds' parts defined beside them, importable from here with the kinds.
__all__ = [
    "CLAIM_KINDS",
    "AttackOnCivilians",
    "Casualties",
    "Claim",
    "ClaimStruct",
    "Clash",
    "Counterattack",
    "DamageTally",
    "EquipmentCategory",
    "EquipmentLosses",
    "EquipmentState",
    "Extent",
    "FatalitiesAmong",
    "ForceStrength",
    "FrontAdvance",
    "Incident",
    "OccupationShare",
    "OffensiveLaunched",
    "PersonStatus",
    "Place",
    "PlacePrecision",
    "SourceCategory",
    "Strike",
    "StrikeEffects",
    "Tally",
    "TerritorialChange",
    "TerritoryControl",
    "TroopDeployment",
]
