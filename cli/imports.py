"""`timeline import FORMAT FILE...`: load a dataset file into the log, as reports of the
sources it compiles, corrected and retracted as later files revise it."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import msgspec

from application.imports import Format
from application.imports.importer import ImportAnswer, Outcome, RowOutcome, import_datasets
from application.imports.importing import read_import, summary
from application.imports.progress import no_progress
from application.imports.rows import SourceFile
from cli.commands import UsageError
from cli.progress import ImportProgress
from domain.errors import VersionConflict
from store.database import create_pool, resolve_database
from store.event_store import EventStore

DESCRIPTION = """\
Import a dataset file as reports, one per row (per date and category for a tally), each the
claim of the source the row names, with the dataset, release, row, licence and credit kept
as its provenance (`timeline explain` shows them). Each file holds a whole dataset: a row
whose figures changed since the last import records a correction, a row gone from the file a
retraction, an unchanged row nothing, so importing the same file twice writes nothing.
Every row is checked before anything is written: a bad row is listed (file, line, field,
message) and nothing is written (exit status 1) unless --skip-invalid is given. What is
written is written in one transaction.

Formats:
  gs-losses            the General Staff's daily running totals of Russian losses: give
                       russia_losses_equipment.json, russia_losses_personnel.json or both
                       (each file is told by its rows); each is a dataset of its own, so
                       importing one never retracts the other's rows
  economist-estimates  casualty_estimates_by_source.csv: each estimate is its named
                       source's claim, relayed by The Economist
  isw-area             area_assessed_as_russia_controlled.csv: the share (and km²) of
                       Ukraine ISW assesses as Russian-held, as occupation_share claims
  acled                an ACLED export (CSV): one report per event_id_cnty, as a clash,
                       an attack on civilians, a territorial change or an incident under
                       ACLED's own event type; an export is an excerpt, so only the events
                       in --deleted FILE (ACLED's deleted events: event_id_cnty,
                       deleted_timestamp) are retracted. Reported: the row's timestamp
  ucdp-ged             a UCDP GED release (CSV): one report per id, a clash (state-based,
                       non-state) or an attack on civilians (one-sided), low/best/high
                       kept. With --release NAME (e.g. 25.1) the file is that whole release,
                       and an event imported before and missing from it is retracted

A claim's reported time is the row's date (when its source published it); --vintage names
the release of the file (the date its publisher put it out), kept in each report's
provenance.
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = sub.add_parser(
        "import",
        help="import a dataset file (gs-losses, economist-estimates, isw-area, acled, ucdp-ged)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("format", metavar="FORMAT", choices=[f.value for f in Format])
    command.add_argument("files", metavar="FILE", nargs="+", type=Path)
    command.add_argument(
        "--vintage", metavar="DATE", help="the release date of the file, e.g. 2026-08-08"
    )
    command.add_argument(
        "--release",
        metavar="NAME",
        help="the release's name (ucdp-ged: the file is that whole release, e.g. 25.1)",
    )
    command.add_argument(
        "--deleted", metavar="FILE", type=Path, help="acled: ACLED's list of deleted events"
    )
    command.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    command.add_argument(
        "--skip-invalid",
        action="store_true",
        help="write the good rows, list the bad ones (and retract nothing)",
    )
    command.add_argument(
        "--json", action="store_true", help="the answer as JSON, with every row's outcome"
    )


async def run(args: argparse.Namespace) -> int:
    vintage = None
    if args.vintage is not None:
        try:
            vintage = date.fromisoformat(args.vintage)
        except ValueError:
            raise UsageError(
                f"--vintage expects a date as YYYY-MM-DD, got {args.vintage!r}"
            ) from None
    # A BadFile is printed as every TimelineError is (cli/main.py).
    files = [SourceFile.read(path) for path in args.files]
    deleted = None if args.deleted is None else SourceFile.read(args.deleted)
    datasets = await read_import(
        Format(args.format), files, vintage=vintage, release=args.release, deleted=deleted
    )
    pool = await create_pool(resolve_database(), min_size=1, max_size=2)
    # A bar for whoever watches a terminal; nothing in a pipe, a log, or beside --json.
    progress = ImportProgress(sys.stderr) if sys.stderr.isatty() and not args.json else None
    try:
        answer = await import_datasets(
            EventStore(pool),
            datasets,
            no_progress if progress is None else progress,
            dry_run=args.dry_run,
            skip_invalid=args.skip_invalid,
        )
    except VersionConflict:
        # The file goes in one append: a conflict leaves none of it written.
        raise UsageError(
            "another writer changed this dataset's reports meanwhile (an import of the same "
            "dataset running at the same time?); nothing was written: run the import again"
        ) from None
    finally:
        if progress is not None:
            progress.close()
        await pool.close()
    if args.json:
        sys.stdout.buffer.write(
            msgspec.json.encode(summary(Format(args.format), answer, dry_run=args.dry_run)) + b"\n"
        )
    else:
        _print(args, answer)
    return 1 if answer.refused and not args.skip_invalid else 0


def _where(row: RowOutcome) -> str:
    key = f" ({row.row})" if row.row else ""
    return f"{row.file}:{row.line}{key}"


def _print(args: argparse.Namespace, answer: ImportAnswer) -> None:
    for row in answer.refused:
        print(f"refused {_where(row)}: {row.field}: {row.message}", file=sys.stderr)
    counts = ", ".join(f"{count:,} {name}" for name, count in answer.counts.items())
    if answer.refused and not args.skip_invalid:
        verdict = "nothing written: fix the rows above, or pass --skip-invalid"
    elif args.dry_run:
        verdict = "dry run, nothing written"
    elif answer.written:
        verdict = f"written up to log position {answer.last_position}"
    else:
        verdict = "nothing to write"
    print(f"timeline import {args.format}: {counts}; {verdict}")
    if answer.count(Outcome.RETRACTED) or answer.count(Outcome.CORRECTED):
        for row in answer.rows:
            if row.outcome in (Outcome.CORRECTED, Outcome.RETRACTED):
                print(f"  {row.outcome.value} {row.row} (report {row.report_id})")
