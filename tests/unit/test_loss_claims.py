"""The loss kinds' rules: casualties and equipment losses are checked as every claim is,
and decoding names the field that is wrong."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from application.commands import FileReport
from application.decoding import decode_command
from domain.attribution import Attribution, Provenance, Side
from domain.claims import (
    Casualties,
    Claim,
    EquipmentCategory,
    EquipmentLosses,
    EquipmentState,
    PersonStatus,
    Tally,
)
from domain.errors import InvalidReport
from domain.occurrence import Day
from domain.quantities import Qualifier, Quantity, Unit, about, between, exactly
from domain.report import file_report
from domain.summaries import claim_text

SATURDAY = Day(on=date(2024, 11, 23))
INVASION = date(2022, 2, 24)
GENERAL_STAFF = Attribution(
    source="General Staff of the Armed Forces of Ukraine",
    side=Side.UKRAINE,
    provenance=Provenance(
        dataset="PetroIvaniuk/2022-Ukraine-Russia-War-Dataset: russia_losses_equipment.json",
        row="2024-11-23/tank",
        licence="MIT",
    ),
)


def _file(claim: Claim, attribution: Attribution = GENERAL_STAFF) -> None:
    file_report(claim=claim, attribution=attribution, occurred=SATURDAY, reported=SATURDAY)


def test_the_general_staffs_tallies_read_as_running_totals_since_the_invasion() -> None:
    tanks = EquipmentLosses(
        side="Russia",
        category=EquipmentCategory.TANKS,
        source_category="tank",
        count=exactly(9_419, Unit.COUNT),
        since=INVASION,
    )
    personnel = Casualties(
        side="Russia",
        status=PersonStatus.MILITARY,
        total=about(729_720, Unit.PEOPLE),
        label="personnel",
        since=INVASION,
    )

    _file(tanks)
    _file(personnel)
    assert claim_text(tanks) == "Russia lost 9,419 tank since 2022-02-24"
    assert claim_text(personnel) == (
        "Russia (military): about 729,720 people lost (personnel) since 2022-02-24"
    )


def test_an_incident_counts_its_dead_low_best_and_high_as_an_increment() -> None:
    dead = Casualties(
        side="Ukraine",
        status=PersonStatus.CIVILIAN,
        killed=Quantity(unit=Unit.PEOPLE, low=3, value=4, high=7),
        wounded=between(10, 12, Unit.PEOPLE),
        tally=Tally.INCREMENT,
        country="Ukraine",
    )

    _file(dead, Attribution(source="UCDP", side=Side.THIRD_PARTY))
    assert claim_text(dead) == ("Ukraine (civilian): 4 people killed, 10-12 people wounded (new)")


@pytest.mark.parametrize(
    ("claim", "field"),
    [
        (Casualties(side="Russia"), "claim"),
        (Casualties(side=" ", killed=exactly(1, Unit.PEOPLE)), "claim.side"),
        (Casualties(side="Russia", killed=exactly(1, Unit.TROOPS)), "claim.killed.unit"),
        (
            Casualties(
                side="Russia",
                captured=Quantity(unit=Unit.PEOPLE, value=-1.0),
            ),
            "claim.captured.value",
        ),
        (
            Casualties(
                side="Russia", killed=exactly(1, Unit.PEOPLE), tally=Tally.INCREMENT, since=INVASION
            ),
            "claim.since",
        ),
        (
            EquipmentLosses(
                side="Russia",
                category=EquipmentCategory.TANKS,
                source_category="",
                count=exactly(1, Unit.COUNT),
            ),
            "claim.source_category",
        ),
        (
            EquipmentLosses(
                side="Russia",
                category=EquipmentCategory.TANKS,
                source_category="tank",
                count=exactly(1, Unit.KM2),
            ),
            "claim.count.unit",
        ),
    ],
)
def test_a_loss_claim_that_breaks_a_rule_is_refused_naming_the_field(
    claim: Claim, field: str
) -> None:
    with pytest.raises(InvalidReport) as refused:
        _file(claim)

    assert refused.value.field == field


def test_a_provenance_with_a_blank_row_is_refused_naming_the_field() -> None:
    blank = Attribution(
        source="ISW", side=Side.THIRD_PARTY, provenance=Provenance(dataset="ISW areas", row=" ")
    )

    with pytest.raises(InvalidReport) as refused:
        _file(Casualties(side="Russia", killed=exactly(1, Unit.PEOPLE)), blank)

    assert refused.value.field == "attribution.provenance.row"


def _body(claim: dict[str, object]) -> bytes:
    return msgspec.json.encode(
        {
            "claim": claim,
            "attribution": {"source": "UK MoD", "side": "third_party"},
            "occurred": {"precision": "day", "on": "2024-11-19"},
            "reported": {"precision": "day", "on": "2024-11-19"},
        }
    )


def test_decoding_a_loss_claim_names_the_unknown_field_and_the_bad_state() -> None:
    with pytest.raises(InvalidReport) as unknown:
        decode_command(
            FileReport,
            _body({"kind": "casualties", "side": "Russia", "dead": {"unit": "people", "value": 1}}),
        )
    with pytest.raises(InvalidReport) as state:
        decode_command(
            FileReport,
            _body(
                {
                    "kind": "equipment_losses",
                    "side": "Russia",
                    "category": "tanks",
                    "source_category": "tank",
                    "count": {"unit": "count", "value": 1},
                    "state": "vaporised",
                }
            ),
        )

    assert unknown.value.field == "claim.dead"
    assert state.value.field == "claim.state"


def test_a_loss_claim_decodes_back_to_what_was_filed() -> None:
    body = _body(
        {
            "kind": "equipment_losses",
            "side": "Russia",
            "category": "armoured_vehicles",
            "source_category": "APC",
            "count": {"unit": "count", "value": 19192, "qualifier": "about"},
            "state": "destroyed",
            "since": "2022-02-24",
        }
    )

    command = decode_command(FileReport, body)

    assert command.claim == EquipmentLosses(
        side="Russia",
        category=EquipmentCategory.ARMOURED_VEHICLES,
        source_category="APC",
        count=Quantity(unit=Unit.COUNT, value=19_192, qualifier=Qualifier.ABOUT),
        state=EquipmentState.DESTROYED,
        since=INVASION,
    )
