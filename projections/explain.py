"""Provenance: which reports, at which log positions, produced each figure a view shows.

An explanation is read off the view's own output, never recomputed: each row is rendered by
the view, and the report ids in its `Source` fields say which reports its figures come from
(`projections.figures`). Every report feeding the row (`core.feeding`, the very list
`render` was handed) is then placed by role:

- `current`: behind the figure the row leads with (holdings: the current area, or the peak
  when nobody gave a current one; damage: each source's latest total; forces: strength,
  target and the latest deployment; front: the latest rate; strikes and timeline: the
  report). A day of a history (holdings-series, forces-history, front-series) leads with
  none: each of its points is `shown`;
- `superseded`: still standing, but a later report of the same measure replaced it (the
  `current` one, else a later one the row still shows), as the 800 km² replaced the 1,376 km²
  peak as what Ukraine holds of Kursk Oblast. A superseded report may still back another
  figure (the peak): `shown_as` says which;
- `shown`: behind another figure only, with nothing later in its place;
- `retracted`: withdrawn, never counted;
- `not_counted`: standing, yet the view does not count it (a running total not yet known on
  the date asked).

"Later" is the order in which the view itself lets one report replace another: the engine's
order of occurrence, except for damage, where a total is as recent as the day it counts up
to (`damage.recency`). Each report also lists every change after its filing (corroborations,
disputes, denials, corrections, retractions) with its log position, so "corrected at 18" is
read off the log.

A KEY picks rows as a reader would type it: written as a row key (lower case, spaces as
hyphens: "Kursk Oblast" -> "kursk-oblast"), it picks the row of exactly that key; failing
that, every row in whose key its '/'-separated parts begin consecutive parts: "kursk" picks
"kursk-oblast/ukraine" (and, in forces, both "russia/kursk-oblast" and
"north-korea/kursk-oblast"), "kursk/ukr" picks "kursk-oblast/ukraine", and a report id's first
characters pick that report's row. A KEY that picks nothing is an `UnknownRow` naming the
nearest keys.

The rows come in key order; `explain_page` gives those of one `Page` (up to `limit` after a
key), each explained exactly as `explain` explains it, and renders only those.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from uuid import UUID

import asyncpg
import msgspec

from domain.attribution import Provenance, Side, Verification
from domain.events import ReportFiled
from domain.recorded import LogEntry, UnreadableEvent
from domain.summaries import claim_text, event_summary
from projections.core import View, ViewState, feeding, fold, render
from projections.figures import Figure, RowReading, read_row
from projections.history import keeps_versions, one_report_per_key
from projections.past_answers import (
    Snapshot,
    feeding_ids,
    folded,
    latest_feeding,
    row_keys,
    serving_cut,
    snapshot,
)
from projections.past_answers import (
    picked as picked_reports,
)
from projections.past_pages import own_rows_at
from projections.replay import (
    InvalidReplayQuestion,
    as_asked,
    check_question,
    fold_stored,
    known_by,
    valid_time,
)
from projections.tracked import Tracked, occurred_date
from store.event_store import MAX_POSITION, EventStore
from store.mapper import stored_topic

_encoder = msgspec.json.Encoder(order="sorted")
NEAREST = 5


class UnknownRow(InvalidReplayQuestion):
    """The KEY picks no row of the view; the message names the nearest keys."""


class ReportRole(StrEnum):
    """What a report does in a row (the module's docstring says how each is decided)."""

    CURRENT = "current"
    SUPERSEDED = "superseded"
    SHOWN = "shown"
    RETRACTED = "retracted"
    NOT_COUNTED = "not_counted"


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """Something that happened to a report after it was filed, where the log has it."""

    position: int
    recorded_at: datetime
    type: str  # the stored event name, as `timeline log` prints it: "report-corrected"
    summary: str


class Contribution(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One report feeding the row: who said it, how it stands, what it does in the row, and,
    for an imported report, the dataset row it came from (absent otherwise)."""

    report_id: UUID
    role: ReportRole
    shown_as: tuple[str, ...]  # the `Figure.field`s it is behind
    superseded_by: UUID | None
    summary: str
    date: str  # where it sits on the time axis (ISO, UTC)
    source: str
    outlet: str | None
    side: Side
    verification: Verification
    corrections: int
    retracted: bool
    filed_at_position: int
    last_changed_at_position: int
    recorded_at: datetime
    changes: tuple[Change, ...]
    provenance: Provenance | None = None


class RowExplanation(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    shown: bool  # False when the view shows no row (every report about it withdrawn)
    figures: tuple[Figure, ...]
    # In the engine's order of occurrence: every report feeding the row, or, when the
    # question caps them (`Page.reports`), those behind its figures and the most recent others.
    reports: tuple[Contribution, ...]
    reports_total: int  # how many reports feed the row


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """The question, as understood (as `replay.ReplayAnswer` carries it), and the rows."""

    view: str
    key: str | None  # as asked
    known_at: datetime | None  # in UTC
    position: int  # the answer reflects the events 1..position
    as_of: str | None
    rows: tuple[RowExplanation, ...]


def encode_explanation(explanation: Explanation) -> bytes:
    """Canonical JSON (keys sorted at every level, no spaces, no trailing newline)."""
    return _encoder.encode(explanation)


# --- the pure part ------------------------------------------------------------------------


def note_changes(
    changes: dict[UUID, list[Change]], state: ViewState, events: Iterable[LogEntry]
) -> None:
    """Add to `changes` the life-cycle events (all but filings) of reports the view follows.

    Called with events already folded into `state`, so their reports are known to it."""
    for recorded in events:
        if isinstance(recorded, UnreadableEvent):
            continue
        event = recorded.event
        if isinstance(event, ReportFiled) or event.originator_id not in state.reports:
            continue
        changes.setdefault(event.originator_id, []).append(
            Change(
                position=recorded.position,
                recorded_at=recorded.recorded_at,
                type=stored_topic(type(event)),
                summary=event_summary(event),
            )
        )


def explain_rows(
    view: View,
    state: ViewState,
    key: str | None = None,
    *,
    as_of: datetime | None = None,
    changes: Mapping[UUID, Sequence[Change]] | None = None,
) -> tuple[RowExplanation, ...]:
    """Every row of the folded `state` (or those `key` picks, see the module's rule), in key
    order, explained as of the valid time `as_of`. Without `changes` (see `note_changes`)
    each report's list of changes is empty; its counts and state are still shown."""
    keys = _row_keys(view, state, key, as_of)
    return tuple(_explained(view, state, k, as_of, changes or {}) for k in keys)


def _row_keys(view: View, state: ViewState, key: str | None, as_of: datetime | None) -> list[str]:
    keys = [k for k in sorted(state.by_key) if feeding(state, k, as_of)]
    return keys if key is None else picked(view.name, keys, key)


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """Which rows to explain: up to `limit` of them, in key order, after the key `after`;
    and of each row's reports, those behind its figures and the `reports` most recent
    (None: all of them)."""

    limit: int
    after: str | None = None
    reports: int | None = None


def page_keys(
    view: View, state: ViewState, key: str | None, page: Page, *, as_of: datetime | None = None
) -> tuple[list[str], bool]:
    """The keys of the rows `explain_rows` would explain that fall on `page`, and whether
    more follow. Without `key`, only the keys up to the page's end are looked at: a page
    costs its own rows, not the view's."""
    if key is not None:
        keys = _row_keys(view, state, key, as_of)
        start = 0 if page.after is None else bisect.bisect_right(keys, page.after)
        return keys[start : start + page.limit], start + page.limit < len(keys)
    ordered = sorted(state.by_key)
    start = 0 if page.after is None else bisect.bisect_right(ordered, page.after)
    chosen: list[str] = []
    for index in range(start, len(ordered)):
        k = ordered[index]
        if feeding(state, k, as_of):
            if len(chosen) == page.limit:
                return chosen, True
            chosen.append(k)
    return chosen, False


def explain_log(
    view_name: str,
    log: Iterable[LogEntry],
    key: str | None = None,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
) -> Explanation:
    """The explanation from `log` (events in log order), cut as `replay.answer` cuts it."""
    view = check_question(view_name, known_at, position, as_of)
    events = list(known_by(log, known_at=known_at, position=position))
    state, _ = fold(view, events)
    changes: dict[UUID, list[Change]] = {}
    note_changes(changes, state, events)
    rows = explain_rows(view, state, key, as_of=valid_time(as_of), changes=changes)
    return _explanation(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of)


def picked(view_name: str, keys: Sequence[str], asked: str) -> list[str]:
    """The keys `asked` picks (see the module's rule), or UnknownRow."""
    wanted = "/".join("-".join(part.lower().split()) for part in asked.split("/"))
    if wanted in keys:
        return [wanted]
    parts = wanted.split("/")
    hits = [key for key in keys if _begins(parts, key.split("/"))]
    if hits:
        return hits
    if not keys:
        raise UnknownRow(f"{view_name} has no rows to explain")
    nearest = (
        difflib.get_close_matches(wanted, keys, n=NEAREST, cutoff=0.6)
        or [key for key in keys if _near(wanted, key)][:NEAREST]
    )
    if nearest:
        raise UnknownRow(
            f"no row of {view_name} matches {asked!r}; did you mean {' or '.join(nearest)}?"
        )
    listed = ", ".join(keys[:NEAREST]) + (", ..." if len(keys) > NEAREST else "")
    raise UnknownRow(f"no row of {view_name} matches {asked!r}; its keys: {listed}")


def _words(key: str) -> list[str]:
    return key.replace("/", "-").split("-")


def _near(wanted: str, key: str) -> bool:
    """Whether a word of `wanted` is a likely misspelling of a word of `key` ("kurks")."""
    words = _words(key)
    return any(difflib.get_close_matches(word, words, cutoff=0.75) for word in _words(wanted))


def _begins(parts: Sequence[str], key_parts: Sequence[str]) -> bool:
    return any(
        all(k.startswith(p) for p, k in zip(parts, key_parts[start:], strict=False))
        for start in range(len(key_parts) - len(parts) + 1)
    )


def _explained(
    view: View,
    state: ViewState,
    key: str,
    as_of: datetime | None,
    changes: Mapping[UUID, Sequence[Change]],
    *,
    most: int | None = None,
    total: int | None = None,
) -> RowExplanation:
    """The row of `key` explained; with `most`, listing only the reports behind its figures
    and the `most` latest others (`total`: how many feed it, when `state` holds fewer)."""
    reports = feeding(state, key, as_of)
    row = render(view, state, key, as_of)
    reading = None if row is None else read_row(row, reports)
    figures = () if reading is None else reading.figures
    shown_as: dict[UUID, list[str]] = {}
    for figure in figures:
        for report_id in figure.report_ids:
            shown_as.setdefault(report_id, []).append(figure.field)
    placed = {} if reading is None else _placed(reports, reading, shown_as)
    listed = reports
    if most is not None and len(reports) > most:
        # The latest `most`, and whatever a figure stands on, however old: a report's role
        # depends only on it and the reports behind the figures, all of them listed.
        latest = len(reports) - most
        listed = [t for i, t in enumerate(reports) if i >= latest or t.report.id in shown_as]
    return RowExplanation(
        key=key,
        shown=row is not None,
        figures=figures,
        reports_total=len(reports) if total is None else total,
        reports=tuple(
            _contribution(
                tracked,
                placed.get(tracked.report.id, (_unplaced(tracked), None)),
                tuple(shown_as.get(tracked.report.id, ())),
                tuple(changes.get(tracked.report.id, ())),
            )
            for tracked in listed
        ),
    )


def _unplaced(tracked: Tracked) -> ReportRole:
    return ReportRole.RETRACTED if tracked.report.is_retracted else ReportRole.NOT_COUNTED


def _placed(
    reports: Sequence[Tracked], reading: RowReading, shown_as: Mapping[UUID, list[str]]
) -> dict[UUID, tuple[ReportRole, UUID | None]]:
    ordered = sorted(reports, key=reading.order)
    placed: dict[UUID, tuple[ReportRole, UUID | None]] = {}
    # Walked from the latest back, so that for each measure the nearest later standing
    # report that leads the row (else the nearest one it shows) is at hand: one pass, where
    # looking ahead from every report took time in the square of a row's reports (seconds
    # for a holding of thousands of claims).
    leading_after: dict[object, UUID] = {}
    shown_after: dict[object, UUID] = {}
    for tracked in reversed(ordered):
        report = tracked.report
        if report.is_retracted:
            placed[report.id] = ReportRole.RETRACTED, None
            continue
        measure = reading.measure(report)
        if report.id in reading.leading:
            placed[report.id] = ReportRole.CURRENT, None
        else:
            replacement = leading_after.get(measure) or shown_after.get(measure)
            if replacement is not None:
                placed[report.id] = ReportRole.SUPERSEDED, replacement
            elif report.id in shown_as:
                placed[report.id] = ReportRole.SHOWN, None
            else:
                placed[report.id] = ReportRole.NOT_COUNTED, None
        if report.id in reading.leading:
            leading_after[measure] = report.id
        if report.id in shown_as:
            shown_after[measure] = report.id
    return placed


def _contribution(
    tracked: Tracked,
    role: tuple[ReportRole, UUID | None],
    shown_as: tuple[str, ...],
    changes: tuple[Change, ...],
) -> Contribution:
    report = tracked.report
    attribution = report.attribution
    return Contribution(
        report_id=report.id,
        role=role[0],
        shown_as=shown_as,
        superseded_by=role[1],
        summary=claim_text(report.claim),
        date=occurred_date(report),
        source=attribution.source,
        outlet=attribution.outlet,
        side=attribution.side,
        verification=report.verification,
        corrections=report.corrections,
        retracted=report.is_retracted,
        filed_at_position=tracked.filed_at_position,
        last_changed_at_position=tracked.last_position,
        recorded_at=tracked.filed_recorded_at,
        changes=changes,
        provenance=attribution.provenance,
    )


# --- from the store -------------------------------------------------------------------------


async def explain(
    source: EventStore | asyncpg.Pool,
    view_name: str,
    key: str | None = None,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
    reports: int | None = None,
) -> Explanation:
    """The explanation of a view's rows (or those `key` picks) from the stored log, asked as
    `replay.replay` is asked: known at a time or a log position, as of a date; with
    `reports`, each row lists the reports behind its figures and that many latest others.

    Raises InvalidReplayQuestion as `replay` does, and its UnknownRow when `key` picks no row.
    From a pool, a view that keeps its reports' versions is explained from them, as
    `explain_page` does; otherwise the log is folded whole.
    """
    if isinstance(source, asyncpg.Pool):
        view = check_question(view_name, known_at, position, as_of)
        async with snapshot(source, view, known_at, position) as at:
            if at is not None:
                everything = Page(limit=MAX_POSITION, reports=reports)
                explanation, _ = await _page_from_versions(at, key, everything, known_at, as_of)
                return explanation
    view, state, changes = await _folded(source, view_name, known_at, position, as_of)
    when = valid_time(as_of)
    rows = tuple(
        _explained(view, state, k, when, changes, most=reports)
        for k in _row_keys(view, state, key, when)
    )
    return _explanation(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of)


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
    rows (projections/past_answers.py); otherwise the log is folded whole."""
    if isinstance(source, asyncpg.Pool):
        view = check_question(view_name, known_at, position, as_of)
        if key is None and one_report_per_key(view) and keeps_versions(view):
            found = await _page_of_own_rows(
                source, view, page, known_at=known_at, position=position, as_of=as_of
            )
            if found is not None:
                return found
        async with snapshot(source, view, known_at, position) as at:
            if at is not None:
                return await _page_from_versions(at, key, page, known_at, as_of)
    view, state, changes = await _folded(source, view_name, known_at, position, as_of)
    when = valid_time(as_of)
    keys, more = page_keys(view, state, key, page, as_of=when)
    rows = tuple(_explained(view, state, k, when, changes, most=page.reports) for k in keys)
    return _explanation(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of), more


async def _page_of_own_rows(
    pool: asyncpg.Pool,
    view: View,
    page: Page,
    *,
    known_at: datetime | None,
    position: int | None,
    as_of: datetime | date | None,
) -> tuple[Explanation, bool] | None:
    """A page of a view whose rows are each one report's and that keeps their versions (the
    strikes): the page's keys found by the versions' key index, and only its reports folded
    (projections/past_pages.py); None when the versions have not reached the cut."""
    when = valid_time(as_of)
    async with serving_cut(pool, view.name, known_at, position) as cut:
        if cut is None:
            return None
        keys, state, events = await own_rows_at(cut, view, page.after, page.limit + 1, when)
    chosen = keys[: page.limit]
    changes: dict[UUID, list[Change]] = {}
    note_changes(changes, state, events)
    rows = tuple(_explained(view, state, k, when, changes, most=page.reports) for k in chosen)
    explanation = _explanation(view, state, key=None, rows=rows, known_at=known_at, as_of=as_of)
    return explanation, len(keys) > page.limit


async def _page_from_versions(
    at: Snapshot,
    key: str | None,
    page: Page,
    known_at: datetime | None,
    as_of: datetime | date | None,
) -> tuple[Explanation, bool]:
    view, when = at.view, valid_time(as_of)
    keys = await row_keys(at, when)
    if key is not None:
        keys = picked(view.name, keys, key)
    start = 0 if page.after is None else bisect.bisect_right(keys, page.after)
    chosen = keys[start : start + page.limit]
    totals: dict[str, int] = {}
    if page.reports is None:
        ids = await feeding_ids(at, chosen, when)
    else:
        # What the rows' figures stand on, and each row's latest reports: never the
        # thousands of reports behind a long-disputed figure.
        totals, latest = await latest_feeding(at, chosen, when, page.reports)
        ids = list({*await picked_reports(at, when, chosen), *latest})
    state, events = await folded(at, ids)
    changes: dict[UUID, list[Change]] = {}
    note_changes(changes, state, events)
    rows = tuple(
        _explained(view, state, k, when, changes, most=page.reports, total=totals.get(k))
        for k in chosen
    )
    explanation = _explanation(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of)
    return explanation, start + page.limit < len(keys)


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


def _explanation(
    view: View,
    state: ViewState,
    *,
    key: str | None,
    rows: tuple[RowExplanation, ...],
    known_at: datetime | None,
    as_of: datetime | date | None,
) -> Explanation:
    return Explanation(
        view=view.name,
        key=key,
        known_at=None if known_at is None else known_at.astimezone(UTC),
        position=state.position,
        as_of=as_asked(as_of),
        rows=rows,
    )
