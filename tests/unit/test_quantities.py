"""Figures as sources hedge them: "about 800 km²", "at most 1,376", "200-300 metres a day"."""

from __future__ import annotations

import pytest

from domain.errors import InvalidReport
from domain.quantities import Qualifier, Quantity, Unit, about, between, exactly


@pytest.mark.parametrize(
    "quantity",
    [
        pytest.param(about(800, Unit.KM2), id="about 800 km2"),
        pytest.param(
            Quantity(unit=Unit.KM2, value=1376, qualifier=Qualifier.AT_MOST), id="at most 1376 km2"
        ),
        pytest.param(
            Quantity(unit=Unit.PERCENT, low=40, qualifier=Qualifier.MORE_THAN),
            id="more than 40 percent",
        ),
        pytest.param(between(200, 300, Unit.METRES_PER_DAY), id="200-300 m a day"),
        pytest.param(
            Quantity(unit=Unit.TROOPS, value=575_000, high=690_000), id="575,000 of 690,000"
        ),
        pytest.param(exactly(321, Unit.FACILITIES), id="321 port facilities"),
        pytest.param(exactly(0, Unit.PEOPLE), id="no one injured"),
        pytest.param(about(20, Unit.PERCENT), id="a fifth"),
    ],
)
def test_figures_as_the_seed_article_gives_them_are_valid(quantity: Quantity) -> None:
    quantity.validate("claim.area")


def test_the_shorthands_record_how_the_source_hedged() -> None:
    assert about(800, Unit.KM2) == Quantity(unit=Unit.KM2, value=800, qualifier=Qualifier.ABOUT)
    assert exactly(321, Unit.FACILITIES).qualifier is Qualifier.EXACT
    assert between(200, 300, Unit.METRES_PER_DAY) == Quantity(
        unit=Unit.METRES_PER_DAY, low=200, high=300, qualifier=Qualifier.BETWEEN
    )


@pytest.mark.parametrize(
    ("quantity", "field", "reason"),
    [
        (Quantity(unit=Unit.KM2, qualifier=Qualifier.ABOUT), "claim.area", "needs a value"),
        (Quantity(unit=Unit.KM2, value=-800), "claim.area.value", "must not be negative"),
        (Quantity(unit=Unit.KM2, low=-1, high=800), "claim.area.low", "must not be negative"),
        (Quantity(unit=Unit.KM2, high=-1376), "claim.area.high", "must not be negative"),
        (between(300, 200, Unit.KM2), "claim.area", "low (300) must not exceed high (200)"),
        (
            Quantity(unit=Unit.KM2, value=150, low=200, high=300),
            "claim.area",
            "value (150) must not be below low (200)",
        ),
        (
            Quantity(unit=Unit.KM2, value=1400, high=1376, qualifier=Qualifier.AT_MOST),
            "claim.area",
            "value (1400) must not exceed high (1376)",
        ),
        (
            Quantity(unit=Unit.KM2, low=200, qualifier=Qualifier.BETWEEN),
            "claim.area",
            "'between' needs both low and high",
        ),
        (Quantity(unit=Unit.PERCENT, value=140), "claim.area.value", "at most 100"),
        (Quantity(unit=Unit.PERCENT, low=40, high=101), "claim.area.high", "at most 100"),
        (Quantity(unit=Unit.KM2, value=float("nan")), "claim.area.value", "finite"),
        (Quantity(unit=Unit.KM2, high=float("inf")), "claim.area.high", "finite"),
    ],
    ids=lambda case: case if isinstance(case, str) else None,
)
def test_an_impossible_figure_is_rejected_naming_its_field(
    quantity: Quantity, field: str, reason: str
) -> None:
    with pytest.raises(InvalidReport) as raised:
        quantity.validate("claim.area")

    assert raised.value.field == field
    assert reason in raised.value.message
    assert str(raised.value).startswith(f"{field}: ")


def test_a_value_on_the_bounds_of_its_range_is_valid() -> None:
    Quantity(unit=Unit.METRES_PER_DAY, value=200, low=200, high=300).validate("claim.rate")
    Quantity(unit=Unit.METRES_PER_DAY, value=300, low=200, high=300).validate("claim.rate")
    Quantity(unit=Unit.PERCENT, value=100).validate("claim.share")
