"""A timeline row as the columns of `timeline_entries`: its order, what the filters and sums
read (`Described`, with its `tags_of`), its times with their span class; as parameters
(`entry_of`) or, for a rebuild, as a line of COPY text (`copy_line`).

Every column is read off the `TimelineRow` the view rendered, with the same methods
`timeline_matches` calls (`Occurrence.earliest`/`latest`, `str.casefold`): the table cannot
say something the row does not.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from domain.attribution import Side, Verification
from domain.occurrence import Day, Month, Occurrence
from projections.copy_text import NULL, array_field, text_field
from projections.views.timeline import TimelineRow, rememberable

# The widest occurrence each span class holds (migration 0010): a moment, a day, a month;
# the last class holds anything longer or open at either end. Something of class c that
# reaches past a moment `since` started after `since - SPANS[c]`: a range filter reads a
# bounded slice of each class's order instead of every row before the range.
SPANS: tuple[timedelta, ...] = (timedelta(0), timedelta(days=1), timedelta(days=31))
# Longer than a month or open at its end: its start bounds it by `until` only.
LONG_SPAN = len(SPANS)
# Open at its start ("until 6 August"): anchored at its end, bounded by neither.
OPEN_START = LONG_SPAN + 1

# The rows' documents: canonical JSON (keys sorted), as the API serves them.
CANONICAL = msgspec.json.Encoder(order="sorted")


class Spanned(NamedTuple):
    """An occurrence's earliest and latest moments (None where open) and its span class."""

    earliest: datetime | None
    latest: datetime | None
    span: int


def spanned(when: Occurrence) -> Spanned:
    earliest, latest = when.earliest(), when.latest()
    if earliest is None:
        return Spanned(earliest, latest, OPEN_START)
    if latest is None:
        return Spanned(earliest, latest, LONG_SPAN)
    width = latest - earliest
    span = next((span for span, widest in enumerate(SPANS) if width <= widest), LONG_SPAN)
    return Spanned(earliest, latest, span)


class Order(NamedTuple):
    """`TimelineRow.sort_key` taken apart: the occurrence's anchor, the reporting's anchor,
    the filing position. Its order is the key's text order (fixed-width UTC times)."""

    occurred_at: datetime
    reported_at: datetime
    filed_at: int


def order_of(sort_key: str) -> Order:
    """Raises ValueError for text that is not a sort key."""
    occurred, reported, filed = sort_key.split("|")
    return Order(datetime.fromisoformat(occurred), datetime.fromisoformat(reported), int(filed))


def storable(text: str) -> str:
    """Text as a column holds it: PostgreSQL text cannot hold NUL, which the row's JSON
    (escaped there) can. Backslashes are doubled first, so no two texts look alike."""
    return text.replace("\\", "\\\\").replace("\0", "\\0")


def as_given(stored: str) -> str:
    """`storable` undone."""
    return re.sub(r"\\(.)", lambda found: "\0" if found[1] == "0" else found[1], stored)


def _storable_or_none(text: str | None) -> str | None:
    return None if text is None else storable(text)


class Described(NamedTuple):
    """What a row says about a report that the filters and the sums read (texts as
    `storable` writes them)."""

    kind: str
    region_key: str | None
    region: str | None
    country: str | None
    actors: tuple[str, ...]
    source: str
    outlet: str | None
    side: str
    verification: str
    retracted: bool
    tags: tuple[str, ...]  # `tags_of`: what the filters compare, in one indexed column


def tags_of(  # noqa: PLR0917 (one argument per filter, as `timeline_matches` has them)
    kind: str | None,
    region_key: str | None,
    actor_keys: tuple[str, ...],
    source_key: str | None,
    verification: str | None,
    span: int,
) -> tuple[str, ...]:
    """The values a row is found by, as "name:value@span" tags: a row passes the equality
    filters (`timeline_matches`: kind, region, actor, source, verification) when its tags
    hold the filters' (`tags @>`, one index for any of them together). `source_key` is the
    case-folded source, `region_key` and `actor_keys` are slugs, as the filters compare.

    Each tag names the occurrence's span class too, as pages are read class by class: the
    index and the planner's statistics then know which values a class holds, and a filter
    with no rows in a class (strikes are moments: none is open-ended) costs that class
    nothing, instead of a walk through all of its rows."""
    tags = [f"actor:{storable(key)}@{span}" for key in actor_keys]
    for name, value in (
        ("kind", kind),
        ("region", region_key),
        ("source", source_key),
        ("verification", verification),
    ):
        if value is not None:
            tags.append(f"{name}:{storable(value)}@{span}")
    return tuple(tags)


def describe(  # noqa: PLR0917 (one argument per field: the text cache's key)
    kind: str,
    region_key: str | None,
    region: str | None,
    country: str | None,
    actor_keys: tuple[str, ...],
    actors: tuple[str, ...],
    source: str,
    outlet: str | None,
    side: Side,
    verification: Verification,
    retracted: bool,
    span: int,
) -> Described:
    return Described(
        kind,
        _storable_or_none(region_key),
        _storable_or_none(region),
        _storable_or_none(country),
        tuple(map(storable, actors)),
        storable(source),
        _storable_or_none(outlet),
        side.value,
        verification.value,
        retracted,
        tags_of(kind, region_key, actor_keys, source.casefold(), verification.value, span),
    )


def described_fields(row: TimelineRow, span: int) -> tuple[Any, ...]:
    """`describe`'s arguments (`span`: the occurrence's class)."""
    return (
        row.kind,
        row.region_key,
        row.region,
        row.country,
        row.actor_keys,
        row.actors,
        row.source,
        row.outlet,
        row.side,
        row.verification,
        row.retracted,
        span,
    )


class Entry(NamedTuple):
    """A row's columns, in the table's order (`doc` apart)."""

    report_id: UUID
    order: Order
    described: Described
    occurred: Spanned
    reported: Spanned

    def values(self) -> tuple[Any, ...]:
        return (
            self.report_id,
            *self.order,
            *self.described,
            *self.occurred,
            *self.reported,
        )


def entry_of(row: TimelineRow) -> Entry:
    occurred = spanned(row.occurred)
    return Entry(
        report_id=row.report_id,
        order=order_of(row.sort_key),
        described=describe(*described_fields(row, occurred.span)),
        occurred=occurred,
        reported=spanned(row.reported),
    )


COLUMNS = (
    "generation",
    "report_id",
    *Order._fields,
    *Described._fields,
    *(f"occurred_{name}" for name in ("from", "to", "span")),
    *(f"reported_{name}" for name in ("from", "to", "span")),
    "doc",
    "changed_at",  # the row's `last_changed_at_position`: since when it holds
)


# --- the rebuild's COPY lines ----------------------------------------------------------------
# A rebuild writes hundreds of thousands of rows whose descriptions and times repeat: their
# text is made once per distinct value (the same columns as `entry_of`'s, from the same
# functions) and joined.


def _text(value: object) -> bytes:
    match value:
        case None:
            return NULL
        case bool():
            return b"t" if value else b"f"
        case int():
            return b"%d" % value
        case str():
            return text_field(value)
        case tuple():
            return array_field(value)
        case datetime():
            return value.isoformat().encode()
    raise TypeError(f"no COPY text for {value!r}")


@lru_cache(maxsize=1 << 14)
def _described_text(*fields: Any) -> bytes:
    return b"\t".join(map(_text, describe(*fields)))


def _spanned_text(when: Occurrence) -> tuple[int, bytes]:
    """The occurrence's span class, and its columns' text."""
    if type(when) is Day or type(when) is Month:  # most of them: days and months in UTC
        return _spelled_remembered(when)
    return _spelled_remembered(when) if rememberable(when) else _spelled(when)


def _spelled(when: Occurrence) -> tuple[int, bytes]:
    columns = spanned(when)
    return columns.span, b"\t".join(map(_text, columns))


_spelled_remembered = lru_cache(maxsize=1 << 16)(_spelled)


def copy_line(generation: int, key: str, row: msgspec.Struct) -> bytes:
    """A row as a line of COPY text, in `COLUMNS` order."""
    assert isinstance(row, TimelineRow)
    # The sort key's parts are the order's columns as PostgreSQL reads them.
    order = row.sort_key.replace("|", "\t").encode()
    span, occurred = _spanned_text(row.occurred)
    return b"%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n" % (
        generation,
        key.encode(),  # the report id: the view keys its rows by it
        order,
        _described_text(*described_fields(row, span)),
        occurred,
        _spanned_text(row.reported)[1],
        # Canonical JSON has no raw tab or newline: only its backslashes need doubling.
        CANONICAL.encode(row).replace(b"\\", b"\\\\"),
        row.last_changed_at_position,
    )
