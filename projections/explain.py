"""Explanations read from the store: a view's rows explained as they stood when asked
(known at a time or a log position, as of a date), the whole view or a page of it.

What an explanation says (each report's role, its changes) is projections/explanation.py's,
worked out from a folded view; which rows it is asked about is projections/explain_keys.py's.
Here the view is folded for the question: from a view's kept versions when it keeps them
(only the reports behind the rows asked about: projections/version_picks.py), else from the
whole log.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from domain.recorded import LogEntry
from projections.core import View, ViewState
from projections.explain_keys import (
    EarlierReports,
    Page,
    keys_to_explain,
    page_keys,
    picked,
    written_as_key,
)
from projections.explanation import (
    UNSET,
    Change,
    Explanation,
    explained,
    explanation_of,
    note_changes,
)
from projections.history import keeps_versions, one_report_per_key, pieced
from projections.past_pages import own_keys_at, own_rows_at, own_rows_of
from projections.past_pieces import put_together_at
from projections.replay import check_question, fold_stored, valid_time
from projections.snapshots import Snapshot, folded, serving_cut, snapshot
from projections.version_picks import feeding_ids, latest_feeding, row_keys
from projections.version_picks import picked as picked_reports
from projections.views.figures import read_row
from store.event_store import MAX_POSITION, EventStore


async def explain(
    source: EventStore | asyncpg.Pool,
    view_name: str,
    key: str | None = None,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
    reports: int | None = None,
    before: EarlierReports | None = None,
) -> Explanation:
    """The explanation of a view's rows (or those `key` picks) from the stored log, asked as
    `replay.replay` is asked: known at a time or a log position, as of a date; with
    `reports`, each row lists the reports behind its figures and that many latest others
    (with `before`, the row it names and its latest others before that place).

    Raises InvalidReplayQuestion as `replay` does, and its UnknownRow when `key` picks no row.
    From a pool, a view that keeps its reports' versions is explained from them, as
    `explain_page` does; otherwise the log is folded whole.
    """
    if before is not None:
        key = before.key
    if isinstance(source, asyncpg.Pool):
        view = check_question(view_name, known_at, position, as_of)
        everything = Page(limit=MAX_POSITION, reports=reports, before=before)
        if key is not None and one_report_per_key(view) and keeps_versions(view):
            found = await _page_of_own_rows(
                source, view, everything, key, known_at=known_at, position=position, as_of=as_of
            )
            if found is not None:
                return found[0]
        async with snapshot(source, view, known_at, position) as at:
            if at is not None:
                explanation, _ = await _page_from_versions(at, key, everything, known_at, as_of)
                return explanation
    view, state, changes = await _folded(source, view_name, known_at, position, as_of)
    when = valid_time(as_of)
    rows = tuple(
        explained(view, state, k, when, changes, most=reports, before=before)
        for k in keys_to_explain(view, state, key, when)
    )
    return explanation_of(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of)


async def explain_page(
    source: EventStore | asyncpg.Pool,
    view_name: str,
    key: str | None = None,
    *,
    page: Page,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
) -> tuple[Explanation, bool]:
    """`explain`, for the rows on `page` only (each explained exactly as `explain` explains
    it), and whether more rows follow. Only the page's rows are rendered and placed. From a
    pool, a view that keeps its reports' versions folds only the reports behind the page's
    rows (projections/version_picks.py); otherwise the log is folded whole."""
    if page.before is not None:  # the next reports of the one row it names
        key = page.before.key
    if isinstance(source, asyncpg.Pool):
        view = check_question(view_name, known_at, position, as_of)
        if one_report_per_key(view) and keeps_versions(view):
            found = await _page_of_own_rows(
                source, view, page, key, known_at=known_at, position=position, as_of=as_of
            )
            if found is not None:
                return found
        async with snapshot(source, view, known_at, position) as at:
            if at is not None:
                return await _page_from_versions(at, key, page, known_at, as_of)
    view, state, changes = await _folded(source, view_name, known_at, position, as_of)
    when = valid_time(as_of)
    keys, more = page_keys(view, state, key, page, as_of=when)
    rows = tuple(
        explained(view, state, k, when, changes, most=page.reports, before=page.before)
        for k in keys
    )
    return explanation_of(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of), more


async def _page_of_own_rows(
    pool: asyncpg.Pool,
    view: View,
    page: Page,
    key: str | None,
    *,
    known_at: datetime | None,
    position: int | None,
    as_of: datetime | date | None,
) -> tuple[Explanation, bool] | None:
    """A page of a view whose rows are each one report's and that keeps their versions (the
    strikes), or of the rows `key` picks: the page's keys found by the versions' key index,
    and only its reports folded (projections/past_pages.py); None when the versions have not
    reached the cut."""
    when = valid_time(as_of)
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            return None
        if key is None:
            keys, state, events = await own_rows_at(cut, view, page.after, page.limit + 1, when)
        else:
            # A key typed whole names its row; one typed in part (a report id's first
            # characters) is matched against every key, as the fold's explanation matches it.
            keys, state, events = await own_rows_of(cut, view, [written_as_key(key)], when)
            if not keys:
                every = picked(view.name, await own_keys_at(cut, view, when), key)
                start = 0 if page.after is None else bisect.bisect_right(every, page.after)
                chosen = every[start : start + page.limit + 1]
                keys, state, events = await own_rows_of(cut, view, chosen, when)
            elif page.after is not None and keys[0] <= page.after:
                keys = []  # the one row it names was on an earlier page
    chosen = keys[: page.limit]
    changes: dict[UUID, list[Change]] = {}
    note_changes(changes, state, events)
    rows = tuple(explained(view, state, k, when, changes, most=page.reports) for k in chosen)
    explanation = explanation_of(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of)
    return explanation, len(keys) > page.limit


async def _page_from_versions(
    at: Snapshot,
    key: str | None,
    page: Page,
    known_at: datetime | None,
    as_of: datetime | date | None,
) -> tuple[Explanation, bool]:
    view, when = at.view, valid_time(as_of)
    if key is None:
        # A page of the whole view: its keys and one more, found from the cursor on.
        keys = await row_keys(at, when, after=page.after, most=page.limit + 1)
        start = 0
    else:
        keys = picked(view.name, await row_keys(at, when), key)
        start = 0 if page.after is None else bisect.bisect_right(keys, page.after)
    chosen = keys[start : start + page.limit]
    totals: dict[str, int] = {}
    shown: dict[str, msgspec.Struct] | None = None
    before = None if page.before is None else page.before[1:]
    if page.reports is None:
        ids = await feeding_ids(at, chosen, when)
    else:
        # What the rows' figures stand on, and each row's latest reports: never the
        # thousands of reports behind a long-disputed figure. One more than listed, to
        # know whether earlier ones were left out.
        totals, latest = await latest_feeding(at, chosen, when, page.reports + 1, before)
        assembling = pieced(view)
        if assembling is not None:
            # A row put together from its pieces needs none of its reports folded (a month
            # of incidents sums thousands): only those its figures name, and those listed.
            shown = await put_together_at(at, assembling, when, chosen)
        if shown is None:
            ids = list({*await picked_reports(at, when, chosen), *latest})
        else:
            ids = list({*_named(shown.values()), *latest})
    state, events = await folded(at, ids)
    changes: dict[UUID, list[Change]] = {}
    note_changes(changes, state, events)
    rows = tuple(
        explained(
            view,
            state,
            k,
            when,
            changes,
            most=page.reports,
            total=totals.get(k),
            before=page.before,
            row=UNSET if shown is None else shown.get(k),
        )
        for k in chosen
    )
    explanation = explanation_of(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of)
    return explanation, start + page.limit < len(keys)


def _named(rows: Iterable[msgspec.Struct]) -> set[UUID]:
    """The reports the figures of put-together rows name (a history's points')."""
    return {i for row in rows for figure in read_row(row, ()).figures for i in figure.report_ids}


async def _folded(
    source: EventStore | asyncpg.Pool,
    view_name: str,
    known_at: datetime | None,
    position: int | None,
    as_of: datetime | date | None,
) -> tuple[View, ViewState, dict[UUID, list[Change]]]:
    view = check_question(view_name, known_at, position, as_of)
    changes: dict[UUID, list[Change]] = {}

    def note(state: ViewState, page: Sequence[LogEntry]) -> None:
        note_changes(changes, state, page)

    state = await fold_stored(
        source, view, known_at=known_at, position=position, after_each_page=note
    )
    return view, state, changes
