"""`ucdp-ged`: a release of the UCDP Georeferenced Event Dataset (GED) in its CSV layout
(CC BY 4.0).

Each row is one event, identified by its `id`, and becomes one report: UCDP's coding of
what its cited sources said, with its low, best and high estimates of the dead and whose
dead they were (sides a and b, civilians, unknown). State-based and non-state events are
clashes between side a and side b; one-sided violence is an attack on civilians by side a.
The period is date_start to date_end (one day when they agree); the report is published on
the latest of its sources' dates. The multi-valued source fields are split on ";".

A release (`--release 25.1`) is the whole dataset: a row imported from an earlier release
and missing from it is retracted. Without a release name the file is taken as an excerpt
(a country's rows, a monthly candidate file), and nothing missing from it is retracted.
"""

from __future__ import annotations

from application.commands import FileReport
from application.imports.rows import (
    BadRow,
    DatasetRows,
    FieldError,
    SourceFile,
    SourceRow,
    any_day,
    coordinate,
    csv_rows,
    entries,
    figure,
    free_text,
    name,
    whole,
)
from domain.attribution import Attribution, Cited, Provenance, Side
from domain.claims import (
    AttackOnCivilians,
    Claim,
    Clash,
    FatalitiesAmong,
    Place,
    PlacePrecision,
    SourceCategory,
)
from domain.occurrence import Day, Interval, Occurrence
from domain.quantities import Quantity, Unit

FORMAT = "ucdp-ged"
SCHEME = "UCDP GED"
DATASET = "UCDP Georeferenced Event Dataset (GED)"
LICENCE = "CC BY 4.0"
CREDIT = (
    "Uppsala Conflict Data Program (UCDP): Sundberg, Ralph and Erik Melander (2013) "
    "Introducing the UCDP Georeferenced Event Dataset, Journal of Peace Research 50(4)"
)
REQUIRED = (
    "id",
    "type_of_violence",
    "side_a",
    "side_b",
    "where_prec",
    "where_coordinates",
    "latitude",
    "longitude",
    "country",
    "date_start",
    "date_end",
    "best",
    "low",
    "high",
)
# GED's own "2024-11-20 00:00:00.000", plain ISO, and US dates from a spreadsheet's save.
DATE_LAYOUTS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y")
DATE_SHOWN = "YYYY-MM-DD (with or without a time) or M/D/YYYY"
VIOLENCE = {1: "state-based conflict", 2: "non-state conflict", 3: "one-sided violence"}
PRECISION = {
    1: PlacePrecision.EXACT,
    2: PlacePrecision.NEAR,
    3: PlacePrecision.DISTRICT,
    4: PlacePrecision.PROVINCE,
    5: PlacePrecision.STRETCH,
    6: PlacePrecision.COUNTRY,
    7: PlacePrecision.INTERNATIONAL,
}
SOURCE_FIELDS = ("source_original", "source_office", "source_article", "source_headline")
DEATHS = {"actor": "deaths_a", "against": "deaths_b"} | {
    kind: f"deaths_{kind}" for kind in ("civilians", "unknown")
}


def read(file: SourceFile, release: str | None) -> DatasetRows:
    rows: list[SourceRow] = []
    bad: list[BadRow] = []
    for line, row in csv_rows(file, REQUIRED):
        try:
            rows.append(_row(line, row, release))
        except FieldError as error:
            bad.append(BadRow(line, error.field, error.message, row["id"].strip() or None))
    return DatasetRows(FORMAT, file.name, tuple(rows), tuple(bad), complete=release is not None)


def _row(line: int, row: dict[str, str], release: str | None) -> SourceRow:
    key = row["id"].strip()
    if not key:
        raise FieldError("id", "every event has its id")
    start = any_day(row["date_start"], "date_start", DATE_LAYOUTS, DATE_SHOWN)
    end = any_day(row["date_end"], "date_end", DATE_LAYOUTS, DATE_SHOWN)
    occurred: Occurrence = (
        Day(on=start) if start == end else Interval(start=Day(on=start), end=Day(on=end))
    )
    published = [
        any_day(text, "source_date", DATE_LAYOUTS, DATE_SHOWN)
        for text in row.get("source_date", "").split(";")
        if text.strip()
    ]
    return SourceRow(
        line,
        key,
        FileReport(
            claim=_claim(row),
            attribution=Attribution(
                source="UCDP",
                side=Side.THIRD_PARTY,
                provenance=Provenance(
                    dataset=DATASET,
                    row=key,
                    release=release,
                    licence=LICENCE,
                    credit=CREDIT,
                    cited=_cited(row),
                ),
            ),
            occurred=occurred,
            reported=Day(on=max(published, default=end)),
            notes=_notes(row),
        ),
    )


def _claim(row: dict[str, str]) -> Claim:
    code = whole(row["type_of_violence"], "type_of_violence")
    if code not in VIOLENCE:
        raise FieldError(
            "type_of_violence",
            f"expected 1 (state-based), 2 (non-state) or 3 (one-sided), "
            f"got {row['type_of_violence']!r}",
        )
    side_a, side_b = name(row["side_a"]), name(row["side_b"])
    if not side_a:
        raise FieldError("side_a", "every event names its side a")
    classified = SourceCategory(scheme=SCHEME, category=VIOLENCE[code])
    place, fatalities, among = _place(row), _fatalities(row), _among(row)
    if code == 3:
        return AttackOnCivilians(
            attacker=side_a,
            victims=side_b or "civilians",
            place=place,
            fatalities=fatalities,
            fatalities_among=among,
            classified_as=classified,
        )
    if not side_b:
        raise FieldError("side_b", "a state-based or non-state event names its side b")
    return Clash(
        actor=side_a,
        against=side_b,
        place=place,
        fatalities=fatalities,
        fatalities_among=among,
        classified_as=classified,
    )


def _place(row: dict[str, str]) -> Place:
    location = name(row["where_coordinates"]) or name(row["country"])
    if not location:
        raise FieldError("where_coordinates", "every event has a place")
    precision = whole(row["where_prec"], "where_prec")
    if precision not in PRECISION:
        raise FieldError("where_prec", f"expected 1 to 7, got {row['where_prec']!r}")
    return Place(
        name=location,
        region=name(row.get("adm_1", "")) or None,
        district=name(row.get("adm_2", "")) or None,
        country=name(row["country"]) or None,
        latitude=coordinate(row["latitude"], "latitude"),
        longitude=coordinate(row["longitude"], "longitude"),
        precision=PRECISION[precision],
    )


def _fatalities(row: dict[str, str]) -> Quantity:
    best = whole(row["best"], "best")
    low, high = whole(row["low"], "low"), whole(row["high"], "high")
    if not low <= best <= high:
        raise FieldError("best", f"expected low <= best <= high, got {low}, {best}, {high}")
    return Quantity(unit=Unit.PEOPLE, value=best, low=low, high=high)


def _among(row: dict[str, str]) -> FatalitiesAmong | None:
    counts = {whose: figure(row.get(column, ""), column) for whose, column in DEATHS.items()}
    if all(count is None for count in counts.values()):
        return None
    for whose, count in counts.items():
        if count is not None and (count < 0 or not count.is_integer()):
            raise FieldError(DEATHS[whose], f"expected a whole number of at least 0, got {count}")
    return FatalitiesAmong(
        **{
            whose: Quantity(unit=Unit.PEOPLE, value=count)
            for whose, count in counts.items()
            if count is not None
        }
    )


def _cited(row: dict[str, str]) -> tuple[Cited, ...]:
    return tuple(
        Cited(field=field, entries=values)
        for field in SOURCE_FIELDS
        if (values := entries(row.get(field, "")))
    )


def _notes(row: dict[str, str]) -> str | None:
    lines = [
        f"{label}: {text}"
        for label, column in (
            ("conflict", "conflict_name"),
            ("dyad", "dyad_name"),
            ("where", "where_description"),
        )
        if (text := free_text(row.get(column, "")))
    ]
    return "\n".join(lines) or None
