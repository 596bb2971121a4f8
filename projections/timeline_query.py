"""The SQL of a page of the timeline, read by index (projections/timeline_pages.py runs it).

A page is the rows after a cursor that pass `TimelineFilter`, in `sort_key` order. The SQL
filter means what `timeline_matches` means, condition for condition (`_conditions`); what
it adds are bounds that follow from them, for the indexes:
- The order is walked per span class (projections/timeline_columns.py: a moment, a day, a
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
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import NamedTuple

import msgspec

from domain.attribution import Verification
from projections.row_keys import slug
from projections.timeline_columns import COLUMNS, LONG_SPAN, OPEN_START, SPANS, order_of, tags_of
from projections.timeline_entries import SUPERSEDED, TABLE
from projections.views.timeline import TimelineRow, timeline_matches

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
    required = required_tags(wanted, span)
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
    replaced after the position (`timeline_pages.FEW_REPLACED`), as near the head of the
    log: those are gathered, for a walk in order would read every replaced row to find none
    holding."""

    position: int
    valid_time: datetime | None
    few_replaced: bool = False


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


def held_at(at: str) -> str:
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
            (SUPERSEDED, f"{filed} AND {held_at(position)}"),
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


def required_tags(wanted: TimelineFilter, span: int) -> tuple[str, ...]:
    kinds = None if wanted.kinds is None else sorted(wanted.kinds)
    return tags_of(
        kinds[0] if kinds is not None and len(kinds) == 1 else None,
        None if wanted.region is None else slug(wanted.region),
        () if wanted.actor is None else (slug(wanted.actor),),
        None if wanted.source is None else wanted.source.casefold(),
        wanted.verification,
        span,
    )
