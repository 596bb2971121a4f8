"""Importing the real datasets into a real log: once, twice, and a revised file after."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from application.commands import FileReport
from application.imports import Format, read_format
from application.imports.identity import dataset_id_range, row_report_id
from application.imports.importer import ImportAnswer, Outcome, import_datasets
from application.reports import ReportService
from domain.attribution import Attribution, Provenance, Side, Verification
from domain.claims import Casualties, EquipmentLosses, OccupationShare
from domain.errors import VersionConflict
from domain.events import ReportCorrected, ReportFiled, ReportRetracted
from domain.occurrence import Day
from domain.quantities import Unit, about
from domain.report import Report
from projections.explain import explain
from projections.explanation import encode_explanation
from store.event_store import EventStore

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "imports"
EQUIPMENT = DATA / "russia_losses_equipment.json"
PERSONNEL = DATA / "russia_losses_personnel.json"
EQUIPMENT_ROWS = 20_687  # every (date, category) figure of the equipment file
PERSONNEL_ROWS = 1_688  # personnel every day, prisoners of war until 2022-04-27


async def _import(store: EventStore, format: Format, *paths: Path, **options: Any) -> ImportAnswer:
    vintage = options.pop("vintage", None)
    return await import_datasets(store, read_format(format, list(paths), vintage), **options)


async def _report(store: EventStore, scope: str, row: str) -> Report:
    return await ReportService(store).get(row_report_id(scope, row))


async def _tanks(store: EventStore, on: str) -> float | None:
    claim = (await _report(store, "gs-losses/equipment", f"{on}/tank")).claim
    assert isinstance(claim, EquipmentLosses)
    return claim.count.value


def _revised(tmp_path: Path) -> Path:
    """The equipment file as a later release might have it: the tank total of 2023-05-28
    corrected, and the last day withdrawn."""
    rows = json.loads(EQUIPMENT.read_text(encoding="utf-8"))
    for row in rows:
        if row["date"] == "2023-05-28":
            row["tank"] = 3_798
    revised = tmp_path / "russia_losses_equipment.json"
    revised.write_text(json.dumps([r for r in rows if r["date"] != "2026-08-08"]), "utf-8")
    return revised


async def test_the_general_staff_files_import_as_its_claims_of_the_23rd_of_november(
    store: EventStore,
) -> None:
    answer = await _import(store, Format.GS_LOSSES, EQUIPMENT, PERSONNEL)

    assert answer.counts == {
        "added": EQUIPMENT_ROWS + PERSONNEL_ROWS,
        "corrected": 0,
        "retracted": 0,
        "unchanged": 0,
        "refused": 0,
    }
    assert await store.position() == EQUIPMENT_ROWS + PERSONNEL_ROWS
    personnel = await _report(store, "gs-losses/personnel", "2024-11-23/personnel")
    assert isinstance(personnel.claim, Casualties)
    assert personnel.claim.total is not None
    assert personnel.claim.total.value == 729_720
    assert personnel.reported == Day(on=date(2024, 11, 23))
    assert personnel.attribution.source == "General Staff of the Armed Forces of Ukraine"
    assert await _tanks(store, "2024-11-23") == 9_419
    apcs = (await _report(store, "gs-losses/equipment", "2024-11-23/APC")).claim
    assert isinstance(apcs, EquipmentLosses)
    assert apcs.count.value == 19_192
    assert await _tanks(store, "2023-05-28") < await _tanks(store, "2023-05-27")  # type: ignore[operator]


async def test_importing_the_same_files_again_writes_nothing(store: EventStore) -> None:
    await _import(store, Format.GS_LOSSES, EQUIPMENT, PERSONNEL)
    position = await store.position()

    again = await _import(store, Format.GS_LOSSES, PERSONNEL, EQUIPMENT)

    assert again.counts["unchanged"] == EQUIPMENT_ROWS + PERSONNEL_ROWS
    assert again.count(Outcome.ADDED) == again.count(Outcome.CORRECTED) == 0
    assert not again.written
    assert await store.position() == position


async def test_importing_one_file_never_retracts_the_other_files_rows(store: EventStore) -> None:
    await _import(store, Format.GS_LOSSES, EQUIPMENT, PERSONNEL)

    alone = await _import(store, Format.GS_LOSSES, EQUIPMENT)

    assert alone.count(Outcome.RETRACTED) == 0
    assert alone.count(Outcome.UNCHANGED) == EQUIPMENT_ROWS


async def test_a_revised_file_corrects_the_changed_total_and_retracts_the_withdrawn_day(
    store: EventStore, tmp_path: Path
) -> None:
    await _import(store, Format.GS_LOSSES, EQUIPMENT)

    revised = await _import(store, Format.GS_LOSSES, _revised(tmp_path), vintage=date(2026, 8, 9))

    assert revised.count(Outcome.CORRECTED) == 1
    assert revised.count(Outcome.RETRACTED) == 14  # the categories of 2026-08-08
    assert revised.count(Outcome.UNCHANGED) == EQUIPMENT_ROWS - 15
    history = await ReportService(store).history(
        row_report_id("gs-losses/equipment", "2023-05-28/tank")
    )
    filed, corrected = (recorded.event for recorded in history.events)
    assert isinstance(filed, ReportFiled)
    assert isinstance(corrected, ReportCorrected)
    assert isinstance(filed.claim, EquipmentLosses)
    assert filed.claim.count.value == 3_797  # the old value stays in the log
    assert await _tanks(store, "2023-05-28") == 3_798
    assert corrected.by is not None
    assert corrected.by.provenance is not None
    assert corrected.by.provenance.release == "2026-08-09"
    last_day = await _report(store, "gs-losses/equipment", "2026-08-08/tank")
    assert last_day.verification is Verification.RETRACTED
    assert isinstance(
        (await ReportService(store).history(last_day.id)).events[-1].event, ReportRetracted
    )
    position = await store.position()
    assert not (await _import(store, Format.GS_LOSSES, _revised(tmp_path))).written
    assert await store.position() == position


async def test_a_retracted_row_that_comes_back_is_refused_and_nothing_is_written(
    store: EventStore, tmp_path: Path
) -> None:
    await _import(store, Format.GS_LOSSES, EQUIPMENT)
    await _import(store, Format.GS_LOSSES, _revised(tmp_path))
    position = await store.position()

    back = await _import(store, Format.GS_LOSSES, EQUIPMENT)

    assert back.count(Outcome.REFUSED) == 14
    assert all("retraction is final" in (row.message or "") for row in back.refused)
    assert not back.written
    assert await store.position() == position


async def test_a_file_with_bad_rows_writes_nothing_and_lists_each_of_them(
    store: EventStore,
) -> None:
    answer = await _import(store, Format.GS_LOSSES, FIXTURES / "gs-broken.json")

    assert [(row.line, row.field) for row in answer.refused] == [
        (9, "date"),
        (14, "tank"),
        (14, "claim.count.value"),  # APC -3: the domain's own rule, checked before writing
    ]
    assert not answer.written
    assert await store.position() == 0


async def test_skip_invalid_writes_the_good_rows_and_retracts_nothing(store: EventStore) -> None:
    await _import(store, Format.GS_LOSSES, EQUIPMENT)
    position = await store.position()

    answer = await _import(store, Format.GS_LOSSES, FIXTURES / "gs-broken.json", skip_invalid=True)

    assert answer.count(Outcome.REFUSED) == 3
    assert answer.count(Outcome.RETRACTED) == 0
    assert answer.count(Outcome.UNCHANGED) == 2  # 2024-11-23: 9,419 tanks, 19,192 APCs
    assert not answer.written
    assert await store.position() == position


async def test_a_dry_run_counts_what_it_would_write_and_writes_nothing(store: EventStore) -> None:
    answer = await _import(
        store, Format.ISW_AREA, DATA / "area_assessed_as_russia_controlled.csv", dry_run=True
    )

    assert answer.count(Outcome.ADDED) == 1_642
    assert answer.count(Outcome.UNCHANGED) == 1  # 2026-04-04, repeated word for word
    assert await store.position() == 0


async def test_the_isw_area_and_the_economist_estimates_keep_their_sources_and_credits(
    store: EventStore,
) -> None:
    await _import(store, Format.ISW_AREA, DATA / "area_assessed_as_russia_controlled.csv")
    estimates = await _import(
        store,
        Format.ECONOMIST_ESTIMATES,
        DATA / "casualty_estimates_by_source.csv",
        vintage=date(2026, 8, 10),
    )

    assert estimates.count(Outcome.ADDED) == 124
    share = await _report(store, "isw-area", "2024-11-23")
    assert isinstance(share.claim, OccupationShare)
    assert share.claim.share.value == pytest.approx(19.0, abs=0.01)
    assert share.claim.area is not None
    assert round(share.claim.area.value or 0) == 114_727
    assert share.attribution.provenance is not None
    assert share.attribution.provenance.credit == "Data © The Economist"
    uk = await _report(
        store, "economist-estimates", "2024-11-19/UK Ministry of Defence/casualties/russia"
    )
    assert uk.attribution.source == "UK Ministry of Defence"
    assert uk.attribution.outlet == "The Economist"
    assert uk.reported == Day(on=date(2024, 11, 19))
    assert uk.attribution.provenance is not None
    assert uk.attribution.provenance.release == "2026-08-10"


async def test_explaining_an_imported_report_shows_its_dataset_row_and_licence(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    await _import(store, Format.ISW_AREA, DATA / "area_assessed_as_russia_controlled.csv")
    report_id = row_report_id("isw-area", "2024-11-23")

    explanation = await explain(pool, "timeline", str(report_id))

    (row,) = explanation.rows
    (report,) = row.reports
    assert report.provenance == Provenance(
        dataset="TheEconomist/the-economist-ukraine-war-dead-and-wounded-estimates: "
        "area_assessed_as_russia_controlled.csv",
        row="2024-11-23",
        licence="CC BY 4.0",
        credit="Data © The Economist",
    )
    assert b'"provenance"' in encode_explanation(explanation)


async def test_a_report_filed_by_hand_inside_a_datasets_ids_is_left_alone(
    store: EventStore,
) -> None:
    # Given a report filed by hand whose id happens to fall in ISW's range of ids
    first, _ = dataset_id_range("isw-area")
    seed = ReportService(store)
    await seed.file(
        FileReport(
            claim=OccupationShare(occupier="Russia", country="UA", share=about(20, Unit.PERCENT)),
            attribution=Attribution(source="Reuters", side=Side.THIRD_PARTY),
            occurred=Day(on=date(2024, 11, 23)),
            reported=Day(on=date(2024, 11, 23)),
            report_id=first,
        )
    )

    # When ISW's file is imported, then that report is neither counted nor retracted
    answer = await _import(store, Format.ISW_AREA, DATA / "area_assessed_as_russia_controlled.csv")

    assert answer.count(Outcome.RETRACTED) == 0
    assert (await seed.get(first)).verification is Verification.UNVERIFIED


async def test_two_imports_of_one_file_at_once_write_it_once_and_the_other_is_refused(
    store: EventStore,
) -> None:
    # Given the Economist's estimates imported twice at the same moment (two editors),
    path = DATA / "casualty_estimates_by_source.csv"
    first, second = await asyncio.gather(
        _import(store, Format.ECONOMIST_ESTIMATES, path),
        _import(store, Format.ECONOMIST_ESTIMATES, path),
        return_exceptions=True,
    )

    # then one of them wrote the file, and the other, refused for a version it did not
    # expect, wrote nothing of it: each row is in the log once
    answers = [a for a in (first, second) if isinstance(a, ImportAnswer)]
    refused = [a for a in (first, second) if isinstance(a, BaseException)]
    assert len(answers) == 1, (first, second)
    assert [type(error) for error in refused] == [VersionConflict]
    filed = [e for e in await store.read_log(limit=10_000) if isinstance(e.event, ReportFiled)]
    assert len(filed) == answers[0].counts["added"] == len({e.event.originator_id for e in filed})
