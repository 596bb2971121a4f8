"""The use case both edges call: import dataset files as they came in (`timeline import`
reads them from disk, `POST /v1/imports` from the request), and the answer's one shape,
row by row, which `timeline import --json` prints and the route answers.
"""

from __future__ import annotations

import asyncio
from datetime import date

import msgspec

from application.imports import FINGERPRINTED, Format, read_files
from application.imports.identity import dataset_id_range
from application.imports.importer import ImportAnswer, Outcome, import_datasets
from application.imports.rows import DatasetRows, SourceFile
from store.collector import collector_paused
from store.event_store import EventStore


async def read_import(
    format: Format,
    files: list[SourceFile],
    *,
    vintage: date | None = None,
    release: str | None = None,
    deleted: SourceFile | None = None,
) -> list[DatasetRows]:
    """Read `files` as `format`: raises BadFile for a file that cannot be read at all. The
    rows of a format with fingerprints are left for the importer to read, but for the
    file's own checks (its encoding, its columns). Reading parses the whole file: in a
    thread, so a server's other requests go on (and `timeline import` reads before it
    connects, so a bad file is named first)."""
    with collector_paused:  # as the importer does (application/imports/importer.py)
        return await asyncio.to_thread(
            read_files, format, files, vintage, release_name=release, deleted=deleted, in_full=False
        )


async def import_files(
    store: EventStore,
    format: Format,
    files: list[SourceFile],
    *,
    vintage: date | None = None,
    release: str | None = None,
    deleted: SourceFile | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportAnswer:
    """Read `files` as `format` and import them (application/imports/importer.py): raises
    BadFile for a file that cannot be read at all, and VersionConflict when another writer
    changed the dataset's reports meanwhile; either way nothing was written."""
    # The fingerprints kept for a re-import are asked for while the file is read: the
    # server looks them up while Python parses.
    asked = {
        scope: asyncio.ensure_future(store.import_rows.known(*dataset_id_range(scope)))
        for scope in FINGERPRINTED.get(format, ())
    }
    try:
        datasets = await read_import(
            format, files, vintage=vintage, release=release, deleted=deleted
        )
        return await import_datasets(
            store, datasets, dry_run=dry_run, skip_invalid=skip_invalid, asked=asked
        )
    finally:
        # A bad file, or an import that failed before it needed them: not left running,
        # nor their error unread.
        for asking in asked.values():
            asking.cancel()
        await asyncio.gather(*asked.values(), return_exceptions=True)


class ImportedRow(msgspec.Struct, frozen=True, omit_defaults=True):
    """What one row of a file meant for the log: `outcome` is added, corrected, retracted,
    unchanged or refused; a refused row says which `field` and why (`message`)."""

    outcome: Outcome
    file: str
    line: int | None = None  # none for a row gone from a complete file (retracted)
    row: str | None = None  # the row's key in its dataset (an event id, a date/category)
    report_id: str | None = None
    field: str | None = None
    message: str | None = None


class ImportSummary(msgspec.Struct, frozen=True):
    """An import's answer: the counts of each outcome, whether anything was written and up
    to which log position, and every row's outcome."""

    format: Format
    dry_run: bool
    written: bool
    last_position: int | None
    counts: dict[str, int]
    rows: list[ImportedRow]


def summary(format: Format, answer: ImportAnswer, *, dry_run: bool) -> ImportSummary:
    return ImportSummary(
        format=format,
        dry_run=dry_run,
        written=answer.written,
        last_position=answer.last_position,
        counts=answer.counts,
        rows=[
            ImportedRow(
                outcome=row.outcome,
                file=row.file,
                line=row.line,
                row=row.row,
                report_id=None if row.report_id is None else str(row.report_id),
                field=row.field,
                message=row.message,
            )
            for row in answer.rows
        ],
    )
