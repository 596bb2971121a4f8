"""A re-import reads in full only the rows the log does not already hold as they stand:
each row's fingerprint is kept beside its report's version, and a row whose fingerprint
matches is unchanged without being read into a report. Whatever changed the report since
(a revised row, a correction by hand, a fingerprint never kept) makes the row read in full,
with the outcome a full comparison gives."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest

from application.commands import CorrectReport
from application.imports import Format, acled, read_files
from application.imports.identity import row_report_id
from application.imports.importer import ImportAnswer, Outcome
from application.imports.importing import import_files
from application.imports.rows import BadFile, DatasetRows, KnownRow, SourceFile
from application.reports import ReportService
from domain.claims import Clash
from domain.quantities import Quantity, Unit
from store.event_store import EventStore
from tests.event_datasets import (
    ACLED_ROWS,
    BERDIANSK_SHELLING,
    PLEKHOVO_CLASH,
    acled_file,
)

PLEKHOVO = row_report_id("acled", "RUS1001")


class RowsRead:
    """How many rows were read in full into reports (acled's `_row`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = acled._row

        def counted(*args: Any) -> Any:
            self.count += 1
            return real(*args)

        monkeypatch.setattr(acled, "_row", counted)


async def _import(store: EventStore, path: Path) -> ImportAnswer:
    return await import_files(store, Format.ACLED, [SourceFile.read(path)])


def _outcomes(answer: ImportAnswer) -> dict[str | None, Outcome]:
    return {row.row: row.outcome for row in answer.rows}


async def test_a_reimport_finds_every_unchanged_row_by_its_fingerprint_without_reading_it(
    store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)
    first = await _import(store, export)
    rows_read = RowsRead(monkeypatch)

    again = await _import(store, export)

    assert first.counts["added"] == 4
    assert again.counts["unchanged"] == 4
    assert [row.line for row in again.rows] == [row.line for row in first.rows]
    assert again.written is False
    assert rows_read.count == 0


async def test_a_revised_row_alone_is_read_and_corrected_then_found_by_its_new_fingerprint(
    store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _import(store, acled_file(tmp_path, "acled.csv", (PLEKHOVO_CLASH, BERDIANSK_SHELLING)))
    revised = acled_file(
        tmp_path, "revised.csv", (PLEKHOVO_CLASH, BERDIANSK_SHELLING), fatalities=15
    )
    rows_read = RowsRead(monkeypatch)

    correction = await _import(store, revised)
    read_for_the_correction = rows_read.count
    again = await _import(store, revised)

    assert correction.counts["corrected"] == 1
    assert _outcomes(correction)["RUS1001"] is Outcome.CORRECTED
    assert read_for_the_correction == 1
    assert again.counts["unchanged"] == 2
    assert rows_read.count == 1


async def test_a_report_corrected_by_hand_since_is_read_in_full_and_corrected_back(
    store: EventStore, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)
    await _import(store, export)
    service = ReportService(store)
    clash = await service.get(PLEKHOVO)
    assert isinstance(clash.claim, Clash)
    by_hand = CorrectReport(
        claim=msgspec.structs.replace(clash.claim, fatalities=Quantity(unit=Unit.PEOPLE, value=40)),
        reason="an editor's own count",
    )
    await service.apply(PLEKHOVO, by_hand)

    again = await _import(store, export)

    assert _outcomes(again)["RUS1001"] is Outcome.CORRECTED
    assert again.counts == {
        "added": 0,
        "corrected": 1,
        "retracted": 0,
        "unchanged": 3,
        "refused": 0,
    }
    restored = await service.get(PLEKHOVO)
    assert restored.claim == clash.claim


async def test_reports_imported_before_fingerprints_were_kept_are_compared_then_remembered(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)
    await _import(store, export)
    await pool.execute("TRUNCATE timeline_import_rows")
    rows_read = RowsRead(monkeypatch)

    compared = await _import(store, export)
    read_to_compare = rows_read.count
    again = await _import(store, export)

    assert compared.counts["unchanged"] == again.counts["unchanged"] == 4
    assert read_to_compare == 4
    assert rows_read.count == 4  # the third import read none
    assert await pool.fetchval("SELECT count(*) FROM timeline_import_rows") == 4


async def test_a_dry_run_keeps_no_fingerprint(
    store: EventStore, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)
    answer = await import_files(store, Format.ACLED, [SourceFile.read(export)], dry_run=True)
    assert answer.counts["added"] == 4
    assert await pool.fetchval("SELECT count(*) FROM timeline_import_rows") == 0


def _unread(path: Path) -> DatasetRows:
    (dataset,) = read_files(Format.ACLED, [SourceFile.read(path)], None, in_full=False)
    return dataset


def test_a_key_repeated_in_the_file_is_read_in_full_whatever_its_fingerprint(
    tmp_path: Path,
) -> None:
    export = acled_file(tmp_path, "acled.csv", (PLEKHOVO_CLASH, BERDIANSK_SHELLING, PLEKHOVO_CLASH))
    read = _unread(export).read_in_full({})
    held = {
        row.key: (row_report_id("acled", row.key), row.fingerprint)
        for row in read.rows
        if row.fingerprint is not None
    }
    assert len(held) == 2

    partly = _unread(export).read_in_full(held)

    berdiansk = next(row for row in read.rows if row.key == "UKR2002")
    assert partly.known == (KnownRow(berdiansk.line, "UKR2002", row_report_id("acled", "UKR2002")),)
    assert [row.key for row in partly.rows] == ["RUS1001", "RUS1001"]


def _lookups_running() -> list[str]:
    """The fingerprint lookups (ImportRows.known) still running in this loop."""
    return [
        name
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and not task.done()
        if (name := getattr(task.get_coro(), "__qualname__", "")) == "ImportRows.known"
    ]


async def test_a_bad_file_leaves_no_lookup_of_fingerprints_running(
    store: EventStore, tmp_path: Path
) -> None:
    # The fingerprints are asked for while the file is read; the file has no event ids
    export = tmp_path / "acled.csv"
    export.write_text("event_date,location\n2024-11-21,Plekhovo\n", encoding="utf-8")

    with pytest.raises(BadFile, match="event_id_cnty"):
        await _import(store, export)

    assert _lookups_running() == []


async def test_an_import_that_fails_before_it_compares_leaves_no_lookup_running(
    store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the database's connections refused once the file is read
    export = acled_file(tmp_path, "acled.csv", ACLED_ROWS)

    def refused(self: object) -> object:
        raise ConnectionRefusedError("the database refused the connection")

    monkeypatch.setattr(type(store.import_rows), "remembering", refused)

    with pytest.raises(ConnectionRefusedError):
        await _import(store, export)

    assert _lookups_running() == []
