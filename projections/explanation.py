"""Provenance: which reports, at which log positions, produced each figure a view shows,
worked out from a folded view (projections/explain.py reads it from the store).

An explanation is read off the view's own output, never recomputed: each row is rendered by
the view, and the report ids in its `Source` fields say which reports its figures come from
(`projections.figures`). Every report feeding the row (`core.feeding`, the very list
`render` was handed) is then placed by role:

- `current`: behind the figure the row leads with (holdings: the current area, or the peak
  when nobody gave a current one; damage and tallies: each source's latest total; forces:
  strength, target and the latest deployment; front: the latest rate; strikes and timeline:
  the report). A day or month of a history (holdings-series, forces-history, front-series,
  tallies-series) leads with none: each of its points is `shown`;
- `superseded`: still standing, but a later report of the same measure replaced it (the
  `current` one, else a later one the row still shows), as the 800 km² replaced the 1,376 km²
  peak as what Ukraine holds of Kursk Oblast. A superseded report may still back another
  figure (the peak): `shown_as` says which;
- `shown`: behind another figure only, with nothing later in its place;
- `retracted`: withdrawn, never counted;
- `not_counted`: standing, yet the view does not count it (a running total not yet known on
  the date asked).

"Later" is the order in which the view itself lets one report replace another: the engine's
order of occurrence, except for running totals (damage, tallies), where a total is as recent
as the day it counts up to (`running_totals.recency`). Each report also lists every change
after its filing (corroborations, disputes, denials, corrections, retractions) with its log
position, so "corrected at 18" is read off the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from domain.attribution import Provenance, Side, Verification
from domain.events import ReportFiled
from domain.recorded import LogEntry, UnreadableEvent
from domain.summaries import claim_text, event_summary
from projections.core import View, ViewState, feeding, fold, render
from projections.explain_keys import EarlierReports, keys_to_explain
from projections.replay import as_asked, check_question, known_by, valid_time
from projections.tracked import Tracked, occurred_date
from projections.views.figures import Figure, RowReading, read_row
from store.mapper import stored_topic

_encoder = msgspec.json.Encoder(order="sorted")


class _Unset:
    """`explained` was not handed the row: it renders it."""


UNSET = _Unset()


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


class RowExplanation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    key: str
    shown: bool  # False when the view shows no row (every report about it withdrawn)
    figures: tuple[Figure, ...]
    # In the engine's order of occurrence: every report feeding the row, or, when the
    # question caps them (`Page.reports`), those behind its figures and the most recent others.
    reports: tuple[Contribution, ...]
    reports_total: int  # how many reports feed the row
    # When the question caps the reports and earlier ones were left out: where the next
    # page of them starts (`explain_keys.EarlierReports`); absent otherwise.
    earlier_reports: str | None = None


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
    """Every row of the folded `state` (or those `key` picks: projections/explain_keys.py), in key
    order, explained as of the valid time `as_of`. Without `changes` (see `note_changes`)
    each report's list of changes is empty; its counts and state are still shown."""
    keys = keys_to_explain(view, state, key, as_of)
    return tuple(explained(view, state, k, as_of, changes or {}) for k in keys)


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
    return explanation_of(view, state, key=key, rows=rows, known_at=known_at, as_of=as_of)


def explained(
    view: View,
    state: ViewState,
    key: str,
    as_of: datetime | None,
    changes: Mapping[UUID, Sequence[Change]],
    *,
    most: int | None = None,
    total: int | None = None,
    before: EarlierReports | None = None,
    row: msgspec.Struct | _Unset | None = UNSET,
) -> RowExplanation:
    """The row of `key` explained; with `most`, listing only the reports behind its figures
    and the `most` latest others (`total`: how many feed it, when `state` holds fewer), or
    with `before` the `most` latest before that place; `row`: the row as the view shows it,
    when `state` holds only the reports to list (else it is rendered from them)."""
    reports = feeding(state, key, as_of)
    if isinstance(row, _Unset):
        row = render(view, state, key, as_of)
    reading = None if row is None else read_row(row, reports)
    figures = () if reading is None else reading.figures
    named: dict[UUID, list[str]] = {}
    for figure in figures:
        for report_id in figure.report_ids:
            named.setdefault(report_id, []).append(figure.field)
    shown_as = {report_id: list(fields) for report_id, fields in named.items()}
    if reading is not None and reading.counted:
        # A sum stands on every standing report it counts, though its figures name none.
        for tracked in reports:
            if not tracked.report.is_retracted:
                shown_as.setdefault(tracked.report.id, []).extend(reading.counted)
    placed = {} if reading is None else _placed(reports, reading, shown_as)
    listed, earlier = _listed(key, reports, named, most, before)
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
        earlier_reports=earlier,
    )


def _listed(
    key: str,
    reports: list[Tracked],
    named: Mapping[UUID, object],
    most: int | None,
    before: EarlierReports | None,
) -> tuple[list[Tracked], str | None]:
    """The reports a row lists: all; or the latest `most` (before `before`), and whatever a
    figure names, however old: a report's role depends only on it and the reports behind
    the figures, all of them listed. Then the cursor to the reports before those, if any."""
    if most is None:
        return reports, None
    window = reports
    if before is not None:
        place = (before.occurred, before.reported, before.filed_position)
        window = [t for t in reports if t.order < place]
    if len(window) <= most:
        earliest = None
    else:
        window = window[len(window) - most :]
        occurred, reported, filed_position = window[0].order
        earliest = EarlierReports(key, occurred, reported, filed_position).cursor()
    latest = {id(t) for t in window}
    return [t for t in reports if id(t) in latest or t.report.id in named], earliest


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


def explanation_of(
    view: View,
    state: ViewState,
    *,
    key: str | None,
    rows: tuple[RowExplanation, ...],
    known_at: datetime | None,
    as_of: datetime | date | None,
) -> Explanation:
    """The explained `rows` of the folded `state`, with the question as it was asked."""
    return Explanation(
        view=view.name,
        key=key,
        known_at=None if known_at is None else known_at.astimezone(UTC),
        position=state.position,
        as_of=as_asked(as_of),
        rows=rows,
    )
