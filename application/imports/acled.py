"""`acled`: an export of ACLED (Armed Conflict Location & Event Data) in its CSV layout, and
its list of deleted events.

Each row is one event, identified by its `event_id_cnty`, and becomes one report: ACLED's
own coding of what its cited sources said (its fatalities are its own conservative estimate),
so the claim is ACLED's, with the sources it cites kept in the provenance. Battles are
clashes, or territorial changes when a side took a place; violence against civilians, and any
event ACLED flags as civilian targeting (shelling of a town), is an attack on civilians; every
other event (remote violence, protests, strategic developments...) is an incident under
ACLED's own event type. An export holds the events a user asked for (a country, some
months), not the whole dataset: a row missing from it says nothing, and only the deleted
list withdraws an event.

ACLED's terms forbid redistributing its rows: the tests use rows made up in its layout.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta

from application.commands import FileReport
from application.imports import rows as rows_module
from application.imports.fingerprints import Fingerprints, code_digest
from application.imports.rows import (
    BadRow,
    DatasetRows,
    DeletedRow,
    FieldError,
    SourceFile,
    SourceRow,
    UnreadRow,
    any_day,
    coordinate,
    csv_records,
    csv_rows,
    entries,
    free_text,
    name,
    whole,
)
from domain.attribution import Attribution, Cited, Provenance, Side
from domain.claims import (
    AttackOnCivilians,
    Claim,
    Clash,
    Incident,
    Place,
    PlacePrecision,
    SourceCategory,
    TerritorialChange,
)
from domain.occurrence import Day, Instant, Interval, Month, Occurrence
from domain.quantities import Quantity, Unit

FORMAT = "acled"
SCHEME = "ACLED"
DATASET = "ACLED: Armed Conflict Location & Event Data"
LICENCE = "ACLED Terms of Use"
CREDIT = "Armed Conflict Location & Event Data (ACLED); www.acleddata.com"
REQUIRED = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "country",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "fatalities",
)
DELETED_COLUMNS = ("event_id_cnty", "deleted_timestamp")
# ISO as the API gives it, "21 November 2024" as the export tool does, and their variants.
DATE_LAYOUTS = ("%d %B %Y", "%d-%B-%Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y")
DATE_SHOWN = "YYYY-MM-DD or 21 November 2024"
TERRITORY = frozenset({"Government regains territory", "Non-state actor overtakes territory"})
# A place's columns, as `_place` takes them (the optional ones empty when absent).
PLACE_COLUMNS = (
    "location",
    "admin1",
    "admin2",
    "admin3",
    "country",
    "latitude",
    "longitude",
    "geo_precision",
)
PRECISION = {1: PlacePrecision.EXACT, 2: PlacePrecision.NEAR, 3: PlacePrecision.PROVINCE}
READING = code_digest(__file__, rows_module.__file__)


def read(file: SourceFile, deleted: SourceFile | None, release: str | None) -> DatasetRows:
    """The export's rows split into fields, each read into a report as the importer
    decides it (`DatasetRows.in_file_order`), or all at once by `read_in_full`."""
    header, records = csv_records(file, REQUIRED)
    columns = tuple(dict.fromkeys(header))  # a column named twice: the last one counts
    fingerprints = Fingerprints(READING, columns, release)
    at = len(header) - 1 - header[::-1].index("event_id_cnty")
    unread = [
        UnreadRow(line, values[at].strip(), fingerprints.of(values), values, header)
        for line, values in records
    ]
    bad: list[BadRow] = []
    gone: tuple[DeletedRow, ...] = ()
    if deleted is not None:
        gone = _deleted(deleted, bad)
    return DatasetRows(
        FORMAT,
        file.name,
        (),
        tuple(bad),
        complete=False,
        deleted=gone,
        unread=tuple(unread),
        reader=functools.partial(_read_row, release=release),
    )


def _read_row(unread: UnreadRow, release: str | None) -> SourceRow | BadRow:
    row = unread.values
    try:
        return _row(unread.line, row, release, unread.fingerprint)
    except FieldError as error:
        return BadRow(unread.line, error.field, error.message, row["event_id_cnty"] or None)


def _deleted(file: SourceFile, bad: list[BadRow]) -> tuple[DeletedRow, ...]:
    gone = []
    for line, row in csv_rows(file, DELETED_COLUMNS):
        try:
            gone.append(_deleted_row(line, row))
        except FieldError as error:
            key = row["event_id_cnty"].strip() or None
            bad.append(BadRow(line, f"{file.name}: {error.field}", error.message, key))
    return tuple(gone)


def _deleted_row(line: int, row: dict[str, str]) -> DeletedRow:
    key = row["event_id_cnty"].strip()
    if not key:
        raise FieldError("event_id_cnty", "every deleted event names its id")
    when = _moment(row["deleted_timestamp"], "deleted_timestamp")
    on = "" if when is None else f" on {when.date().isoformat()}"
    published = None if when is None else Instant(at=when)
    return DeletedRow(line, key, f"ACLED deleted event {key}{on}", published)


# A file's rows share their places, actors, categories, sources, dates and upload times:
# each distinct value is read once (its checks included) and the parts built from it shared,
# immutable, by every row that has it. Bounded: a file with more distinct values than this
# reads the rest as before.
_DISTINCT = 1 << 14


def _row(line: int, row: dict[str, str], release: str | None, fingerprint: bytes) -> SourceRow:
    key = row["event_id_cnty"].strip()
    if not key:
        raise FieldError("event_id_cnty", "every event has its id")
    occurred, reported = _times(row["event_date"], row["time_precision"], row.get("timestamp", ""))
    notes = row.get("notes", "")
    return SourceRow(
        line,
        key,
        FileReport(
            claim=_claim(row),
            attribution=Attribution(
                source=SCHEME,
                side=Side.THIRD_PARTY,
                provenance=Provenance(
                    dataset=DATASET,
                    row=key,
                    release=release,
                    licence=LICENCE,
                    credit=CREDIT,
                    cited=_cited(row.get("source", ""), row.get("source_scale", "")),
                ),
            ),
            occurred=occurred,
            reported=reported,
            notes=free_text(notes) if notes else None,
        ),
        fingerprint,
    )


@functools.lru_cache(maxsize=_DISTINCT)
def _times(event_date: str, precision: str, timestamp: str) -> tuple[Occurrence, Occurrence]:
    """When the event happened, and when ACLED published the row as it stands (its upload
    time), else its date."""
    on = any_day(event_date, "event_date", DATE_LAYOUTS, DATE_SHOWN)
    occurred = _occurred(on, precision)
    uploaded = _moment(timestamp, "timestamp")
    return occurred, Day(on=on) if uploaded is None else Instant(at=uploaded)


def _occurred(on: date, precision: str) -> Occurrence:
    """ACLED's time_precision: 1 the day itself, 2 some day of the week around it, 3 some
    day of its month."""
    code = whole(precision, "time_precision")
    if code == 1:
        return Day(on=on)
    if code == 2:
        return Interval(start=Day(on=on - timedelta(days=3)), end=Day(on=on + timedelta(days=3)))
    if code == 3:
        return Month(year=on.year, month=on.month)
    raise FieldError("time_precision", f"expected 1, 2 or 3, got {precision!r}")


def _moment(text: str, field: str) -> datetime | None:
    """An upload or deletion time: Unix seconds as ACLED writes them, or ISO 8601 (UTC)."""
    value = text.strip()
    if not value:
        return None
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value), tz=UTC)
        moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        raise FieldError(
            field, f"expected Unix seconds or an ISO 8601 time, got {text!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _claim(row: dict[str, str]) -> Claim:
    event_type, sub_event_type = _name(row["event_type"]), _name(row["sub_event_type"])
    classified = _category(event_type, sub_event_type, row.get("disorder_type", ""))
    actor, against = _name(row["actor1"]), _name(row["actor2"])
    actor_allies = _entries(row.get("assoc_actor_1", ""))
    against_allies = _entries(row.get("assoc_actor_2", ""))
    place = _place(tuple([row.get(column, "") for column in PLACE_COLUMNS]))
    fatalities = _fatalities(row["fatalities"])
    targets_civilians = _name(row.get("civilian_targeting", "")) == "Civilian targeting"
    if actor and (event_type == "Violence against civilians" or targets_civilians):
        return AttackOnCivilians(
            attacker=actor,
            victims=against or "civilians",
            attacker_allies=actor_allies,
            victim_groups=against_allies,
            place=place,
            fatalities=fatalities,
            classified_as=classified,
        )
    if actor and event_type == "Battles" and sub_event_type in TERRITORY:
        return TerritorialChange(
            actor=actor,
            from_actor=against or None,
            actor_allies=actor_allies,
            from_allies=against_allies,
            place=place,
            fatalities=fatalities,
            classified_as=classified,
        )
    if actor and against and event_type == "Battles":
        return Clash(
            actor=actor,
            against=against,
            actor_allies=actor_allies,
            against_allies=against_allies,
            place=place,
            fatalities=fatalities,
            classified_as=classified,
        )
    # Anything else, a battle with one side unnamed included, keeps ACLED's own type.
    return Incident(
        actor=actor or None,
        against=against or None,
        actor_allies=actor_allies,
        against_allies=against_allies,
        place=place,
        fatalities=fatalities,
        classified_as=classified,
    )


_name = functools.lru_cache(maxsize=_DISTINCT)(name)
_entries = functools.lru_cache(maxsize=_DISTINCT)(entries)


@functools.lru_cache(maxsize=_DISTINCT)
def _category(event_type: str, sub_event_type: str, disorder: str) -> SourceCategory:
    if not event_type:
        raise FieldError("event_type", "every event has its type")
    return SourceCategory(
        scheme=SCHEME,
        category=event_type,
        subcategory=sub_event_type or None,
        disorder=_name(disorder) or None,
    )


@functools.lru_cache(maxsize=_DISTINCT)
def _place(columns: tuple[str, ...]) -> Place:
    """The place in a row's PLACE_COLUMNS."""
    location, admin1, admin2, admin3, country, latitude, longitude, geo_precision = columns
    named = _name(location)
    if not named:
        raise FieldError("location", "every event has a location")
    precision = whole(geo_precision, "geo_precision")
    if precision not in PRECISION:
        raise FieldError("geo_precision", f"expected 1, 2 or 3, got {geo_precision!r}")
    return Place(
        name=named,
        region=_name(admin1) or None,
        district=_name(admin2) or None,
        subdistrict=_name(admin3) or None,
        country=_name(country) or None,
        latitude=coordinate(latitude, "latitude"),
        longitude=coordinate(longitude, "longitude"),
        precision=PRECISION[precision],
    )


@functools.lru_cache(maxsize=_DISTINCT)
def _fatalities(text: str) -> Quantity:
    return Quantity(unit=Unit.PEOPLE, value=whole(text, "fatalities"))


@functools.lru_cache(maxsize=_DISTINCT)
def _cited(source: str, source_scale: str) -> tuple[Cited, ...]:
    return tuple(
        Cited(field=field, entries=values)
        for field, text in (("source", source), ("source_scale", source_scale))
        if (values := _entries(text))
    )
