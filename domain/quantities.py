"""Quantities as reports state them: a figure, a qualifier, an optional range and a unit."""

from __future__ import annotations

import math
from enum import StrEnum

import msgspec

from domain.errors import InvalidReport
from domain.limits import MAX_FIGURE, Figure
from domain.passed import once_per_value


class Qualifier(StrEnum):
    """How the source hedged the figure ("about 800", "at most 1,376", "more than 40%")."""

    EXACT = "exact"
    ABOUT = "about"
    AT_MOST = "at_most"
    AT_LEAST = "at_least"
    MORE_THAN = "more_than"
    LESS_THAN = "less_than"
    BETWEEN = "between"


class Unit(StrEnum):
    KM2 = "km2"
    TROOPS = "troops"
    PEOPLE = "people"
    FACILITIES = "facilities"
    SHIPS = "ships"
    VEHICLES = "vehicles"
    METRES_PER_DAY = "m/day"
    PERCENT = "percent"
    COUNT = "count"


def _check_figure(figure: float, field: str) -> None:
    # Every unit here measures a magnitude (areas, counts, rates of advance):
    # a negative figure can only be a mistake; a retreat is its own claim.
    if figure < 0:
        raise InvalidReport(field, f"must not be negative, got {figure:g}")
    # JSON has no NaN or infinity: msgspec would store them as null, losing the figure.
    if not math.isfinite(figure):
        raise InvalidReport(field, f"must be a finite number, got {figure}")
    if figure > MAX_FIGURE:
        raise InvalidReport(field, f"must be at most {MAX_FIGURE:,}, got {figure:g}")


class Quantity(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    omit_defaults=True,
):
    """A figure with its hedging.

    `value` is the point figure when the source gave one; `low`/`high` bound it when the
    source gave a range (either bound may be missing: "more than 40%" has only a low).
    """

    unit: Unit
    value: Figure | None = None
    low: Figure | None = None
    high: Figure | None = None
    qualifier: Qualifier = Qualifier.EXACT

    def __post_init__(self) -> None:
        # A figure typed as 800 in Python must be stored as the 800.0 that decoding gives
        # back, or the same event would have two encodings (and two fingerprints).
        for name in ("value", "low", "high"):
            figure = getattr(self, name)
            if type(figure) is int:
                msgspec.structs.force_setattr(self, name, float(figure))

    @once_per_value
    def validate(self, field: str) -> None:
        if self.value is None and self.low is None and self.high is None:
            raise InvalidReport(field, "a quantity needs a value, a low or a high bound")
        for name in ("value", "low", "high"):
            figure = getattr(self, name)
            if figure is not None:
                _check_figure(figure, f"{field}.{name}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise InvalidReport(field, f"low ({self.low:g}) must not exceed high ({self.high:g})")
        if self.value is not None:
            if self.low is not None and self.value < self.low:
                raise InvalidReport(
                    field, f"value ({self.value:g}) must not be below low ({self.low:g})"
                )
            if self.high is not None and self.value > self.high:
                raise InvalidReport(
                    field, f"value ({self.value:g}) must not exceed high ({self.high:g})"
                )
        if self.qualifier is Qualifier.BETWEEN and (self.low is None or self.high is None):
            raise InvalidReport(field, "qualifier 'between' needs both low and high")
        if self.unit is Unit.PERCENT:
            for name in ("value", "low", "high"):
                figure = getattr(self, name)
                if figure is not None and figure > 100:
                    raise InvalidReport(
                        f"{field}.{name}", f"a percentage is at most 100, got {figure:g}"
                    )


def about(value: float, unit: Unit) -> Quantity:
    return Quantity(unit=unit, value=value, qualifier=Qualifier.ABOUT)


def exactly(value: float, unit: Unit) -> Quantity:
    return Quantity(unit=unit, value=value)


def between(low: float, high: float, unit: Unit) -> Quantity:
    return Quantity(unit=unit, low=low, high=high, qualifier=Qualifier.BETWEEN)
