"""What the claim kinds are made of: the base every kind shares, the checks they run, and
the place an event happened at, with how precisely the source placed it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from domain.errors import InvalidReport
from domain.limits import Name, Range
from domain.passed import once_per_value
from domain.quantities import Quantity, Unit


def require_text(value: str, field: str) -> None:
    if not value.strip():
        raise InvalidReport(field, "must not be blank")


def require_unit(quantity: Quantity, units: frozenset[Unit], field: str) -> None:
    quantity.validate(field)
    if quantity.unit not in units:
        expected = ", ".join(sorted(units))
        raise InvalidReport(f"{field}.unit", f"expected {expected}, got {quantity.unit}")


class ClaimStruct(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    omit_defaults=True,
    tag_field="kind",
):
    """What every claim kind shares: immutable, strict about unknown fields, tagged by `kind`."""


class PlacePrecision(StrEnum):
    """How closely the source placed an event: at the place named (ACLED geo_precision 1,
    UCDP where_prec 1), near it (within about 25 km), or only somewhere in a district, a
    province, along a stretch (a road, a border), in a country, or at sea or in the air."""

    EXACT = "exact"
    NEAR = "near"
    DISTRICT = "district"
    PROVINCE = "province"
    STRETCH = "stretch"
    COUNTRY = "country"
    INTERNATIONAL = "international"


class Place(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    omit_defaults=True,
):
    """A named place; `region` is the first-level division (an oblast), `district` the
    second and `subdistrict` the third (a hromada), as the datasets name them."""

    name: Name
    region: Name | None = None
    country: Name | None = None
    latitude: Annotated[float, Range(-90, 90)] | None = None
    longitude: Annotated[float, Range(-180, 180)] | None = None
    district: Name | None = None
    subdistrict: Name | None = None
    precision: PlacePrecision | None = None  # None: as exact as the name says

    @once_per_value
    def validate(self, field: str) -> None:
        require_text(self.name, f"{field}.name")
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            raise InvalidReport(
                f"{field}.latitude", f"must be between -90 and 90, got {self.latitude:g}"
            )
        if self.longitude is not None and not -180 <= self.longitude <= 180:
            raise InvalidReport(
                f"{field}.longitude", f"must be between -180 and 180, got {self.longitude:g}"
            )
        if (self.latitude is None) != (self.longitude is None):
            raise InvalidReport(field, "give both latitude and longitude, or neither")
        for name in ("district", "subdistrict"):
            value = getattr(self, name)
            if value is not None:
                require_text(value, f"{field}.{name}")
