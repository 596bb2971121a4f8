"""The Economist's two files (CC BY 4.0): `economist-estimates`, third parties' estimates of
soldiers killed or of casualties, and `isw-area`, the area ISW assesses as held by Russia.

An estimate is a claim of the source the row names (UK MoD, CIA, Mediazona...), relayed by The
Economist; a row the file flags as "data from warring parties" speaks for Ukraine or Russia,
the others for neither. Its identity is its date, source, type and whose dead it counts: the
file has no row ids, and no two rows share those four.

ISW's daily area is a claim that Russia holds that share of Ukraine: the `occupation_share`
kind, the seed article's "a fifth" measured, with the area beside the percentage (m² in the
file, km² here). It is not a `territory_control` holding: that kind tracks who holds how
much of one region along a front line, and the whole country is not such a region.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from application.commands import FileReport
from application.imports.rows import (
    BadRow,
    DatasetRows,
    FieldError,
    SourceFile,
    SourceRow,
    csv_rows,
    day,
    figure,
)
from domain.attribution import Attribution, Provenance, Side
from domain.claims import Casualties, OccupationShare, PersonStatus
from domain.occurrence import Day
from domain.quantities import Qualifier, Quantity, Unit

ESTIMATES = "economist-estimates"
AREA = "isw-area"
REPOSITORY = "TheEconomist/the-economist-ukraine-war-dead-and-wounded-estimates"
LICENCE = "CC BY 4.0"
CREDIT = "Data © The Economist"
OUTLET = "The Economist"
INVASION = date(2022, 2, 24)
WARRING = "ignore for chart, data from warring parties"
ESTIMATE_COLUMNS = (
    "date",
    "estimate_low",
    "estimate_high",
    "estimate",
    "type",
    "source",
    "source_url",
    "country",
    WARRING,
)
AREA_M2 = "area_assessed_as_russia_controlled"
AREA_PERCENT = "area_assessed_as_russia_controlled_percent"
SIDES = {"russia": "Russia", "ukraine": "Ukraine"}
KINDS = ("deaths", "casualties")


def _provenance(file: str, key: str, release: str | None) -> Provenance:
    return Provenance(
        dataset=f"{REPOSITORY}: {file}",
        row=key,
        release=release,
        licence=LICENCE,
        credit=CREDIT,
    )


def read_estimates(file: SourceFile, release: str | None) -> DatasetRows:
    return _read(file, ESTIMATES, ESTIMATE_COLUMNS, _estimate, release)


def _read(
    file: SourceFile,
    dataset: str,
    columns: tuple[str, ...],
    made: Callable[[int, dict[str, str], str | None], SourceRow],
    release: str | None,
) -> DatasetRows:
    """Every row of a CSV file made into a report's row by `made`, or listed as bad."""
    rows: list[SourceRow] = []
    bad: list[BadRow] = []
    for line, row in csv_rows(file, columns):
        try:
            rows.append(made(line, row, release))
        except FieldError as error:
            bad.append(BadRow(line, error.field, error.message))
    return DatasetRows(dataset, file.name, tuple(rows), tuple(bad))


def _estimate(line: int, row: dict[str, str], release: str | None) -> SourceRow:
    on = day(row["date"], "date", "%d/%m/%Y", "D/M/YYYY")
    kind = row["type"].strip()
    if kind not in KINDS:
        raise FieldError("type", f"expected {' or '.join(KINDS)}, got {kind!r}")
    whose = SIDES.get(row["country"].strip().lower())
    if whose is None:
        raise FieldError("country", f"expected russia or ukraine, got {row['country']!r}")
    source = " ".join(row["source"].split())
    if not source:
        raise FieldError("source", "every estimate names its source")
    quantity = _estimate_quantity(row)
    key = f"{on.isoformat()}/{source}/{kind}/{whose.lower()}"
    url = row["source_url"].strip()
    return SourceRow(
        line,
        key,
        FileReport(
            claim=Casualties(
                side=whose,
                status=PersonStatus.MILITARY,
                killed=quantity if kind == "deaths" else None,
                total=quantity if kind == "casualties" else None,
                label="casualties" if kind == "casualties" else None,
                since=INVASION,
            ),
            attribution=Attribution(
                source=source,
                side=_claimant_side(source, row[WARRING]),
                outlet=OUTLET,
                url=url if url.startswith(("http://", "https://")) else None,
                provenance=_provenance("casualty_estimates_by_source.csv", key, release),
            ),
            occurred=Day(on=on),
            reported=Day(on=on),
            notes=None if not url or url.startswith(("http://", "https://")) else url,
        ),
    )


def _estimate_quantity(row: dict[str, str]) -> Quantity:
    value = figure(row["estimate"], "estimate")
    low = figure(row["estimate_low"], "estimate_low")
    high = figure(row["estimate_high"], "estimate_high")
    if value is None and low is None and high is None:
        raise FieldError("estimate", "an estimate needs estimate, estimate_low or estimate_high")
    if value is not None:
        qualifier = Qualifier.EXACT
    elif low is not None and high is not None:
        qualifier = Qualifier.BETWEEN
    else:
        qualifier = Qualifier.AT_LEAST if low is not None else Qualifier.AT_MOST
    return Quantity(unit=Unit.PEOPLE, value=value, low=low, high=high, qualifier=qualifier)


def _claimant_side(source: str, warring: str) -> Side:
    """A warring party speaks for its side; the file flags such rows without saying which."""
    if not warring.strip():
        return Side.THIRD_PARTY
    lowered = source.lower()
    if "ukrain" in lowered:
        return Side.UKRAINE
    if "russia" in lowered:
        return Side.RUSSIA
    return Side.UNKNOWN


def read_area(file: SourceFile, release: str | None) -> DatasetRows:
    return _read(file, AREA, ("date", AREA_M2, AREA_PERCENT), _area, release)


def _area(line: int, row: dict[str, str], release: str | None) -> SourceRow:
    on = day(row["date"], "date", "%Y-%m-%d", "YYYY-MM-DD")
    square_metres = figure(row[AREA_M2], AREA_M2)
    if square_metres is None:
        raise FieldError(AREA_M2, "the area is required (square metres)")
    percent = figure(row[AREA_PERCENT], AREA_PERCENT)
    if percent is None:
        raise FieldError(AREA_PERCENT, "the percentage is required")
    key = on.isoformat()
    return SourceRow(
        line,
        key,
        FileReport(
            claim=OccupationShare(
                occupier="Russia",
                country="UA",  # ISO 3166, as the seed's "a fifth" of Ukraine has it
                share=Quantity(unit=Unit.PERCENT, value=percent),
                area=Quantity(unit=Unit.KM2, value=square_metres / 1_000_000),
            ),
            attribution=Attribution(
                source="Institute for the Study of War",
                side=Side.THIRD_PARTY,
                outlet=OUTLET,
                provenance=_provenance("area_assessed_as_russia_controlled.csv", key, release),
            ),
            occurred=Day(on=on),
            reported=Day(on=on),
        ),
    )
