"""Values that passed a check pass again without being walked (domain/passed.py): a batch of
reports shares its places, categories and days row after row. Only what passed is
remembered, equal values pass alike, and nothing that failed, changed or can change is
taken on trust."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from domain.attribution import Attribution, Side
from domain.claims import Clash, Place
from domain.errors import InvalidReport
from domain.events import ReportFiled
from domain.occurrence import Day
from domain.passed import Passed, once_per_value
from domain.quantities import Quantity, Unit
from domain.report import file_report

SUDZHA = Place(name="Sudzha", region="Kursk", latitude=51.1903, longitude=35.2717)


def test_a_value_passed_is_found_by_identity_and_an_equal_one_by_equality() -> None:
    passed = Passed()
    passed.add(SUDZHA)

    assert SUDZHA in passed
    assert Place(name="Sudzha", region="Kursk", latitude=51.1903, longitude=35.2717) in passed
    assert Place(name="Sudzha", region="Kursk") not in passed


def test_a_value_that_cannot_be_hashed_is_never_taken_as_passed() -> None:
    passed = Passed()
    holds_a_list = ["Sudzha"]
    passed.add(holds_a_list)

    assert holds_a_list not in passed
    assert len(passed) == 0


def test_the_values_passed_are_bounded_and_forgotten_all_at_once() -> None:
    passed = Passed(size=2)
    first, second, third = (Day(on=date(2024, 11, day)) for day in (21, 22, 23))
    passed.add(first)
    passed.add(second)
    passed.add(third)

    assert third in passed
    assert first not in passed
    assert second not in passed


def test_a_check_runs_once_per_value_and_again_after_a_failure() -> None:
    checked: list[Quantity] = []

    @once_per_value
    def check(quantity: Quantity, field: str) -> None:
        checked.append(quantity)
        if quantity.value is not None and quantity.value < 0:
            raise InvalidReport(field, "must not be negative")

    area = Quantity(unit=Unit.KM2, value=1_376)
    check(area, "claim.area")
    check(Quantity(unit=Unit.KM2, value=1_376), "claim.held")
    negative = Quantity(unit=Unit.KM2, value=-1)
    for _ in range(2):
        with pytest.raises(InvalidReport):
            check(negative, "claim.area")

    assert checked == [area, negative, negative]


def test_a_shared_part_that_fails_is_refused_in_every_report_that_holds_it() -> None:
    blank = Place(name="  ", region="Kursk")
    for _ in range(2):
        with pytest.raises(InvalidReport, match="must not be blank") as refused:
            _clash_at(blank)
        assert refused.value.field == "claim.place.name"


def test_a_part_put_in_nfc_is_put_in_nfc_in_every_report_that_holds_it() -> None:
    decomposed = unicodedata.normalize("NFD", "Mykolaïvka")
    place = Place(name=decomposed, region="Sumy")
    for _ in range(2):
        claim = _clash_at(place).claim
        assert isinstance(claim, Clash)
        assert claim.place.name == unicodedata.normalize("NFC", decomposed) != decomposed


def _clash_at(place: Place) -> ReportFiled:
    return file_report(
        claim=Clash(
            actor="Military Forces of Ukraine (2019-)",
            against="Military Forces of Russia (2000-)",
            place=place,
        ),
        attribution=Attribution(source="ACLED", side=Side.THIRD_PARTY),
        occurred=Day(on=date(2024, 11, 21)),
        reported=Day(on=date(2024, 11, 23)),
    )
