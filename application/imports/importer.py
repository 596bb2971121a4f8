"""Importing a dataset: what each row means for the log, worked out in full before anything
is written, then written in one append (all of it, or none).

A row whose report does not exist yet is `added` (filed); one whose figures or dates differ
from its report's is `corrected` (the old values stay in the log); one that says what its
report says is `unchanged`; a report whose row is gone from a file that holds the whole
dataset, or whose row the dataset lists as deleted (ACLED), is `retracted`. So importing
the same file twice writes nothing, and a retry after a lost connection writes only what
the first attempt did not. A bad row is `refused`: without `skip_invalid` the import writes
nothing; with it, the rest is written, and nothing is retracted, since a refused row may be
one whose report still stands.

A re-import reads in full only the rows it must: a row whose fingerprint is the one kept
with its report's current version (store/import_rows.py) is `unchanged` without being read
into a report, and its report is not rebuilt from the log.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

import msgspec

from application.imports.identity import dataset_id_range, row_report_id
from application.imports.progress import CHECKING, EVERY, WRITING, Progress, no_progress
from application.imports.rows import BadRow, DatasetRows, KnownRow, SourceRow
from application.imports.sending import Sending, unwatched
from application.reports import decide_filing
from domain import report as rules
from domain.errors import DomainError, InvalidReport
from domain.events import DomainEvent
from domain.occurrence import Occurrence
from domain.report import Report
from store.collector import collector_paused
from store.event_store import EventStore
from store.import_rows import Known, ReadRow


class Outcome(StrEnum):
    ADDED = "added"
    CORRECTED = "corrected"
    RETRACTED = "retracted"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


class RowOutcome(msgspec.Struct, frozen=True, gc=False):
    outcome: Outcome
    file: str
    line: int | None  # None for a row gone from the file
    row: str | None
    report_id: UUID | None = None
    field: str | None = None
    message: str | None = None


@dataclass(slots=True)
class ImportAnswer:
    rows: list[RowOutcome] = field(default_factory=list)
    written: bool = False
    last_position: int | None = None

    def count(self, outcome: Outcome) -> int:
        return sum(1 for row in self.rows if row.outcome is outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {outcome.value: self.count(outcome) for outcome in Outcome}

    @property
    def refused(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.outcome is Outcome.REFUSED]


async def import_datasets(
    store: EventStore,
    datasets: list[DatasetRows],
    progress: Progress = no_progress,
    /,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    asked: Mapping[str, Awaitable[Known]] | None = None,
) -> ImportAnswer:
    """Check every row of every dataset, decide what each means for the log, and write it
    all in one append unless a row is refused (and `skip_invalid` is off) or `dry_run`;
    tell `progress` how far it has come. (`progress` is positional, so that the options
    alone are keywords: callers pass them as `**options`.) `asked` holds, by dataset scope,
    the fingerprints kept (ImportRows.known) if they were asked for already."""
    # A large file's rows, reports and outcomes are hundreds of thousands of objects, none in
    # a cycle, that the cyclic collector would walk again and again as they pile up (a
    # third of a re-import's time): paused meanwhile, as for a fold of the log.
    with collector_paused:
        return await _import_datasets(
            store,
            datasets,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            progress=progress,
            asked=asked or {},
        )


async def _import_datasets(
    store: EventStore,
    datasets: list[DatasetRows],
    *,
    dry_run: bool,
    skip_invalid: bool,
    progress: Progress,
    asked: Mapping[str, Awaitable[Known]],
) -> ImportAnswer:
    answer = ImportAnswer()
    events: list[DomainEvent] = []
    async with store.import_rows.remembering() as remembering, Sending(store) as sending:
        # A dry run keeps nothing; the rows' fingerprints are written as they are decided,
        # and kept once the append is.
        remember = _not_kept if dry_run else remembering.add
        for index, dataset in enumerate(datasets):
            if dataset.reader is not None:
                known = await (
                    asked[dataset.scope]
                    if dataset.scope in asked
                    else store.import_rows.known(*dataset_id_range(dataset.scope))
                )
                # The rows the log holds as they stand are set apart; the others are read
                # as they are decided, so that the parts decided first may be sent sooner.
                dataset = await asyncio.to_thread(  # noqa: PLW2901
                    dataset.sorted_out, known, progress
                )
                reports = await _imported_reports(store, dataset.scope, _needed(dataset, known))
            else:
                reports = await _imported_reports(store, dataset.scope)
            # Deciding the rows is the import's longest step: in slices of less than a
            # millisecond, the event loop's between them, so that a server's other
            # requests go on, the fingerprints are written meanwhile, and the events decided
            # may go to the log meanwhile too (application/imports/sending.py), but only
            # during the last dataset's, with nothing left to read. (In a thread, the loop
            # got the interpreter's lock every 5 ms only: the parts crawled to the server.)
            rows = len(dataset.rows) + len(dataset.known) + len(dataset.unread)
            decided = (
                sending.watch(events, rows, skip_invalid=skip_invalid)
                if index == len(datasets) - 1 and not dry_run
                else unwatched
            )
            for _ in _plan(
                dataset,
                reports,
                answer=answer,
                events=events,
                remember=remember,
                decided=decided,
                progress=progress,
            ):
                await asyncio.sleep(0)
        if (answer.refused and not skip_invalid) or dry_run:
            remembering.abandon()
            sending.abandon()
            return answer
        await remembering.flush()  # before the rest of the append, which then has the server
        if events:
            progress(WRITING, 0, len(events))
            result = await sending.finish(events)
            answer.written, answer.last_position = True, result.last_position
            progress(WRITING, len(events), len(events))
    return answer


def _not_kept(rows: list[ReadRow]) -> None:
    """Fingerprints of a dry run: none is written."""


def _needed(dataset: DatasetRows, known: Collection[str]) -> list[UUID] | None:
    """The reports a dataset read in part needs from the log: those of its rows to be
    read in full and of its deleted rows, or None for all of its range (a complete
    dataset retracts any report missing from it; and when most rows are read in full, one
    walk of the range costs less than looking each up)."""
    if dataset.complete or len(dataset.rows) + len(dataset.unread) > len(known):
        return None
    keys = [row.key for row in dataset.rows] + [row.key for row in dataset.unread]
    keys += [row.key for row in dataset.deleted]
    return [row_report_id(dataset.scope, key) for key in keys]


async def _imported_reports(
    store: EventStore, scope: str, only: list[UUID] | None = None
) -> dict[UUID, Report]:
    """The reports imported before from the dataset `scope` (`only` those, if given):
    those in its range of ids whose id is indeed the one their row gives (any other is
    somebody else's)."""
    first, last = dataset_id_range(scope)
    by_report: dict[UUID, list[DomainEvent]] = defaultdict(list)
    stored = (
        await store.read_id_range(first, last) if only is None else await store.read_reports(only)
    )
    for recorded in stored:
        by_report[recorded.event.originator_id].append(recorded.event)
    reports: dict[UUID, Report] = {}
    for report_id, events in by_report.items():
        report = rules.project_report(None, events)
        if report is None or report.attribution.provenance is None:
            continue
        if row_report_id(scope, report.attribution.provenance.row) == report_id:
            reports[report_id] = report
    return reports


def _refused(dataset: DatasetRows, bad: BadRow) -> RowOutcome:
    return RowOutcome(
        Outcome.REFUSED, dataset.file, bad.line, bad.row, None, bad.field, bad.message
    )


# Rows decided between two pauses for the event loop: about half a millisecond's work. The
# parts of an append sent meanwhile go to the server in socket-sized pieces, one per pause:
# 128 rows a slice took the import 9.1-9.6 s on 200,000 rows, 32 rows 7.9-9.2 s.
PLAN_SLICE = 32
# Fingerprints are handed on in batches of this many rows.
REMEMBER_EVERY = 8_192


def _plan(
    dataset: DatasetRows,
    reports: dict[UUID, Report],
    *,
    answer: ImportAnswer,
    events: list[DomainEvent],
    remember: Callable[[list[ReadRow]], None],
    decided: Callable[[int, bool], None],
    progress: Progress,
) -> Iterator[None]:
    """Add to `events` those the dataset's rows mean for the log, each row's outcome to
    `answer` (in the order of the file, refused rows last); hand `remember`, in batches,
    the rows to remember each report's version by; tell `decided`, now and then, how many
    rows are decided and whether one was refused. Pauses (yields) every PLAN_SLICE rows
    read or decided, and every EVERY rows."""
    read: list[ReadRow] = []
    refused = [_refused(dataset, bad) for bad in dataset.bad]
    seen: dict[UUID, SourceRow] = {}
    total, rows = dataset.in_file_order()
    worked = 0  # rows read or decided since the last pause (a row the log holds is neither)
    for done, row in enumerate(rows):
        if worked == PLAN_SLICE or done % EVERY == 0:
            yield
            worked = 0
            if done % EVERY == 0:
                progress(CHECKING, done, total)
                decided(done, bool(refused))
        if isinstance(row, KnownRow):
            answer.rows.append(
                RowOutcome(Outcome.UNCHANGED, dataset.file, row.line, row.key, row.report_id)
            )
            continue
        worked += 1
        if isinstance(row, BadRow):  # a row read only now, that cannot be read
            refused.append(_refused(dataset, row))
            continue
        report_id = row_report_id(dataset.scope, row.key)
        if report_id in seen:
            again = _again(dataset, seen[report_id], row, report_id)
            (answer.rows if again.outcome is Outcome.UNCHANGED else refused).append(again)
            continue
        seen[report_id] = row
        try:
            outcome, event = _decide(
                row, report_id, reports.get(report_id), dataset.file, dataset.published
            )
        except DomainError as error:
            where = error.field if isinstance(error, InvalidReport) else "row"
            message = error.message if isinstance(error, InvalidReport) else str(error)
            refused.append(
                RowOutcome(
                    Outcome.REFUSED, dataset.file, row.line, row.key, report_id, where, message
                )
            )
            continue
        answer.rows.append(RowOutcome(outcome, dataset.file, row.line, row.key, report_id))
        if event is not None:
            events.append(event)
        if row.fingerprint is not None:
            version = reports[report_id].version if event is None else event.originator_version
            read.append(ReadRow(report_id, row.key, version, row.fingerprint))
            if len(read) == REMEMBER_EVERY:
                remember(read)
                read = []
    remember(read)
    progress(CHECKING, total, total)
    answer.rows.extend(refused)
    if not refused:
        events.extend(_withdrawn(dataset, reports, seen.keys(), answer))
    decided(total, bool(refused))


def _again(dataset: DatasetRows, first: SourceRow, row: SourceRow, report_id: UUID) -> RowOutcome:
    """A row whose key came before: unchanged if it says the same (real files repeat a row
    now and then: ISW's 2026-04-04), else refused."""
    if _says_the_same(first, row):
        return RowOutcome(
            Outcome.UNCHANGED,
            dataset.file,
            row.line,
            row.key,
            report_id,
            message=f"repeats line {first.line}",
        )
    return RowOutcome(
        Outcome.REFUSED,
        dataset.file,
        row.line,
        row.key,
        None,
        "row",
        f"the same row as line {first.line}, with other figures",
    )


def _withdrawn(
    dataset: DatasetRows,
    reports: dict[UUID, Report],
    seen: Collection[UUID],
    answer: ImportAnswer,
) -> list[DomainEvent]:
    """Retractions of the reports whose rows the dataset withdrew: every row gone from a
    complete file, and the rows its list of deleted rows names (ACLED's)."""
    reasons: dict[UUID, tuple[int | None, str, Occurrence | None]] = {}
    if dataset.complete or dataset.deleted:
        # The rows the log holds as they stand are still in the file: made a set only when
        # something may be withdrawn (a set of 200,000 ids is a third of a re-import's plan).
        seen = set(seen).union(row.report_id for row in dataset.known)
    if dataset.complete:
        for report_id, report in reports.items():
            if report_id not in seen:
                reasons[report_id] = (
                    None,
                    f"row {_row_of(report)} is gone from {dataset.file}",
                    _published(report, dataset.published),
                )
    for deleted in dataset.deleted:
        report_id = row_report_id(dataset.scope, deleted.key)
        if report_id in reports and report_id not in seen:
            reasons[report_id] = (
                deleted.line,
                deleted.reason,
                _published(reports[report_id], deleted.published, dataset.published),
            )
    events: list[DomainEvent] = []
    live = [reports[report_id] for report_id in reasons if not reports[report_id].is_retracted]
    for report in sorted(live, key=_row_of):
        line, reason, published = reasons[report.id]
        events.append(rules.retract(report, reason=reason, reported=published))
        answer.rows.append(
            RowOutcome(Outcome.RETRACTED, dataset.file, line, _row_of(report), report.id)
        )
    return events


def _row_of(report: Report) -> str:
    provenance = report.attribution.provenance
    assert provenance is not None  # `_imported_reports` keeps only reports with one
    return provenance.row


def _says_the_same(first: SourceRow, again: SourceRow) -> bool:
    return (first.command.claim, first.command.occurred) == (
        again.command.claim,
        again.command.occurred,
    )


def _decide(
    row: SourceRow,
    report_id: UUID,
    report: Report | None,
    file: str,
    published: Occurrence | None,
) -> tuple[Outcome, DomainEvent | None]:
    if (
        report is not None
        and not report.is_retracted
        and row.command.claim == report.claim
        and row.command.occurred == report.occurred
    ):
        # What the log holds already passed every rule (its text is stored as checked):
        # a row equal to it need not be checked again, which makes a re-import cheap.
        return Outcome.UNCHANGED, None
    # Every rule is checked, whatever the row turns out to mean for the log.
    filing = decide_filing(row.command, report_id=report_id)
    if report is None:
        return Outcome.ADDED, filing
    if report.is_retracted:
        raise InvalidReport(
            "row",
            f"its report {report_id} was retracted (the row was gone from an earlier file), "
            "and a retraction is final: file the row anew by hand if it stands",
        )
    if filing.claim == report.claim and filing.occurred == report.occurred:
        return Outcome.UNCHANGED, None
    correction = rules.correct(
        report,
        claim=filing.claim,
        occurred=None if filing.occurred == report.occurred else filing.occurred,
        reason=f"row {row.key} changed in {file}",
        by=filing.attribution,
        reported=_published(report, filing.reported, published),
    )
    return Outcome.CORRECTED, correction


def _published(report: Report, *said: Occurrence | None) -> Occurrence | None:
    """When a change to `report` was published: the first of what the dataset says (the
    changed row's own reported time, the file's vintage, the deletion's time) that comes
    after the report's; none if nothing does (then it counts with the report)."""
    began, ended = report.reported.earliest(), report.reported.latest()
    for when in said:
        start = None if when is None else when.earliest()
        if start is None or began is None or ended is None:
            continue
        # After the report's own day (or instant): "the same day" says nothing new.
        if start > began and start >= ended:
            return when
    return None
