"""Where the timeline's rows live: `timeline_entries`, a row per report with its filters as
columns (migration 0010), so that pages are read by index instead of held in memory.

Runners and rebuilds write it exactly where they write `view_rows` for the other views
(projections/row_stores.py, `RowStore`), in the same transactions. Every column is read off
the `TimelineRow` the view rendered, with the same methods `timeline_matches` calls
(`Occurrence.earliest`/`latest`, `str.casefold`): the table cannot say something the row
does not. `doc` is the row as the API serves it, canonical JSON (keys sorted), so a page is
the stored documents spliced together, never decoded.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from domain.attribution import Side, Verification
from domain.occurrence import Day, Month, Occurrence
from projections.copy_text import NULL, array_field, array_literal, text_field
from projections.timeline import TimelineRow, rememberable

if TYPE_CHECKING:
    from projections.row_stores import Generation

TABLE = "timeline_entries"

# The widest occurrence each span class holds (migration 0010): a moment, a day, a month;
# the last class holds anything longer or open at either end. Something of class c that
# reaches past a moment `since` started after `since - SPANS[c]`: a range filter reads a
# bounded slice of each class's order instead of every row before the range.
SPANS: tuple[timedelta, ...] = (timedelta(0), timedelta(days=1), timedelta(days=31))
# Longer than a month or open at its end: its start bounds it by `until` only.
LONG_SPAN = len(SPANS)
# Open at its start ("until 6 August"): anchored at its end, bounded by neither.
OPEN_START = LONG_SPAN + 1

_canonical = msgspec.json.Encoder(order="sorted")


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


def _describe(  # noqa: PLR0917 (one argument per field: the text cache's key)
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


def _described_fields(row: TimelineRow, span: int) -> tuple[Any, ...]:
    """`_describe`'s arguments (`span`: the occurrence's class)."""
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
        described=_describe(*_described_fields(row, occurred.span)),
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

# The type of each column's array in the upsert's unnest (text[] columns go as literals:
# unnest would flatten an array of arrays).
UNNESTED = {
    "report_id": "uuid",
    "occurred_at": "timestamptz",
    "reported_at": "timestamptz",
    "filed_at": "bigint",
    "kind": "text",
    "region_key": "text",
    "region": "text",
    "country": "text",
    "actors": "text",
    "source": "text",
    "outlet": "text",
    "side": "text",
    "verification": "text",
    "retracted": "boolean",
    "tags": "text",
    "occurred_from": "timestamptz",
    "occurred_to": "timestamptz",
    "occurred_span": "smallint",
    "reported_from": "timestamptz",
    "reported_to": "timestamptz",
    "reported_span": "smallint",
    "doc": "text",
    "changed_at": "bigint",
}
_ARRAYS = frozenset({"actors", "tags"})
_SELECTED = ", ".join(f"r.{c}::text[]" if c in _ARRAYS else f"r.{c}" for c in UNNESTED)
_ARGUMENTS = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(UNNESTED.values(), start=2))
UPSERT = f"""
INSERT INTO {TABLE} ({", ".join(COLUMNS)})
SELECT $1, {_SELECTED} FROM unnest({_ARGUMENTS}) AS r({", ".join(UNNESTED)})
ON CONFLICT (generation, report_id) DO UPDATE SET
{", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])}
"""
DELETE = f"DELETE FROM {TABLE} WHERE generation = $1 AND report_id = ANY($2::uuid[])"
READ = f"""
SELECT e.report_id::text, e.doc FROM {TABLE} e
JOIN projection_generations g ON g.generation = e.generation
WHERE g.view = $1 AND g.state = 'serving' ORDER BY e.report_id
"""
DELETE_GENERATION = f"DELETE FROM {TABLE} WHERE generation = $1"

# The rows the timeline replaced, each with the position it stopped holding at (migration
# 0016): with the entries changed by a position N, those holding at N are the timeline at N.
SUPERSEDED = "timeline_superseded"
SUPERSEDED_COLUMNS = (*COLUMNS, "to_position")
INSERT_SUPERSEDED = f"""
INSERT INTO {SUPERSEDED} ({", ".join(SUPERSEDED_COLUMNS)})
SELECT $1, {_SELECTED}, r.to_position
FROM unnest({_ARGUMENTS}, ${len(UNNESTED) + 2}::bigint[])
    AS r({", ".join(UNNESTED)}, to_position)
"""
DELETE_SUPERSEDED_GENERATION = f"DELETE FROM {SUPERSEDED} WHERE generation = $1"


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
    return b"\t".join(map(_text, _describe(*fields)))


def _spanned_text(when: Occurrence) -> tuple[int, bytes]:
    """The occurrence's span class, and its columns' text."""
    if type(when) is Day or type(when) is Month:  # most of them: days and months in UTC
        return _spelled_remembered(when)
    return _spelled_remembered(when) if rememberable(when) else _spelled(when)


def _spelled(when: Occurrence) -> tuple[int, bytes]:
    columns = spanned(when)
    return columns.span, b"\t".join(map(_text, columns))


_spelled_remembered = lru_cache(maxsize=1 << 16)(_spelled)


def _line(generation: int, key: str, row: msgspec.Struct) -> bytes:
    """A row as a line of COPY text, in `COLUMNS` order."""
    assert isinstance(row, TimelineRow)
    # The sort key's parts are the order's columns as PostgreSQL reads them.
    order = row.sort_key.replace("|", "\t").encode()
    span, occurred = _spanned_text(row.occurred)
    return b"%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n" % (
        generation,
        key.encode(),  # the report id: the view keys its rows by it
        order,
        _described_text(*_described_fields(row, span)),
        occurred,
        _spanned_text(row.reported)[1],
        # Canonical JSON has no raw tab or newline: only its backslashes need doubling.
        _canonical.encode(row).replace(b"\\", b"\\\\"),
        row.last_changed_at_position,
    )


class TimelineEntries:
    """The `RowStore` of the timeline (projections/row_stores.py)."""

    table: str = TABLE
    columns: tuple[str, ...] = COLUMNS

    def document(self, row: msgspec.Struct) -> bytes:
        return _canonical.encode(row)

    def line(self, generation: Generation, position: int, key: str, row: msgspec.Struct) -> bytes:
        return _line(generation.generation, key, row)

    async def upsert(
        self,
        connection: asyncpg.Connection,
        generation: Generation,
        position: int,
        rows: Mapping[str, msgspec.Struct],
    ) -> None:
        timeline_rows = [row for row in rows.values() if isinstance(row, TimelineRow)]
        await connection.execute(UPSERT, generation.generation, *_unnested(timeline_rows))

    async def upsert_many(
        self,
        connection: asyncpg.Connection,
        batches: Sequence[tuple[Generation, int, Mapping[str, msgspec.Struct]]],
    ) -> None:
        # One view's table: a group holds at most one batch of it.
        for generation, position, rows in batches:
            if rows:
                await self.upsert(connection, generation, position, rows)

    async def delete(
        self, connection: asyncpg.Connection, generation: Generation, keys: Sequence[str]
    ) -> None:
        await connection.execute(DELETE, generation.generation, [UUID(key) for key in keys])

    async def delete_many(
        self, connection: asyncpg.Connection, batches: Sequence[tuple[Generation, Sequence[str]]]
    ) -> None:
        for generation, keys in batches:
            if keys:
                await self.delete(connection, generation, keys)

    async def read(
        self, connection: asyncpg.Pool | asyncpg.Connection, view: str
    ) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in await connection.fetch(READ, view)]

    async def delete_generation(
        self, connection: asyncpg.Pool | asyncpg.Connection, view: str, generation: int
    ) -> None:
        await connection.execute(DELETE_GENERATION, generation)
        await delete_superseded_generation(connection, generation)


TIMELINE_ENTRIES = TimelineEntries()


def _unnested(rows: Sequence[TimelineRow]) -> list[list[Any]]:
    """The rows' columns but the generation, each as an array for `UNNESTED`."""
    entries = [entry_of(row).values() for row in rows]
    columns: list[list[Any]] = [list(values) for values in zip(*entries, strict=True)]
    if not columns:
        columns = [[] for _ in COLUMNS[1:-2]]
    for index, name in enumerate(COLUMNS[1:-2]):
        if name in _ARRAYS:
            columns[index] = [array_literal(texts) for texts in columns[index]]
    documents = [_canonical.encode(row).decode() for row in rows]
    return [*columns, documents, [row.last_changed_at_position for row in rows]]


async def write_superseded(
    connection: asyncpg.Connection,
    generation: int,
    replaced: Sequence[tuple[msgspec.Struct, int]],
) -> None:
    """Rows the timeline replaced (each with the position it stopped holding at), inside
    the caller's transaction: one statement."""
    rows = [(row, to) for row, to in replaced if isinstance(row, TimelineRow)]
    if rows:
        await connection.execute(
            INSERT_SUPERSEDED,
            generation,
            *_unnested([row for row, _ in rows]),
            [to for _, to in rows],
        )


async def copy_superseded(
    connection: asyncpg.Connection,
    generation: int,
    replaced: Sequence[tuple[msgspec.Struct, int]],
) -> None:
    """A rebuild's replaced rows, by COPY inside the caller's transaction, in the order
    their pages walk (as the entries are written)."""
    rows = sorted(
        ((row, to) for row, to in replaced if isinstance(row, TimelineRow)),
        key=lambda pair: pair[0].sort_key,
    )
    if rows:
        await connection.copy_to_table(
            SUPERSEDED,
            source=_superseded_lines(generation, rows),
            columns=SUPERSEDED_COLUMNS,
            format="text",
        )


async def _superseded_lines(
    generation: int, rows: Sequence[tuple[TimelineRow, int]]
) -> AsyncIterator[bytes]:
    """The rows as COPY text, a slice at a time: the lines of 300,000 replaced rows are
    never all in memory at once."""
    for start in range(0, len(rows), 4_096):
        yield b"".join(
            _line(generation, str(row.report_id), row)[:-1] + b"\t%d\n" % to
            for row, to in rows[start : start + 4_096]
        )


async def delete_superseded_generation(
    connection: asyncpg.Pool | asyncpg.Connection, generation: int
) -> None:
    await connection.execute(DELETE_SUPERSEDED_GENERATION, generation)
