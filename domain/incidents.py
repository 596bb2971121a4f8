"""Incidents: single events at a place, as the event datasets (ACLED, UCDP GED) record them.

Each is an increment: its fatalities belong to it alone, and add up with other incidents'
(never with a running total). Four kinds: a `clash` between armed actors, an
`attack_on_civilians`, a `territorial_change` (a place taken or retaken), and an `incident`
for everything else a dataset records (shelling, protests, strategic developments...), so
that no row is left out for want of a kind. Each keeps the dataset's own classification of
the event (`classified_as`) beside the kind it was given here.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from domain.claim_parts import ClaimStruct, Place, require_text, require_unit
from domain.limits import FEW, Name
from domain.passed import once_per_value
from domain.quantities import Quantity, Unit

_PEOPLE = frozenset({Unit.PEOPLE})


class SourceCategory(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    omit_defaults=True,
):
    """A dataset's own name for an event, as it wrote it: `scheme` is the dataset ("ACLED",
    "UCDP GED"), `category` its top level (ACLED event_type, UCDP type_of_violence), then
    ACLED's sub_event_type and disorder_type when it gives them."""

    scheme: Name
    category: Name
    subcategory: Name | None = None
    disorder: Name | None = None

    @once_per_value
    def validate(self, field: str) -> None:
        require_text(self.scheme, f"{field}.scheme")
        require_text(self.category, f"{field}.category")
        for name in ("subcategory", "disorder"):
            value = getattr(self, name)
            if value is not None:
                require_text(value, f"{field}.{name}")


class FatalitiesAmong(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    omit_defaults=True,
):
    """Whose dead the fatalities were, when the source says (UCDP's deaths_a, deaths_b,
    deaths_civilians, deaths_unknown): `actor` and `against` are the incident's two sides."""

    actor: Quantity | None = None
    against: Quantity | None = None
    civilians: Quantity | None = None
    unknown: Quantity | None = None

    def validate(self, field: str) -> None:
        for name in ("actor", "against", "civilians", "unknown"):
            quantity = getattr(self, name)
            if quantity is not None:
                require_unit(quantity, _PEOPLE, f"{field}.{name}")


Names = Annotated[tuple[Name, ...], FEW]


class _IncidentStruct(ClaimStruct, frozen=True, kw_only=True):
    """What every incident kind has: where it happened, how many died (`value` the best
    estimate, `low` and `high` its bounds when the dataset gives them), and the dataset's
    own classification."""

    place: Place
    fatalities: Quantity | None = None
    fatalities_among: FatalitiesAmong | None = None
    classified_as: SourceCategory | None = None

    NAMES: ClassVar[tuple[str, ...]] = ()  # the fields naming one party each
    ALLIES: ClassVar[tuple[str, ...]] = ()  # the fields naming several
    ARMED: ClassVar[tuple[str, ...]] = ()  # those of both that name armed actors

    def actors(self) -> tuple[str, ...]:
        """The armed actors in it, allies included (not the civilians attacked)."""
        named: list[str] = []
        for name in self.ARMED:
            value = getattr(self, name)
            named.extend(value if isinstance(value, tuple) else (value,) if value else ())
        return tuple(named)

    def validate(self) -> None:
        # The field's path is built only for the error (a batch checks millions of names).
        for name in self.NAMES:
            value = getattr(self, name)
            if value is not None and not value.strip():
                require_text(value, f"claim.{name}")
        for name in self.ALLIES:
            for index, ally in enumerate(getattr(self, name)):
                if not ally.strip():
                    require_text(ally, f"claim.{name}[{index}]")
        self.place.validate("claim.place")
        if self.fatalities is not None:
            require_unit(self.fatalities, _PEOPLE, "claim.fatalities")
        if self.fatalities_among is not None:
            self.fatalities_among.validate("claim.fatalities_among")
        if self.classified_as is not None:
            self.classified_as.validate("claim.classified_as")


class Clash(_IncidentStruct, frozen=True, kw_only=True, tag="clash"):
    """An armed engagement between two actors at a place (ACLED's Battles, UCDP's
    state-based and non-state events), each with the actors fighting beside it."""

    actor: Name
    against: Name
    actor_allies: Names = ()
    against_allies: Names = ()

    NAMES = ("actor", "against")
    ALLIES = ("actor_allies", "against_allies")
    ARMED = (*NAMES, *ALLIES)


class AttackOnCivilians(_IncidentStruct, frozen=True, kw_only=True, tag="attack_on_civilians"):
    """Armed violence against unarmed people (ACLED's Violence against civilians and events
    it flags as civilian targeting, UCDP's one-sided violence); `victims` as the source names
    them ("Civilians (Ukraine)")."""

    attacker: Name
    victims: Name = "civilians"
    attacker_allies: Names = ()
    victim_groups: Names = ()

    NAMES = ("attacker", "victims")
    ALLIES = ("attacker_allies", "victim_groups")
    ARMED = ("attacker", "attacker_allies")


class TerritorialChange(_IncidentStruct, frozen=True, kw_only=True, tag="territorial_change"):
    """An actor took control of a place (ACLED's "Government regains territory" and
    "Non-state actor overtakes territory"), from `from_actor` when the source names it."""

    actor: Name
    from_actor: Name | None = None
    actor_allies: Names = ()
    from_allies: Names = ()

    NAMES = ("actor", "from_actor")
    ALLIES = ("actor_allies", "from_allies")
    ARMED = (*NAMES, *ALLIES)


class Incident(_IncidentStruct, frozen=True, kw_only=True, tag="incident"):
    """Any other event a dataset records, kept under the dataset's own classification
    (required here: it is all that says what happened)."""

    classified_as: SourceCategory
    actor: Name | None = None
    against: Name | None = None
    actor_allies: Names = ()
    against_allies: Names = ()

    NAMES = ("actor", "against")
    ALLIES = ("actor_allies", "against_allies")
    ARMED = (*NAMES, *ALLIES)


IncidentClaim = Clash | AttackOnCivilians | TerritorialChange | Incident
