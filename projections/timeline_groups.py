"""The sums of the timeline's sources and regions, counted per group.

Sources and regions are counted per group in SQL and summed up by the caller; the same
groups are counted from replayed rows for questions about the past (`source_groups_of`),
so both sum up alike. A group's `first_key` is the least report id in it: rows taken in key
order, as a replay lists them, meet that group's values first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

import asyncpg

from projections.timeline_columns import COLUMNS, as_given
from projections.timeline_entries import SUPERSEDED, TABLE
from projections.timeline_query import SERVING, held_at
from projections.views.timeline import TimelineRow, TimelineView


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
    SELECT {_COLUMNS} FROM {SUPERSEDED} WHERE generation = $1 AND {held_at("$2")}
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
