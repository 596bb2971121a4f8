"""Timeline pages read from `timeline_entries` are the rows `timeline_matches` keeps, in
`sort_key` order, whatever the filters: instants at a range's end, days and months that end
where a range starts, intervals open at either end, retracted reports, names or slugs,
sources in any case, and a walk page by page with the cursor gives them all, once each.

Rows are written as a rebuild writes them (COPY lines) and as a runner does (upserts), half
each, so both writers are held to the same columns.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.attribution import Side, Verification
from domain.occurrence import Day, Instant, Interval, Month, Occurrence
from projections.row_keys import slug
from projections.row_stores import Generation, copy_rows
from projections.timeline_columns import OPEN_START
from projections.timeline_entries import TIMELINE_ENTRIES
from projections.timeline_pages import page_at, sort_key_in
from projections.timeline_query import TimelineFilter, page_query
from projections.tracked import anchor, iso
from projections.views.timeline import TimelineRow, _sortable

_canonical = msgspec.json.Encoder(order="sorted")
_generations = itertools.count(1_000)

KYIV = ZoneInfo("Europe/Kyiv")
MOSCOW_TIME = timezone(timedelta(hours=3))
KINDS = ("strike", "territory_control", "damage_tally", "deployment")
REGIONS = ("Kursk Oblast", "Zaporizhzhia Oblast", None)
ACTORS = (("Ukraine",), ("Russia", "North Korea"), ("Russia",))
SOURCES = ("Reuters", "REUTERS", "Governor Yevgeny Balitsky", "Kursk\x00Oblast staff")
ARTICLE_DAY = Day(on=date(2024, 11, 23))


def timeline_row(
    number: int,
    occurred: Occurrence,
    *,
    reported: Occurrence = ARTICLE_DAY,
    kind: str = "strike",
    region: str | None = "Kursk Oblast",
    actors: tuple[str, ...] = ("Ukraine",),
    source: str = "Reuters",
    verification: Verification = Verification.UNVERIFIED,
    retracted: bool = False,
) -> TimelineRow:
    """A row as `TimelineView.render` spells one (`sort_key`, times, slugs)."""
    earliest, latest = occurred.earliest(), occurred.latest()
    sort_key = f"{_sortable(anchor(occurred))}|{_sortable(anchor(reported))}|{number:012d}"
    return TimelineRow(
        report_id=UUID(int=number + 1),
        sort_key=sort_key,
        kind=kind,
        summary=f"report {number}",
        region=region,
        region_key=slug(region) if region else None,
        country="RU",
        actors=actors,
        actor_keys=tuple(slug(actor) for actor in actors),
        source=source,
        outlet="Reuters",
        side=Side.UKRAINE,
        verification=verification,
        occurred=occurred,
        occurred_from=None if earliest is None else iso(earliest),
        occurred_to=None if latest is None else iso(latest),
        reported=reported,
        reported_on=iso(anchor(reported)),
        caveats=(),
        corrections=0,
        retracted=retracted,
        filed_at_position=number,
        last_changed_at_position=number,
        recorded_at=datetime(2024, 11, 23, 18, tzinfo=UTC),
    )


async def _write(pool: asyncpg.Pool, rows: Sequence[TimelineRow]) -> Generation:
    """The rows in a generation of their own: the first half by COPY, the rest upserted."""
    generation = Generation("timeline", next(_generations), 0)
    half = len(rows) // 2

    async def lines() -> AsyncIterator[bytes]:
        for row in rows[:half]:
            yield TIMELINE_ENTRIES.line(generation, 0, str(row.report_id), row)

    async with pool.acquire() as connection, connection.transaction():
        await copy_rows(connection, TIMELINE_ENTRIES, lines())
        if rows[half:]:
            upserts = {str(row.report_id): row for row in rows[half:]}
            await TIMELINE_ENTRIES.upsert(connection, generation, 0, upserts)
    return generation


async def _walk(
    pool: asyncpg.Pool,
    generation: Generation,
    wanted: TimelineFilter,
    limit: int,
    gather: bool | frozenset[int] | None = None,
) -> list[bytes]:
    """Every page, following the cursor, as the API walks them: walked in order, or
    gathered and sorted, or as the API chooses (None), or with the given span classes
    walked in a query of their own (a set)."""
    documents: list[bytes] = []
    after: str | None = None
    async with pool.acquire() as connection, connection.transaction():
        while True:
            if gather is None or isinstance(gather, frozenset):
                found = await page_at(
                    connection, generation.generation, wanted, after, limit + 1, walked=gather
                )
            else:
                query, arguments = page_query(
                    generation.generation, wanted, after, limit + 1, gather=gather
                )
                found = [row["doc"].encode() for row in await connection.fetch(query, *arguments)]
            documents += found[:limit]
            if len(found) <= limit:
                return documents
            after = sort_key_in(found[limit - 1])


# As the API chooses; walked; gathered; every class walked on its own; some of them.
SHAPES: list[bool | frozenset[int] | None] = [
    None,
    False,
    True,
    frozenset(range(OPEN_START + 1)),
    frozenset({1, 3}),
]


def _expected(rows: Sequence[TimelineRow], wanted: TimelineFilter) -> list[bytes]:
    ordered = sorted(rows, key=lambda row: row.sort_key)
    return [_canonical.encode(row) for row in ordered if wanted.matches(row)]


# --- a catalogue of edges -------------------------------------------------------------------

AUG_1 = datetime(2024, 8, 1, tzinfo=UTC)
AUG_6 = datetime(2024, 8, 6, tzinfo=UTC)
AUG_7 = datetime(2024, 8, 7, tzinfo=UTC)
EDGES = [
    timeline_row(1, Instant(at=AUG_6)),  # a moment at a range's start: in
    timeline_row(2, Instant(at=AUG_7)),  # a moment at a range's end: out
    timeline_row(3, Day(on=date(2024, 8, 5))),  # a day that ends where a range starts: out
    timeline_row(4, Day(on=date(2024, 8, 6)), kind="territory_control"),
    timeline_row(5, Month(year=2024, month=7), kind="deployment"),  # ends on 1 August
    timeline_row(6, Month(year=2024, month=8), region="Zaporizhzhia Oblast"),
    timeline_row(7, Interval(start=Month(year=2023, month=7)), kind="damage_tally"),  # since
    timeline_row(8, Interval(end=Day(on=date(2024, 8, 6))), source="REUTERS"),  # until
    timeline_row(9, Interval(end=Instant(at=AUG_6))),  # until a moment, open at its start
    timeline_row(10, Instant(at=AUG_6), retracted=True, verification=Verification.RETRACTED),
    timeline_row(11, Instant(at=AUG_6.astimezone(KYIV)), actors=("Russia", "North Korea")),
    timeline_row(12, Interval(start=Day(on=date(2024, 8, 6)), end=Day(on=date(2024, 9, 30)))),
    timeline_row(13, Instant(at=AUG_1), reported=Instant(at=AUG_6), source="Kursk\x00Oblast staff"),
    timeline_row(14, Day(on=date(2024, 8, 6)), reported=Interval(start=Day(on=date(2024, 8, 7)))),
]
CATALOGUE = [
    TimelineFilter(),
    TimelineFilter(occurred_from=AUG_6, occurred_to=AUG_7),
    TimelineFilter(occurred_from=AUG_6),
    TimelineFilter(occurred_to=AUG_6),
    TimelineFilter(occurred_from=AUG_1, occurred_to=AUG_1),
    TimelineFilter(occurred_from=AUG_7, occurred_to=AUG_6),
    TimelineFilter(reported_from=AUG_6, reported_to=AUG_7),
    TimelineFilter(reported_from=AUG_7),
    TimelineFilter(kinds=frozenset({"strike"}), occurred_from=AUG_6, occurred_to=AUG_7),
    TimelineFilter(kinds=frozenset({"deployment", "damage_tally"})),
    TimelineFilter(region="Kursk Oblast"),
    TimelineFilter(region="zaporizhzhia-oblast"),
    TimelineFilter(actor="North Korea"),
    TimelineFilter(actor="north-korea", region="KURSK OBLAST"),
    TimelineFilter(source="reuters"),
    TimelineFilter(source="kursk\x00oblast STAFF"),
    TimelineFilter(verification="retracted"),
    TimelineFilter(include_retracted=True, occurred_from=AUG_6, occurred_to=AUG_7),
    TimelineFilter(verification="unverified", source="Reuters", occurred_from=AUG_6),
]


@pytest.mark.parametrize("wanted", CATALOGUE)
async def test_each_edge_of_the_filters_is_where_timeline_matches_puts_it(
    pool: asyncpg.Pool, wanted: TimelineFilter
) -> None:
    generation = await _write(pool, EDGES)
    for limit, shapes in itertools.product((1, 3, 200), SHAPES):
        walked = await _walk(pool, generation, wanted, limit, shapes)
        assert walked == _expected(EDGES, wanted), (limit, shapes)


# --- drawn rows and filters -----------------------------------------------------------------

days = st.dates(date(2024, 7, 28), date(2024, 8, 10))
moments = st.builds(
    lambda day, minutes, zone: (
        datetime.combine(day, time(), UTC) + timedelta(minutes=minutes)
    ).astimezone(zone),
    days,
    st.sampled_from([0, 1, 21 * 60, 24 * 60 - 1]),
    st.sampled_from([UTC, MOSCOW_TIME, KYIV]),
)
bounds = st.one_of(
    st.builds(Instant, at=moments),
    st.builds(Day, on=days),
    st.sampled_from([Month(year=2024, month=7), Month(year=2024, month=8)]),
)


@st.composite
def occurrences(draw: st.DrawFn) -> Occurrence:
    match draw(st.sampled_from(["bound", "since", "until", "between"])):
        case "bound":
            return draw(bounds)
        case "since":
            return Interval(start=draw(bounds))
        case "until":
            return Interval(end=draw(bounds))
    start, end = sorted(draw(st.lists(bounds, min_size=2, max_size=2)), key=anchor)
    return Interval(start=start, end=end)


@st.composite
def rows(draw: st.DrawFn) -> list[TimelineRow]:
    drawn = []
    for number in range(draw(st.integers(1, 24))):
        verification = draw(st.sampled_from(list(Verification)))
        drawn.append(
            timeline_row(
                number,
                draw(occurrences()),
                reported=draw(st.one_of(st.builds(Day, on=days), occurrences())),
                kind=draw(st.sampled_from(KINDS)),
                region=draw(st.sampled_from(REGIONS)),
                actors=draw(st.sampled_from(ACTORS)),
                source=draw(st.sampled_from(SOURCES)),
                verification=verification,
                retracted=verification == Verification.RETRACTED,
            )
        )
    return drawn


range_ends = st.one_of(st.none(), moments, days.map(lambda day: datetime.combine(day, time(), UTC)))
filters = st.builds(
    TimelineFilter,
    kinds=st.one_of(st.none(), st.frozensets(st.sampled_from(KINDS), min_size=1)),
    region=st.sampled_from([None, "Kursk Oblast", "kursk-oblast", "Zaporizhzhia Oblast"]),
    actor=st.sampled_from([None, "Ukraine", "north-korea", "Russia"]),
    source=st.sampled_from([None, "reuters", "Governor Yevgeny Balitsky", "kursk\x00oblast staff"]),
    verification=st.one_of(st.none(), st.sampled_from([v.value for v in Verification])),
    occurred_from=range_ends,
    occurred_to=range_ends,
    reported_from=range_ends,
    reported_to=range_ends,
    include_retracted=st.booleans(),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=rows(), wanted=st.lists(filters, min_size=1, max_size=4), limit=st.integers(1, 5))
async def test_a_page_walk_from_the_table_is_the_rows_timeline_matches_keeps(
    pool: asyncpg.Pool, drawn: list[TimelineRow], wanted: list[TimelineFilter], limit: int
) -> None:
    # Given drawn rows in the table (the fixture empties it per test; each example writes a
    # generation of its own)
    generation = await _write(pool, drawn)
    for asked, shapes in itertools.product(wanted, SHAPES):
        # When the pages are walked, then they hold exactly the rows the filter keeps, in
        # order, whichever way each class is read
        walked = await _walk(pool, generation, asked, limit, shapes)
        assert walked == _expected(drawn, asked), shapes
