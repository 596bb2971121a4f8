"""`gs-losses`: the General Staff of Ukraine's daily running totals of Russian losses, as
compiled by Petro Ivaniuk (russia_losses_equipment.json, russia_losses_personnel.json).

Each (date, category) is one report: a running total since 24 February 2022, published that
day, by the General Staff (the dataset relays it). Keys come and go over time ("fuel tank"
until April 2022, then "vehicles and fuel tanks"); "greatest losses direction" is a place,
not a figure, and "day" only counts the days, so neither is imported. A total that falls
from one day to the next is kept as published: the source corrected itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from application.commands import FileReport
from application.imports.rows import (
    BadFile,
    BadRow,
    DatasetRows,
    FieldError,
    SourceFile,
    SourceRow,
    day,
    figure,
    json_objects,
)
from domain.attribution import Attribution, Provenance, Side
from domain.claims import (
    Casualties,
    Claim,
    EquipmentCategory,
    EquipmentLosses,
    PersonStatus,
)
from domain.occurrence import Day
from domain.quantities import Qualifier, Quantity, Unit

FORMAT = "gs-losses"
INVASION = date(2022, 2, 24)
REPOSITORY = "PetroIvaniuk/2022-Ukraine-Russia-War-Dataset"
LICENCE = "MIT"
CREDIT = "Copyright (c) 2022 Petro Ivaniuk"
SOURCE = "General Staff of the Armed Forces of Ukraine"

EQUIPMENT: dict[str, EquipmentCategory] = {
    "tank": EquipmentCategory.TANKS,
    "APC": EquipmentCategory.ARMOURED_VEHICLES,
    "field artillery": EquipmentCategory.ARTILLERY,
    "MRL": EquipmentCategory.ROCKET_LAUNCHERS,
    "anti-aircraft warfare": EquipmentCategory.AIR_DEFENCE,
    "aircraft": EquipmentCategory.AIRCRAFT,
    "helicopter": EquipmentCategory.HELICOPTERS,
    "drone": EquipmentCategory.DRONES,
    "cruise missiles": EquipmentCategory.MISSILES,
    "mobile SRBM system": EquipmentCategory.MISSILE_LAUNCHERS,
    "naval ship": EquipmentCategory.SHIPS,
    "submarines": EquipmentCategory.SUBMARINES,
    "military auto": EquipmentCategory.VEHICLES,
    "vehicles and fuel tanks": EquipmentCategory.VEHICLES,
    "fuel tank": EquipmentCategory.FUEL_TANKERS,
    "ground robotic systems": EquipmentCategory.GROUND_ROBOTS,
    "special equipment": EquipmentCategory.SPECIAL_EQUIPMENT,
}
NOT_FIGURES = frozenset({"date", "day", "greatest losses direction"})
PERSONNEL_QUALIFIERS = {"about": Qualifier.ABOUT, "more": Qualifier.MORE_THAN}


def read(files: list[SourceFile], release: str | None) -> list[DatasetRows]:
    """The equipment and personnel files, in any order, each told by its rows' keys."""
    datasets = []
    kinds: dict[str, SourceFile] = {}
    for file in files:
        text = file.text()
        entries = list(json_objects(text, file.name))
        kind = _kind_of(entries, file.name)
        if kind in kinds:
            raise BadFile(f"{file.name}: a second {kind} file ({kinds[kind].name} is the first)")
        kinds[kind] = file
        datasets.append(_rows(kind, file.name, entries, release))
    return datasets


def _kind_of(entries: list[tuple[int, Any]], name: str) -> str:
    keys = {key for _, entry in entries if isinstance(entry, dict) for key in entry}
    if "personnel" in keys:
        return "personnel"
    if keys & EQUIPMENT.keys():
        return "equipment"
    if not entries:
        raise BadFile(f"{name}: no rows")
    raise BadFile(
        f"{name}: neither the equipment file (tank, APC, ...) nor the personnel file "
        "(personnel); the correction deltas file is not imported: the totals already include them"
    )


def _rows(kind: str, name: str, entries: list[tuple[int, Any]], release: str | None) -> DatasetRows:
    rows: list[SourceRow] = []
    bad: list[BadRow] = []
    for line, entry in entries:
        if not isinstance(entry, dict):
            bad.append(BadRow(line, "row", f"expected an object, got {type(entry).__name__}"))
            continue
        try:
            on = day(entry.get("date"), "date", "%Y-%m-%d", "YYYY-MM-DD")
        except FieldError as error:
            bad.append(BadRow(line, error.field, error.message))
            continue
        for category, value in entry.items():
            if category in NOT_FIGURES or category == "personnel*":
                continue
            key = f"{on.isoformat()}/{category}"
            try:
                claim = _claim(kind, category, value, entry)
            except FieldError as error:
                bad.append(BadRow(line, error.field, error.message, key))
                continue
            rows.append(SourceRow(line, key, _filing(claim, on, kind, key, release)))
    return DatasetRows(f"{FORMAT}/{kind}", name, tuple(rows), tuple(bad))


def _claim(kind: str, category: str, value: object, entry: dict[str, Any]) -> Claim:
    count = figure(value, category)
    if count is None:
        raise FieldError(category, "a figure is required; leave the key out when there is none")
    if kind == "equipment":
        normalised = EQUIPMENT.get(category, EquipmentCategory.OTHER)
        return EquipmentLosses(
            side="Russia",
            category=normalised,
            source_category=category,
            count=Quantity(unit=Unit.COUNT, value=count),
            since=INVASION,
        )
    if category == "POW":
        return Casualties(
            side="Russia",
            status=PersonStatus.MILITARY,
            captured=Quantity(unit=Unit.PEOPLE, value=count),
            since=INVASION,
        )
    if category != "personnel":
        raise FieldError(category, "the personnel file holds personnel and POW only")
    hedge = entry.get("personnel*", "about")
    qualifier = PERSONNEL_QUALIFIERS.get(hedge) if isinstance(hedge, str) else None
    if qualifier is None:
        raise FieldError("personnel*", f"expected 'about' or 'more', got {hedge!r}")
    return Casualties(
        side="Russia",
        status=PersonStatus.MILITARY,
        total=Quantity(unit=Unit.PEOPLE, value=count, qualifier=qualifier),
        label="personnel",
        since=INVASION,
    )


def _filing(claim: Claim, on: date, kind: str, key: str, release: str | None) -> FileReport:
    return FileReport(
        claim=claim,
        attribution=Attribution(
            source=SOURCE,
            side=Side.UKRAINE,
            provenance=Provenance(
                dataset=f"{REPOSITORY}: russia_losses_{kind}.json",
                row=key,
                release=release,
                licence=LICENCE,
                credit=CREDIT,
            ),
        ),
        # A running total (since the invasion, in the claim), published the day it counts
        # up to.
        occurred=Day(on=on),
        reported=Day(on=on),
    )
