"""The live timeline read from `timeline_entries` by index: filtered pages, and the sums of
its sources and regions.

A page is the rows after a cursor that pass `TimelineFilter`, in `sort_key` order. The SQL
filter means what `timeline_matches` means, condition for condition (`_conditions`); what
it adds are bounds that follow from them, for the indexes:
- The order is walked per span class (projections/timeline_entries.py: a moment, a day, a
  month, longer or open at its end, open at its start), as a UNION of ordered scans merged
  on the order. Within a class of width w, an occurrence that reaches into [since, until)
  is anchored in [since - w, until): a range filter reads that slice, not the rows before
  it. Long occurrences are bounded by `until` only, those open at their start by nothing.
- The equality filters are the tags of the class (`tags_of`), so the planner knows from
  its statistics which values a class holds at all; several kinds are walked one by one.
- A reporting range, which is not the page order, narrows the candidates the same way
  through `timeline_entries_reported`, one slice per class; when few rows fall in it, they
  are gathered and sorted instead of walked to (`page_query`'s `gather`).
Each query is planned for its own values (`plan_cache_mode`): a plan made for one kind or
one month is no plan for another.

Sources and regions are counted per group in SQL and summed up by the caller; the same
groups are counted from replayed rows for questions about the past (`source_groups_of`),
so both sum up alike. A group's `first_key` is the least report id in it: rows taken in key
order, as a replay lists them, meet that group's values first.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

import asyncpg
import msgspec

from domain.attribution import Verification
from projections.row_keys import slug
from projections.timeline import TimelineRow, TimelineView, timeline_matches
from projections.timeline_entries import (
    COLUMNS,
    LONG_SPAN,
    OPEN_START,
    SPANS,
    SUPERSEDED,
    TABLE,
    as_given,
    order_of,
    tags_of,
)

SERVING = """
SELECT generation, position, set_config('plan_cache_mode', 'force_custom_plan', true)
FROM projection_generations WHERE view = $1 AND state = 'serving'
"""
ORDER = "occurred_at, reported_at, filed_at"


class TimelineFilter(msgspec.Struct, frozen=True):
    """What a page of the timeline asks for (see `timeline_matches`)."""

    kinds: Collection[str] | None = None
    region: str | None = None
    actor: str | None = None
    source: str | None = None
    verification: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    include_retracted: bool = False

    def matches(self, row: TimelineRow) -> bool:
        return timeline_matches(
            row,
            kinds=self.kinds,
            region=self.region,
            actor=self.actor,
            source=self.source,
            verification=self.verification,
            occurred_from=self.occurred_from,
            occurred_to=self.occurred_to,
            reported_from=self.reported_from,
            reported_to=self.reported_to,
            include_retracted=self.include_retracted,
        )


class Page(NamedTuple):
    position: int  # the log position the rows reflect
    documents: list[bytes]  # canonical JSON, in order
    next_after: str | None  # the sort_key to continue after, if more rows match


class _Arguments:
    """A query's parameters, numbered as they are added."""

    def __init__(self) -> None:
        self.values: list[object] = []

    def __call__(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _overlap(
    add: _Arguments, column: str, since: datetime | None, until: datetime | None
) -> list[str]:
    """`timeline._overlaps`: [from, to] may fall in [since, until), open ends reaching as
    far as they can; a day ending at `since` is out, a moment at `since` is in."""
    conditions = []
    if until is not None:
        conditions.append(f"({column}_from IS NULL OR {column}_from < {add(until)})")
    if since is not None:
        at = add(since)
        conditions.append(
            f"({column}_to IS NULL OR {column}_to > {at} "
            f"OR ({column}_to = {at} AND {column}_from = {at}))"
        )
    return conditions


def _conditions(add: _Arguments, wanted: TimelineFilter) -> list[str]:
    """`timeline_matches`, as SQL on the entry's columns."""
    conditions = []
    if not wanted.include_retracted and wanted.verification != Verification.RETRACTED:
        conditions.append("NOT retracted")
    conditions += _overlap(add, "occurred", wanted.occurred_from, wanted.occurred_to)
    conditions += _overlap(add, "reported", wanted.reported_from, wanted.reported_to)
    if wanted.reported_from is not None or wanted.reported_to is not None:
        conditions.append(_reported_slices(add, wanted.reported_from, wanted.reported_to))
    return conditions


def _earlier(moment: datetime, width: timedelta) -> datetime | None:
    try:
        return moment - width
    except OverflowError:
        return None  # before the first year: no bound


def _reported_slices(add: _Arguments, since: datetime | None, until: datetime | None) -> str:
    """Where the reporting of each class must start to fall in [since, until)."""
    return "(" + " OR ".join(_reported_slice_list(add, since, until)) + ")"


def _reported_slice_list(
    add: _Arguments, since: datetime | None, until: datetime | None
) -> list[str]:
    slices = []
    for span in range(LONG_SPAN + 1):
        bounds = [f"reported_span = {span}"]
        start = None if since is None or span == LONG_SPAN else _earlier(since, SPANS[span])
        if start is not None:
            bounds.append(f"reported_from >= {add(start)}")
        if until is not None:
            bounds.append(f"reported_from < {add(until)}")
        slices.append("(" + " AND ".join(bounds) + ")")
    slices.append(f"reported_span = {OPEN_START}")
    return slices


def _tagged(add: _Arguments, wanted: TimelineFilter, span: int) -> list[str]:
    """The equality filters, as the tags of the span class's rows must hold them."""
    conditions = []
    kinds = None if wanted.kinds is None else sorted(wanted.kinds)
    required = _required_tags(wanted, span)
    if required:
        conditions.append(f"tags @> {add(list(required))}::text[]")
    if kinds is not None and len(kinds) != 1:  # any of them (`page_query` asks one by one)
        either = [tag for kind in kinds for tag in tags_of(kind, None, (), None, None, span)]
        conditions.append(f"tags && {add(either)}::text[]")
    return conditions


def _branch(
    add: _Arguments,
    span: int,
    common: str,
    wanted: TimelineFilter,
    limit: str | None,
    *,
    table: str = TABLE,
) -> str:
    """The matching rows of one span class, the first `limit` in order (None: all)."""
    since, until = wanted.occurred_from, wanted.occurred_to
    bounds = [f"occurred_span = {span}", *_tagged(add, wanted, span)]
    if span < LONG_SPAN and since is not None:  # no wider than SPANS[span]
        start = _earlier(since, SPANS[span])
        if start is not None:
            bounds.append(f"occurred_at >= {add(start)}")
    if span <= LONG_SPAN and until is not None:  # anchored at their start
        bounds.append(f"occurred_at < {add(until)}")
    ordered = "" if limit is None else f" ORDER BY {ORDER} LIMIT {limit}"
    return f"(SELECT doc, {ORDER} FROM {table} WHERE {' AND '.join(bounds)} AND {common}{ordered})"


class Past(NamedTuple):
    """A question about the past: the log position the rows are read at, and the valid time
    by which they had begun (None: whenever). `few_replaced`: whether few replaced rows were
    replaced after the position (`FEW_REPLACED`), as near the head of the log: those are
    gathered, for a walk in order would read every replaced row to find none holding."""

    position: int
    valid_time: datetime | None
    few_replaced: bool = False


# Up to this many rows replaced after a position, a past page gathers them (`Past`).
FEW_REPLACED = 2_000
REPLACED_AFTER = f"""
SELECT count(*) FROM (
    SELECT FROM {SUPERSEDED} WHERE generation = $1 AND to_position > $2 LIMIT {FEW_REPLACED}
) AS replaced
"""


# The rows of a generation at a position: the entries changed by then, and the rows they
# replaced that held then (migration 0016), as a table to gather a reporting range from.
# A walk in order reads each of the two tables by its own order index instead (a UNION ALL
# whose members filter cannot be flattened: PostgreSQL sorted the whole of each class).
_AT = (
    "WITH {name} AS NOT MATERIALIZED ("
    f"SELECT {{columns}} FROM {TABLE} WHERE changed_at <= {{at}} "
    f"UNION ALL SELECT {{columns}} FROM {SUPERSEDED} "
    "WHERE changed_at <= {at} AND to_position > {at}) "
)


def _held(at: str) -> str:
    """Where a replaced row held at the position `at`."""
    return f"changed_at <= {at} AND to_position > {at}"


def page_query(
    generation: int,
    wanted: TimelineFilter,
    after: str | None,
    limit: int,
    *,
    gather: bool = False,
    spans: Collection[int] | None = None,
    past: Past | None = None,
) -> tuple[str, list[object]]:
    """The SQL for up to `limit` rows after the sort key `after`, and its parameters.
    Raises ValueError if `after` is not a sort key.

    Each span class is walked in order, stopping at `limit` rows, one walk per kind when
    several are asked (the planner weighs each kind's tag in the class by its statistics,
    and finds at once that a kind has no row there; an "any of them" it can only guess at).
    `gather`: every row that passes is gathered first, then sorted, for a reporting range
    few rows fall in (`few_reported_query`): its rows are scattered along the order
    (reported late about something early), which the planner cannot know, and a walk in
    order would read most of the table to find them.
    `spans`: only those span classes (None: all). `past`: the rows at that position that
    had begun by its valid time. The rows come with their order's columns."""
    add = _Arguments()
    at = add(generation)
    common = [f"generation = {at}"]
    table = source = TABLE
    reported = position = ""
    # The tables walked, each with what its rows must hold besides the page's conditions.
    walked = [(TABLE, "")]
    if past is not None:
        position = add(past.position)
        # A row held at the position was filed by then: `filed_at`, in the order's index, is
        # checked there, before a row later filed is read from the table.
        filed = f" AND filed_at <= {position}"
        walked = [
            (TABLE, f"{filed} AND changed_at <= {position}"),
            (SUPERSEDED, f"{filed} AND {_held(position)}"),
        ]
        if past.valid_time is not None:
            common.append(f"occurred_at <= {add(past.valid_time)}")
    if past is not None and gather:
        source = "at_position"
        reported = _AT.format(name=source, columns=", ".join(COLUMNS), at=position)
    elif past is not None and past.few_replaced:
        reported = (
            f"WITH held AS MATERIALIZED (SELECT * FROM {SUPERSEDED} "
            f"WHERE generation = {at} AND to_position > {position} AND changed_at <= {position}) "
        )
        walked[1] = ("held", "")
    if gather:
        # Read through the reporting index first, whatever the planner guesses of the table
        # (a table just loaded by a rebuild has no statistics yet, and the guess was to walk
        # every row of each class in order: 50 ms on 100,000 events, where this takes 1).
        slices = _reported_slices(add, wanted.reported_from, wanted.reported_to)
        reported = (
            f"{reported}{', ' if reported else 'WITH '}reported AS MATERIALIZED "
            f"(SELECT * FROM {source} WHERE generation = {at} AND {slices}) "
        )
        table = "reported"
        walked = [(table, "")]
    if after is not None:
        order = order_of(after)
        common.append(f"({ORDER}) > ({add(order[0])}, {add(order[1])}, {add(order[2])})")
    common += _conditions(add, wanted)
    where, fetched = " AND ".join(common), add(limit)
    kinds = [None] if wanted.kinds is None else sorted(wanted.kinds)
    branches = [
        _branch(
            add,
            span,
            where + held,
            wanted if kind is None else msgspec.structs.replace(wanted, kinds=(kind,)),
            None if gather else fetched,
            table=walked_table,
        )
        for span in (range(OPEN_START + 1) if spans is None else sorted(spans))
        for kind in kinds
        for walked_table, held in walked
    ]
    if not branches:  # no kind at all
        return f"SELECT doc, {ORDER} FROM {TABLE} WHERE false", []
    rows = " UNION ALL ".join(branches)
    query = f"{reported}SELECT doc, {ORDER} FROM ({rows}) AS page ORDER BY {ORDER} LIMIT {fetched}"
    return query, add.values


# Up to this many rows reported in the range asked, a page gathers them (`page_query`).
FEW_REPORTED = 5_000


def few_reported_query(generation: int, wanted: TimelineFilter) -> tuple[str, list[object]]:
    """The SQL counting rows (up to FEW_REPORTED) reported in the range `wanted` asks for,
    slice by slice from `timeline_entries_reported` alone."""
    add = _Arguments()
    at = add(generation)
    counts = [
        f"(SELECT count(*) FROM (SELECT FROM {TABLE} WHERE generation = {at} AND {where} "
        f"LIMIT {FEW_REPORTED}) AS slice)"
        for where in _reported_slice_list(add, wanted.reported_from, wanted.reported_to)
    ]
    return "SELECT " + " + ".join(counts), add.values


async def _gathers(connection: asyncpg.Connection, generation: int, wanted: TimelineFilter) -> bool:
    if wanted.reported_from is None and wanted.reported_to is None:
        return False
    query, arguments = few_reported_query(generation, wanted)
    return int(await connection.fetchval(query, *arguments)) < FEW_REPORTED


# --- walking or gathering a class's tagged rows -----------------------------------------------
#
# Each tag names its span class, so two tags of a page's filter are never independent: a row
# holding "source:x@3" is of class 3, and so is one holding "verification:y@3". The planner
# multiplies their frequencies over the whole table all the same, and guesses a pair common
# in its class (a source's unverified open-ended totals) to be rare: at 10^6 events it
# expected 373 rows of 14,665, gathered them all by the tags' index and sorted them (55 ms),
# where walking the class in order finds a page's 21 in about 150. So for a filter of two
# tags or more, each class's matches are estimated from the same statistics, frequencies
# taken within the class, and a class whose walk reads fewer rows than its gathering would is
# walked: read by a query of its own, planned with no other way open to it (`page_at`). The
# statistics are read at most once a minute.

STATISTICS_SECONDS = 60.0
# Inside the page's transaction: the walked classes are read by the order's index alone.
WALK_ONLY = (
    "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off"
)
WALK_OR_GATHER = "RESET enable_bitmapscan; RESET enable_seqscan; RESET enable_sort"
TAG_STATISTICS = """
SELECT (SELECT reltuples FROM pg_class WHERE oid = to_regclass('timeline_entries')),
    (SELECT most_common_elems::text::text[] FROM pg_stats
     WHERE schemaname = current_schema() AND tablename = 'timeline_entries' AND attname = 'tags'),
    (SELECT most_common_elem_freqs FROM pg_stats
     WHERE schemaname = current_schema() AND tablename = 'timeline_entries' AND attname = 'tags'),
    (SELECT most_common_vals::text::int[] FROM pg_stats WHERE schemaname = current_schema()
     AND tablename = 'timeline_entries' AND attname = 'occurred_span'),
    (SELECT most_common_freqs FROM pg_stats WHERE schemaname = current_schema()
     AND tablename = 'timeline_entries' AND attname = 'occurred_span')
"""


class TagStatistics(NamedTuple):
    """What PostgreSQL's statistics say of the timeline's tags and span classes."""

    rows: float  # in the table, every generation
    tags: dict[str, float]  # a tag's share of the rows (its most common ones)
    spans: dict[int, float]  # a span class's share of the rows
    least: float  # the share of a tag not among the most common: at most this


NO_STATISTICS = TagStatistics(0.0, {}, {}, 0.0)
_statistics: tuple[float, TagStatistics] | None = None


async def tag_statistics(connection: asyncpg.Connection) -> TagStatistics:
    """The statistics, read at most once every STATISTICS_SECONDS by this process."""
    global _statistics  # noqa: PLW0603 (one per process, like the planner's own)
    now = time.monotonic()
    if _statistics is None or now - _statistics[0] > STATISTICS_SECONDS:
        row = await connection.fetchrow(TAG_STATISTICS)
        _statistics = (now, NO_STATISTICS if row is None else _read_statistics(*row))
    return _statistics[1]


def _read_statistics(
    rows: float | None,
    elements: list[str] | None,
    element_shares: list[float] | None,
    spans: list[int] | None,
    span_shares: list[float] | None,
) -> TagStatistics:
    if not rows or not elements or not element_shares or not spans or not span_shares:
        return NO_STATISTICS
    # most_common_elem_freqs ends with the least and greatest share, then the null share
    tags = dict(zip(elements, element_shares, strict=False))
    return TagStatistics(
        rows=float(rows),
        tags=tags,
        spans=dict(zip(spans, span_shares, strict=False)),
        least=min(tags.values()),
    )


def walks(statistics: TagStatistics, wanted: TimelineFilter, limit: int) -> frozenset[int]:
    """The span classes whose first `limit` matches of `wanted` are found sooner by walking
    the class in order than by gathering its rows that hold the filter's tags: those whose
    estimated matches outnumber the rows a walk reads to find `limit` of them. No class when
    a reporting range is asked: it narrows the matches by another index, which a walk in the
    order of occurrence cannot use."""
    if wanted.reported_from is not None or wanted.reported_to is not None:
        return frozenset()
    walked = set()
    for span, share in statistics.spans.items():
        required = _required_tags(wanted, span)
        if len(required) < 2 or share <= 0:
            continue  # one tag: the planner's guess is the statistics' own
        density = 1.0
        for tag in required:
            density *= min(statistics.tags.get(tag, statistics.least) / share, 1.0)
        matches = statistics.rows * share * density
        if density > 0 and limit / density < matches:
            walked.add(span)
    return frozenset(walked)


def _required_tags(wanted: TimelineFilter, span: int) -> tuple[str, ...]:
    kinds = None if wanted.kinds is None else sorted(wanted.kinds)
    return tags_of(
        kinds[0] if kinds is not None and len(kinds) == 1 else None,
        None if wanted.region is None else slug(wanted.region),
        () if wanted.actor is None else (slug(wanted.actor),),
        None if wanted.source is None else wanted.source.casefold(),
        wanted.verification,
        span,
    )


async def page_at(
    connection: asyncpg.Connection,
    generation: int,
    wanted: TimelineFilter,
    after: str | None,
    limit: int,
    *,
    walked: Collection[int] | None = None,
    past: Past | None = None,
) -> list[bytes]:
    """Up to `limit` documents of `generation` after the sort key `after` that pass
    `wanted`, in order (with `past`, as they stood then). `walked`: the span classes to walk
    in order (None: as `walks` says from the statistics; none when the page gathers a
    reporting range). The statistics and the count that decide how are the entries' (the
    rows now), for a question about the past too: they choose the plan, not the rows."""
    gather = await _gathers(connection, generation, wanted)
    if past is not None:
        replaced = await connection.fetchval(REPLACED_AFTER, generation, past.position)
        past = past._replace(few_replaced=replaced < FEW_REPLACED)
    if gather:
        walked = ()
    elif walked is None:
        walked = walks(await tag_statistics(connection), wanted, limit)
    if not walked:
        query, arguments = page_query(generation, wanted, after, limit, gather=gather, past=past)
        return [row["doc"].encode() for row in await connection.fetch(query, *arguments)]
    # The classes to walk, in a query where nothing else is possible; then the others.
    query, arguments = page_query(generation, wanted, after, limit, spans=walked, past=past)
    await connection.execute(WALK_ONLY)
    found = await connection.fetch(query, *arguments)
    await connection.execute(WALK_OR_GATHER)
    others = [span for span in range(OPEN_START + 1) if span not in walked]
    query, arguments = page_query(generation, wanted, after, limit, spans=others, past=past)
    found += await connection.fetch(query, *arguments)
    found.sort(key=lambda row: (row["occurred_at"], row["reported_at"], row["filed_at"]))
    return [row["doc"].encode() for row in found[:limit]]


async def page(pool: asyncpg.Pool, wanted: TimelineFilter, after: str | None, limit: int) -> Page:
    """The serving generation's rows after the sort key `after` that pass `wanted`, up to
    `limit`, and the sort key to continue after if more pass. Raises ValueError if `after`
    is not a sort key."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        serving = await connection.fetchrow(SERVING, TimelineView.name)
        if serving is None:
            return Page(0, [], None)
        found = await page_at(connection, serving["generation"], wanted, after, limit + 1)
    documents = found[:limit]
    next_after = sort_key_in(documents[-1]) if len(found) > limit else None
    return Page(serving["position"], documents, next_after)


class _SortKey(msgspec.Struct):
    sort_key: str


def sort_key_in(document: bytes) -> str:
    """The sort key of a row as stored (its other fields are skipped, not decoded)."""
    return msgspec.json.decode(document, type=_SortKey).sort_key


# --- sources and regions -------------------------------------------------------------------


class SourceGroup(NamedTuple):
    """The reports of one source that agree on everything a source's summary counts."""

    source: str
    kind: str
    verification: str
    side: str
    outlet: str | None
    retracted: bool
    reports: int
    first_key: str


class RegionGroup(NamedTuple):
    """The standing reports about one region that agree on everything its summary counts."""

    region_key: str
    region: str
    country: str | None
    kind: str
    actors: tuple[str, ...]
    reports: int
    first_key: str


SOURCE_GROUPS_OF = """
SELECT source, kind, verification, side, outlet, retracted, count(*),
    min(report_id::text COLLATE "C")
FROM {rows} WHERE generation = $1
GROUP BY source, kind, verification, side, outlet, retracted
"""
REGION_GROUPS_OF = """
SELECT region_key, region, country, kind, actors, count(*), min(report_id::text COLLATE "C")
FROM {rows} WHERE generation = $1 AND region_key IS NOT NULL AND NOT retracted
GROUP BY region_key, region, country, kind, actors
"""
SOURCE_GROUPS = SOURCE_GROUPS_OF.format(rows=TABLE)
REGION_GROUPS = REGION_GROUPS_OF.format(rows=TABLE)
# The rows at position $2 that had begun by $3 (NULL: whenever), for the sums of a question
# about the past.
_COLUMNS = ", ".join(COLUMNS)
ROWS_AT = f"""(
    SELECT {_COLUMNS} FROM {TABLE} WHERE generation = $1 AND changed_at <= $2
        AND occurred_at <= coalesce($3::timestamptz, 'infinity')
    UNION ALL
    SELECT {_COLUMNS} FROM {SUPERSEDED} WHERE generation = $1 AND {_held("$2")}
        AND occurred_at <= coalesce($3::timestamptz, 'infinity')
) AS at_position"""
SOURCE_GROUPS_AT = SOURCE_GROUPS_OF.format(rows=ROWS_AT)
REGION_GROUPS_AT = REGION_GROUPS_OF.format(rows=ROWS_AT)


async def _groups(pool: asyncpg.Pool, query: str) -> tuple[int, list[asyncpg.Record]]:
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        serving = await connection.fetchrow(SERVING, TimelineView.name)
        if serving is None:
            return 0, []
        return serving["position"], await connection.fetch(query, serving["generation"])


async def source_groups(pool: asyncpg.Pool) -> tuple[int, list[SourceGroup]]:
    """The serving generation's position and its source groups."""
    position, rows = await _groups(pool, SOURCE_GROUPS)
    return position, source_groups_in(rows)


def source_groups_in(rows: Iterable[asyncpg.Record]) -> list[SourceGroup]:
    """The source groups `SOURCE_GROUPS_OF` counted."""
    return [
        SourceGroup(
            source=as_given(row["source"]),
            kind=row["kind"],
            verification=row["verification"],
            side=row["side"],
            outlet=_as_given_or_none(row["outlet"]),
            retracted=row["retracted"],
            reports=row["count"],
            first_key=row["min"],
        )
        for row in rows
    ]


async def region_groups(pool: asyncpg.Pool) -> tuple[int, list[RegionGroup]]:
    position, rows = await _groups(pool, REGION_GROUPS)
    return position, region_groups_in(rows)


def region_groups_in(rows: Iterable[asyncpg.Record]) -> list[RegionGroup]:
    """The region groups `REGION_GROUPS_OF` counted."""
    return [
        RegionGroup(
            region_key=as_given(row["region_key"]),
            region=as_given(row["region"]),
            country=_as_given_or_none(row["country"]),
            kind=row["kind"],
            actors=tuple(map(as_given, row["actors"])),
            reports=row["count"],
            first_key=row["min"],
        )
        for row in rows
    ]


def _as_given_or_none(stored: str | None) -> str | None:
    return None if stored is None else as_given(stored)


def source_groups_of(rows: Iterable[TimelineRow]) -> list[SourceGroup]:
    """`source_groups` of rows at hand (a replay's)."""
    counted: Counter[tuple[str, str, str, str, str | None, bool]] = Counter()
    first: dict[tuple[str, str, str, str, str | None, bool], str] = {}
    for row in rows:
        group = (
            row.source,
            row.kind,
            row.verification.value,
            row.side.value,
            row.outlet,
            row.retracted,
        )
        counted[group] += 1
        key = str(row.report_id)
        first[group] = min(first.get(group, key), key)
    return [SourceGroup(*group, count, first[group]) for group, count in counted.items()]


def region_groups_of(rows: Iterable[TimelineRow]) -> list[RegionGroup]:
    counted: Counter[tuple[str, str, str | None, str, tuple[str, ...]]] = Counter()
    first: dict[tuple[str, str, str | None, str, tuple[str, ...]], str] = {}
    for row in rows:
        if row.region_key is None or row.region is None or row.retracted:
            continue
        group = (row.region_key, row.region, row.country, row.kind, row.actors)
        counted[group] += 1
        key = str(row.report_id)
        first[group] = min(first.get(group, key), key)
    return [RegionGroup(*group, count, first[group]) for group, count in counted.items()]
