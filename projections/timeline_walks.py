"""Walking or gathering a span class's tagged rows, for a page of the timeline.

Each tag names its span class, so two tags of a page's filter are never independent: a row
holding "source:x@3" is of class 3, and so is one holding "verification:y@3". The planner
multiplies their frequencies over the whole table all the same, and guesses a pair common
in its class (a source's unverified open-ended totals) to be rare: at 10^6 events it
expected 373 rows of 14,665, gathered them all by the tags' index and sorted them (55 ms),
where walking the class in order finds a page's 21 in about 150. So for a filter of two
tags or more, each class's matches are estimated from the same statistics, frequencies
taken within the class, and a class whose walk reads fewer rows than its gathering would is
walked: read by a query of its own, planned with no other way open to it (`page_at`). The
statistics are read at most once a minute.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import asyncpg

from projections.timeline_query import TimelineFilter, required_tags

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
        required = required_tags(wanted, span)
        if len(required) < 2 or share <= 0:
            continue  # one tag: the planner's guess is the statistics' own
        density = 1.0
        for tag in required:
            density *= min(statistics.tags.get(tag, statistics.least) / share, 1.0)
        matches = statistics.rows * share * density
        if density > 0 and limit / density < matches:
            walked.add(span)
    return frozenset(walked)
