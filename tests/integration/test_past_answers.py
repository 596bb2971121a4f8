"""Past-tense answers read from the reports' versions are the replay's, byte for byte.

The versions are written by the real writers (a runner in batches, a rebuild in bulk), and
each answer is compared with `replay`, which folds the log: at log positions, at moments of
the recording (`known_at`), at dates of the war (`as_of`), and at both together.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from application.commands import CorrectReport, RetractReport
from application.reports import ReportService
from bench._generated_war import load_log
from domain.quantities import Unit, between
from projections import explain as explaining
from projections import timeline_groups, timeline_pages
from projections.core import View, fold, render_all
from projections.explain import explain, explain_page
from projections.explain_keys import EarlierReports, Page, UnknownRow
from projections.explanation import encode_explanation
from projections.history import Indexed, Pieced, indexed, picks_few, pieced
from projections.past_answers import at_or_under, past_answer
from projections.past_pages import groups_at, key_page, timeline_page
from projections.past_pieces import put_together_at
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.replay import answer_of, encode_answer, replay, valid_time
from projections.row_stores import read_rows, row_store
from projections.snapshots import snapshot
from projections.timeline_groups import (
    region_groups_in,
    region_groups_of,
    source_groups_in,
    source_groups_of,
)
from projections.timeline_query import TimelineFilter
from projections.version_picks import picked
from projections.views.timeline import TimelineRow
from seed.demo import load_demo
from store.event_store import EventStore
from tests.following import follow_to_head
from tests.seed_values import general_staff_tanks, tanks_lost_on_the_day, uk_mod_estimate

# The views whose past answers and explanations are read from versions.
INDEXED: list[Indexed] = [
    view for view in map(indexed, VIEWS.values()) if view is not None and picks_few(view)
]
PIECED: list[Pieced] = [v for v in map(pieced, VIEWS.values()) if v is not None]
# Its rows are each one report's: its explanation pages are found by its versions' keys.
STRIKES = VIEWS["strikes"]


async def _assert_rows_are_the_folds(pool: asyncpg.Pool, store: EventStore) -> None:
    log = await store.read_log(limit=100_000)
    for view in VIEWS.values():
        state, _ = fold(view, log)
        expected = {
            key: row_store(view.name).document(row).decode()
            for key, row in render_all(view, state).items()
        }
        assert dict(await read_rows(pool, view.name)) == expected, view.name


async def _pieces_kept(pool: asyncpg.Pool) -> tuple[int, int]:
    """How many views keep pieces with their versions, and how many versions of those views
    lack one."""
    row = await pool.fetchrow(
        "SELECT count(DISTINCT view) FILTER (WHERE piece IS NOT NULL), "
        "count(*) FILTER (WHERE piece IS NULL) FROM report_versions WHERE view = ANY($1)",
        [view.name for view in PIECED],
    )
    assert row is not None
    return row[0], row[1]


Question = tuple[int | None, datetime | None, date | datetime | None]


async def _assert_same_answers(
    pool: asyncpg.Pool, views: Sequence[Indexed], questions: Sequence[Question]
) -> None:
    for view in views:
        for position, known_at, as_of in questions:
            from_versions = await past_answer(
                pool, view.name, position=position, known_at=known_at, as_of=as_of
            )
            folded = await replay(
                pool, view.name, position=position, known_at=known_at, as_of=as_of
            )
            assert encode_answer(from_versions) == encode_answer(folded), (view.name, position)


async def _assert_put_together_as_replayed(
    pool: asyncpg.Pool, questions: Sequence[Question]
) -> None:
    """Each history's answer is put together from its versions' pieces (no fold of the log),
    and is the replay's."""
    for view in PIECED:
        for position, known_at, as_of in questions:
            async with snapshot(pool, view, known_at, position) as at:
                assert at is not None, view.name
                rows = await put_together_at(at, view, valid_time(as_of))
                assert rows is not None, view.name
                answer = answer_of(view, rows, at.position, known_at, as_of)
            folded = await replay(
                pool, view.name, position=position, known_at=known_at, as_of=as_of
            )
            assert encode_answer(answer) == encode_answer(folded), (view.name, position, as_of)
            # and asked for one series (a key's months), only its rows, read alone
            if not folded.rows:
                continue
            series = folded.rows[len(folded.rows) // 2].key.rsplit("/", 1)[0]
            one = await past_answer(
                pool, view.name, position=position, known_at=known_at, as_of=as_of, under=series
            )
            assert one.rows == tuple(r for r in folded.rows if at_or_under(series)(r.key))


# Filters a dashboard pages the timeline with: none; kinds; a region, the retracted too; an
# actor from a date on (a walk from the date's slice of each span class); a verification in
# a reporting range (gathered by the reporting index).
FILTERS = (
    TimelineFilter(),
    TimelineFilter(kinds=frozenset({"strike", "territory_control"})),
    TimelineFilter(region="Kursk Oblast", include_retracted=True),
    TimelineFilter(actor="ukraine", occurred_from=datetime(2024, 8, 6, tzinfo=UTC)),
    TimelineFilter(
        verification="unverified",
        reported_from=datetime(2024, 8, 1, tzinfo=UTC),
        reported_to=datetime(2024, 12, 1, tzinfo=UTC),
    ),
)


async def _assert_same_pages(
    pool: asyncpg.Pool, questions: Sequence[Question], *, limit: int
) -> None:
    """Every page of the timeline (with each of `FILTERS`) and of the strikes, found by
    their versions and only their own reports folded, walked to the end: the replay's rows,
    in its order, byte for byte."""
    encode = msgspec.json.Encoder(order="sorted").encode
    for position, known_at, as_of in questions:
        timeline = await replay(pool, "timeline", position=position, known_at=known_at, as_of=as_of)
        rows = sorted(
            (row.row for row in timeline.rows if isinstance(row.row, TimelineRow)),
            key=lambda row: row.sort_key,
        )
        for wanted in FILTERS:
            expected = [encode(row) for row in rows if wanted.matches(row)]
            walked: list[bytes] = []
            after: str | None = None
            while True:
                page = await timeline_page(
                    pool, wanted, after, limit, position=position, known_at=known_at, as_of=as_of
                )
                assert page is not None
                assert page.position == timeline.position
                assert len(page.documents) <= limit
                walked += page.documents
                if page.next_after is None:
                    break
                assert page.next_after == msgspec.json.decode(page.documents[-1])["sort_key"]
                after = page.next_after
            assert walked == expected, (wanted, position, known_at, as_of)
        # and the timeline's sums (sources, regions) are the replayed rows' too
        sums = (
            (timeline_groups.SOURCE_GROUPS_AT, source_groups_in, source_groups_of),
            (timeline_groups.REGION_GROUPS_AT, region_groups_in, region_groups_of),
        )
        for counted, read, of_rows in sums:
            found = await groups_at(
                pool, counted, position=position, known_at=known_at, as_of=as_of
            )
            assert found is not None
            assert found[0] == timeline.position
            assert sorted(map(repr, read(found[1]))) == sorted(map(repr, of_rows(rows))), (
                position,
                known_at,
                as_of,
            )
        strikes = await replay(pool, "strikes", position=position, known_at=known_at, as_of=as_of)
        walked_keys: list[tuple[str, bytes]] = []
        key: str | None = None
        while True:
            found = await key_page(
                pool, "strikes", key, limit, position=position, known_at=known_at, as_of=as_of
            )
            assert found is not None
            assert found.position == strikes.position
            walked_keys += [(key, encode(row)) for key, row in found.rows[:limit]]
            if len(found.rows) <= limit:
                break
            key = found.rows[limit - 1][0]
        assert walked_keys == [(row.key, encode(row.row)) for row in strikes.rows]


async def _explained(
    source: asyncpg.Pool | EventStore, view: str, key: str | None, page: Page, asked: Question
) -> tuple[bytes, bool]:
    position, known_at, as_of = asked
    explanation, more = await explain_page(
        source, view, key, page=page, position=position, known_at=known_at, as_of=as_of
    )
    return encode_explanation(explanation), more


@pytest.fixture
def log_folded_once_per_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's explanations fold the whole log for every page they give: pages of one
    view and question in a row reuse the last fold (the log does not change between them),
    so the test asks every page for the price of one fold per question."""
    fold = explaining._folded
    last: list[tuple[object, Any]] = []

    async def folded(
        source: EventStore | asyncpg.Pool,
        view_name: str,
        known_at: datetime | None,
        position: int | None,
        as_of: datetime | date | None,
    ) -> Any:
        asked = (source, view_name, known_at, position, as_of)
        if not last or last[0][0] != asked:
            last[:] = [(asked, await fold(source, view_name, known_at, position, as_of))]
        return last[0][1]

    monkeypatch.setattr(explaining, "_folded", folded)


async def _assert_same_explanations(
    pool: asyncpg.Pool, views: Sequence[View], questions: Sequence[Question]
) -> None:
    """Explanation pages from a pool (the versions) and from the store (the log's fold):
    every page of the whole view, and the rows a region's name picks."""
    store = EventStore(pool)
    for view in views:
        for asked in questions:
            after: str | None = None
            more = True
            shown: list[str] = []
            while more:
                page = Page(limit=3, after=after)
                from_versions = await _explained(pool, view.name, None, page, asked)
                assert from_versions == await _explained(store, view.name, None, page, asked)
                more = from_versions[1]
                shown += [row["key"] for row in msgspec.json.decode(from_versions[0])["rows"]]
                after = shown[-1] if more else None
            for most in (1, 4):
                capped = Page(limit=5, reports=most)
                from_versions = await _explained(pool, view.name, None, capped, asked)
                assert from_versions == await _explained(store, view.name, None, capped, asked)
                for row in msgspec.json.decode(from_versions[0])["rows"]:
                    behind_figures = {i for f in row["figures"] for i in f["report_ids"]}
                    listed = {report["report_id"] for report in row["reports"]}
                    assert behind_figures <= listed
                    if row["reports_total"] <= most:
                        assert len(listed) == row["reports_total"]
                    else:
                        assert len(listed - behind_figures) <= most
                    # and the row's earlier reports, a page back, alike
                    if "earlier_reports" in row:
                        before = EarlierReports.of_cursor(row["earlier_reports"])
                        back = Page(limit=5, reports=most, before=before)
                        earlier = await _explained(pool, view.name, None, back, asked)
                        assert earlier == await _explained(store, view.name, None, back, asked)
            # A region's name; and a row's whole key, and its first characters (a strike's
            # key is its report's id)
            typed = [shown[0], shown[-1][:3]] if shown else []
            for key in ("kursk", "donetsk/ukraine", *typed):
                try:
                    found = await _explained(pool, view.name, key, Page(limit=20), asked)
                except UnknownRow as unknown:
                    with pytest.raises(UnknownRow, match=re.escape(str(unknown))):
                        await _explained(store, view.name, key, Page(limit=20), asked)
                    continue
                assert found == await _explained(store, view.name, key, Page(limit=20), asked)


async def _file_losses(store: EventStore) -> None:
    """Three months of the General Staff's tank totals (one falling, one corrected, one
    withdrawn), increments beside them, and UK MoD's estimates of killed, ranges some: the
    generated war has no losses, and the tallies are kept from their versions too."""
    service = ReportService(store)
    days = [date(2023, 4, 1) + timedelta(days=n) for n in range(90)]
    # Three more tanks a day, but every eleventh day two fewer than the day before
    totals = [
        general_staff_tanks(3_600 + n * 3 - (5 if n % 11 == 0 else 0), day)
        for n, day in enumerate(days)
    ]
    increments = [tanks_lost_on_the_day(n % 7 + 1, day) for n, day in enumerate(days[::3])]
    estimates = [
        uk_mod_estimate(between(40_000 + n * 5_000, 60_000 + n * 5_000, Unit.PEOPLE), day)
        for n, day in enumerate(days[::30])
    ]
    filed = await service.file_many([*totals, *increments, *estimates])
    corrected, withdrawn = filed.events[10].report_id, filed.events[40].report_id
    await service.apply(
        corrected,
        CorrectReport(
            claim=general_staff_tanks(3_500, days[10]).claim, reason="the General Staff revised it"
        ),
    )
    await service.apply(withdrawn, RetractReport(reason="the General Staff withdrew it"))


@pytest.mark.usefixtures("log_folded_once_per_question")
async def test_a_generated_war_answers_the_past_from_its_versions_as_the_replay_does(
    pool: asyncpg.Pool, store: EventStore, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a generated war of 4,000 events (corrections, retractions, reports about days
    # long past) and three months of tallies of losses, each view kept by a runner in
    # batches of 97
    await load_log(database_url, events=4_000)
    await _file_losses(store)
    await follow_to_head(list(VIEWS.values()), pool, database_url)
    # (whose rows, kept from the versions batch by batch, are the fold's: the histories'
    # day rows put together from the pieces their versions keep)
    await _assert_rows_are_the_folds(pool, store)
    assert await _pieces_kept(pool) == (len(PIECED), 0)
    head = await store.position()
    rng = random.Random(11)
    began = date(2022, 2, 24)
    questions: list[Question] = [(None, None, None), (0, None, None), (head, None, None)]
    for _ in range(12):
        day = began + timedelta(days=rng.randrange(1_050))
        moment = datetime(2024, 11, 23, 18, 0, tzinfo=UTC) + timedelta(
            milliseconds=rng.randrange(head + 1)
        )
        questions += [
            (rng.randrange(head + 1), None, None),
            (None, moment, None),
            (None, None, day),
            (rng.randrange(head + 1), None, day),
            (None, moment, datetime.combine(day, datetime.min.time(), UTC)),
        ]

    # Then every past answer from the versions is the replay's, and so is every explanation
    # (a history's put together from its versions' pieces)
    await _assert_same_answers(pool, [*INDEXED, *PIECED], questions)
    await _assert_put_together_as_replayed(pool, questions)
    await _assert_same_explanations(pool, [*INDEXED, *PIECED, STRIKES], questions[::4])
    # and every page of the timeline and the strikes
    await _assert_same_pages(pool, questions[::5], limit=400)
    # (the timeline's replaced rows gathered, there being few; then walked in order)
    with monkeypatch.context() as walking:
        walking.setattr(timeline_pages, "FEW_REPLACED", 0)
        await _assert_same_pages(pool, questions[2::5], limit=400)

    # and so it is again once the views are rebuilt, their versions written in bulk
    await rebuild_views(pool, list(VIEWS.values()))
    await _assert_rows_are_the_folds(pool, store)
    await _assert_same_answers(pool, [*INDEXED, *PIECED], questions[:20])
    await _assert_put_together_as_replayed(pool, questions[:20])
    await _assert_same_pages(pool, questions[1::6], limit=400)


async def test_a_holding_needs_a_few_reports_whatever_the_length_of_its_history(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given a generated war of 6,000 events, its holdings built
    await load_log(database_url, events=6_000)
    holdings = next(view for view in INDEXED if view.name == "holdings")
    await rebuild_views(pool, [holdings])
    keys = await pool.fetchval("SELECT count(*) FROM view_rows WHERE view = 'holdings'")
    claims = await pool.fetchval(
        "SELECT count(DISTINCT report_id) FROM report_versions WHERE view = 'holdings'"
    )

    # When the past answer at the head of the log picks its reports
    async with snapshot(pool, holdings, None, None) as at:
        assert at is not None
        ids = await picked(at, None)

    # Then it picks at most three per holding (latest current, latest peak, highest
    # current), out of the hundreds of claims made about them
    assert claims > 20 * keys
    assert keys <= len(ids) <= 3 * keys


async def test_the_highest_claim_by_a_date_is_the_same_found_along_the_ranks_or_the_dates(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given a generated war of 6,000 events, its holdings built (a hundred or so claims
    # about each holding)
    await load_log(database_url, events=6_000)
    holdings = next(view for view in INDEXED if view.name == "holdings")
    await rebuild_views(pool, [holdings])
    head = await store.position()
    rng = random.Random(23)
    questions = [(head, None)] + [
        (rng.choice((head, rng.randrange(head + 1))), date(2022, 2, 24) + timedelta(days=day))
        for day in [0, 1, 3, *rng.sample(range(1_050), 20)]
    ]

    # Then, at each position and date, the reports picked are the same whether a claim's
    # highest is looked for down its ranks (few=0), among all the claims made by the date
    # (a large few), or either way, by how many there were
    for position, day in questions:
        async with snapshot(pool, holdings, None, position) as at:
            assert at is not None
            moment = valid_time(day)
            along_ranks = set(await picked(at, moment, few=0))
            assert set(await picked(at, moment, few=100_000)) == along_ranks, (position, day)
            assert set(await picked(at, moment, few=8)) == along_ranks, (position, day)
            assert set(await picked(at, moment)) == along_ranks, (position, day)


async def test_the_seed_article_answers_the_past_from_its_versions_at_every_position(
    pool: asyncpg.Pool, store: EventStore, database_url: str
) -> None:
    # Given the seed article's reports and their follow-ups, kept by the runners
    await load_demo(ReportService(store))
    await follow_to_head(list(VIEWS.values()), pool, database_url)
    await _assert_rows_are_the_folds(pool, store)
    head = await store.position()
    days: list[date | datetime | None] = [
        None,
        date(2024, 8, 6),
        date(2024, 9, 1),
        date(2024, 11, 22),
        datetime(2024, 11, 22, 20, 50, tzinfo=UTC),
        date(2024, 11, 23),
    ]

    # Then at every position of the log and for each date, the answers agree
    questions: list[Question] = [
        (position, None, day) for position in range(head + 1) for day in days
    ]
    await _assert_same_answers(pool, [*INDEXED, *PIECED], questions)
    await _assert_put_together_as_replayed(pool, questions)
    await _assert_same_explanations(pool, [*INDEXED, *PIECED, STRIKES], questions[::3])
    await _assert_same_pages(pool, questions, limit=2)
    # and `timeline explain`'s whole explanation too
    for view in [*INDEXED, *PIECED]:
        for position in (head // 2, None):
            whole = await explain(pool, view.name, position=position)
            folded = await explain(EventStore(pool), view.name, position=position)
            assert encode_explanation(whole) == encode_explanation(folded)
