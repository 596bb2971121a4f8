"""The incident kinds' rules: a clash, an attack on civilians, a territorial change and the
general incident are checked as every claim is, and decoding names the field that is wrong."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from application.commands import FileReport
from application.decoding import decode_command
from domain.attribution import Attribution, Cited, Provenance, Side
from domain.claims import (
    AttackOnCivilians,
    Claim,
    Clash,
    FatalitiesAmong,
    Incident,
    Place,
    PlacePrecision,
    SourceCategory,
    TerritorialChange,
)
from domain.errors import InvalidReport
from domain.occurrence import Day
from domain.quantities import Quantity, Unit, exactly
from domain.report import file_report
from domain.summaries import claim_text
from projections.views.timeline import where_and_who

SATURDAY = Day(on=date(2024, 11, 23))
ACLED = Attribution(
    source="ACLED",
    side=Side.THIRD_PARTY,
    provenance=Provenance(
        dataset="ACLED: Armed Conflict Location & Event Data",
        row="RUS12345",
        cited=(Cited(field="source", entries=("Ukrainska Pravda", "Telegram")),),
    ),
)
PLEKHOVO = Place(name="Plekhovo", region="Kursk", country="Russia", precision=PlacePrecision.EXACT)
BERDIANSK = Place(name="Berdiansk", region="Zaporizhia", country="Ukraine")
SHELLING = SourceCategory(
    scheme="ACLED",
    category="Explosions/Remote violence",
    subcategory="Shelling/artillery/missile attack",
)


def _file(claim: Claim, attribution: Attribution = ACLED) -> None:
    file_report(claim=claim, attribution=attribution, occurred=SATURDAY, reported=SATURDAY)


def test_a_clash_names_both_sides_and_their_allies_as_actors() -> None:
    clash = Clash(
        actor="Military Forces of Ukraine (2019-)",
        against="Military Forces of Russia (2000-)",
        against_allies=("Military Forces of North Korea (2011-)",),
        place=PLEKHOVO,
        fatalities=exactly(12, Unit.PEOPLE),
    )

    _file(clash)

    assert where_and_who(clash) == (
        "Kursk",
        "Russia",
        (
            "Military Forces of Ukraine (2019-)",
            "Military Forces of Russia (2000-)",
            "Military Forces of North Korea (2011-)",
        ),
    )
    assert claim_text(clash) == (
        "Military Forces of Ukraine (2019-) clashed with Military Forces of Russia (2000-) "
        "in Plekhovo (Kursk), 12 people killed"
    )


def test_the_civilians_attacked_are_victims_not_actors() -> None:
    attack = AttackOnCivilians(
        attacker="Military Forces of Russia (2000-)",
        victims="Civilians (Ukraine)",
        place=BERDIANSK,
        classified_as=SHELLING,
    )

    _file(attack)

    assert where_and_who(attack)[2] == ("Military Forces of Russia (2000-)",)
    assert claim_text(attack).startswith("Military Forces of Russia (2000-) attacked Civilians")


def test_an_incident_is_summed_up_by_the_datasets_own_category() -> None:
    incident = Incident(
        actor="Military Forces of Ukraine (2019-)",
        place=BERDIANSK,
        fatalities=Quantity(unit=Unit.PEOPLE, value=2, low=1, high=4),
        classified_as=SHELLING,
    )

    _file(incident)

    assert claim_text(incident) == (
        "Shelling/artillery/missile attack by Military Forces of Ukraine (2019-) "
        "in Berdiansk (Zaporizhia), 2 people killed"
    )


def test_a_territorial_change_may_leave_out_whom_the_place_was_taken_from() -> None:
    change = TerritorialChange(actor="Military Forces of Russia (2000-)", place=PLEKHOVO)

    _file(change)

    assert (
        claim_text(change) == "Military Forces of Russia (2000-) took control in Plekhovo (Kursk)"
    )


@pytest.mark.parametrize(
    ("claim", "field"),
    [
        (Clash(actor=" ", against="Russia", place=PLEKHOVO), "claim.actor"),
        (
            Clash(actor="Ukraine", against="Russia", against_allies=("",), place=PLEKHOVO),
            "claim.against_allies[0]",
        ),
        (
            Clash(
                actor="Ukraine",
                against="Russia",
                place=PLEKHOVO,
                fatalities=exactly(12, Unit.TROOPS),
            ),
            "claim.fatalities.unit",
        ),
        (
            Clash(
                actor="Ukraine",
                against="Russia",
                place=PLEKHOVO,
                fatalities=Quantity(unit=Unit.PEOPLE, value=30, low=4, high=21),
            ),
            "claim.fatalities",
        ),
        (
            AttackOnCivilians(
                attacker="Russia",
                place=BERDIANSK,
                fatalities_among=FatalitiesAmong(civilians=exactly(-1, Unit.PEOPLE)),
            ),
            "claim.fatalities_among.civilians.value",
        ),
        (
            TerritorialChange(actor="Russia", place=Place(name="Darino", latitude=51.2)),
            "claim.place",
        ),
        (
            Incident(place=BERDIANSK, classified_as=SourceCategory(scheme="ACLED", category=" ")),
            "claim.classified_as.category",
        ),
        (
            Incident(
                place=Place(name="Berdiansk", district=""),
                classified_as=SHELLING,
            ),
            "claim.place.district",
        ),
    ],
)
def test_a_bad_incident_is_refused_naming_the_field(claim: Claim, field: str) -> None:
    with pytest.raises(InvalidReport) as refused:
        _file(claim)

    assert refused.value.field == field


def _body(claim: dict[str, object]) -> bytes:
    return msgspec.json.encode(
        {
            "claim": claim,
            "attribution": {"source": "ACLED", "side": "third_party"},
            "occurred": {"precision": "day", "on": "2024-11-21"},
            "reported": {"precision": "day", "on": "2024-11-26"},
        }
    )


def test_decoding_an_incident_names_the_missing_category_and_the_bad_precision() -> None:
    with pytest.raises(InvalidReport) as missing:
        decode_command(FileReport, _body({"kind": "incident", "place": {"name": "Berdiansk"}}))
    with pytest.raises(InvalidReport) as precision:
        decode_command(
            FileReport,
            _body(
                {
                    "kind": "clash",
                    "actor": "Ukraine",
                    "against": "Russia",
                    "place": {"name": "Plekhovo", "precision": "roughly"},
                }
            ),
        )

    assert missing.value.field == "claim.classified_as"
    assert precision.value.field == "claim.place.precision"


def test_an_incident_decodes_back_to_what_was_filed() -> None:
    body = _body(
        {
            "kind": "territorial_change",
            "actor": "Military Forces of Russia (2000-)",
            "from_actor": "Military Forces of Ukraine (2019-)",
            "place": {"name": "Darino", "region": "Kursk", "precision": "near"},
            "fatalities": {"unit": "people", "value": 0},
            "classified_as": {
                "scheme": "ACLED",
                "category": "Battles",
                "subcategory": "Government regains territory",
            },
        }
    )

    command = decode_command(FileReport, body)

    assert command.claim == TerritorialChange(
        actor="Military Forces of Russia (2000-)",
        from_actor="Military Forces of Ukraine (2019-)",
        place=Place(name="Darino", region="Kursk", precision=PlacePrecision.NEAR),
        fatalities=exactly(0, Unit.PEOPLE),
        classified_as=SourceCategory(
            scheme="ACLED", category="Battles", subcategory="Government regains territory"
        ),
    )
