"""Importing the event datasets, ACLED and UCDP GED, into a real log: each row a report of
its kind, a re-import that writes nothing, and revisions recorded as corrections and
retractions (ACLED's deleted events; a row missing from a complete GED release)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from application.imports import Format, read_format
from application.imports.identity import row_report_id
from application.imports.importer import ImportAnswer, Outcome, import_datasets
from application.reports import ReportService
from domain.attribution import Verification
from domain.claims import AttackOnCivilians, Clash, Incident, PlacePrecision, TerritorialChange
from domain.occurrence import Day, Instant, Interval, Month
from domain.report import Report
from store.event_store import EventStore
from tests.event_datasets import (
    ACLED_BROKEN_ROWS,
    ACLED_ROWS,
    BERDIANSK_ONE_SIDED,
    BERDIANSK_SHELLING,
    GED_BROKEN_ROWS,
    GED_ROWS,
    KURAKHOVE_FIGHTING,
    PLEKHOVO_CLASH,
    SUDZHA_CLASH,
    acled_deleted_file,
    acled_file,
    ged_file,
)


async def _acled(
    store: EventStore, path: Path, deleted: Path | None = None, *, skip_invalid: bool = False
) -> ImportAnswer:
    datasets = read_format(Format.ACLED, [path], None, deleted=deleted)
    return await import_datasets(store, datasets, skip_invalid=skip_invalid)


async def _ged(
    store: EventStore, path: Path, release: str | None = None, *, skip_invalid: bool = False
) -> ImportAnswer:
    datasets = read_format(Format.UCDP_GED, [path], None, release_name=release)
    return await import_datasets(store, datasets, skip_invalid=skip_invalid)


async def _report(store: EventStore, scope: str, row: str) -> Report:
    return await ReportService(store).get(row_report_id(scope, row))


async def test_an_acled_export_imports_each_event_as_a_report_of_its_kind(
    store: EventStore, tmp_path: Path
) -> None:
    answer = await _acled(store, acled_file(tmp_path, "acled.csv", ACLED_ROWS))

    assert answer.counts["added"] == 4
    clash = await _report(store, "acled", "RUS1001")
    shelling = await _report(store, "acled", "UKR2002")
    retaken = await _report(store, "acled", "RUS1003")
    looting = await _report(store, "acled", "UKR2004")
    assert isinstance(clash.claim, Clash)
    assert clash.claim.against_allies == ("Military Forces of North Korea (2011-)",)
    assert clash.claim.fatalities is not None
    assert clash.claim.fatalities.value == 12
    assert clash.claim.place.precision is PlacePrecision.EXACT
    assert clash.notes is not None
    assert '\nThe "Sever" group claimed' in clash.notes
    assert isinstance(clash.occurred, Day)
    assert isinstance(clash.reported, Instant)
    assert clash.reported.at.isoformat() == "2024-11-26T06:02:00+00:00"
    assert clash.attribution.provenance is not None
    assert clash.attribution.provenance.cited[0].entries == (
        "Ministry of Defence of Russia",
        "Ukrainska Pravda",
    )
    assert isinstance(shelling.claim, AttackOnCivilians)  # ACLED flags civilian targeting
    assert isinstance(shelling.occurred, Interval)  # time_precision 2: some day that week
    assert shelling.claim.place.precision is PlacePrecision.NEAR
    assert isinstance(retaken.claim, TerritorialChange)
    assert retaken.occurred == Month(year=2024, month=11)
    assert isinstance(looting.claim, Incident)
    assert looting.claim.classified_as.subcategory == "Looting/property destruction"
    assert isinstance(looting.reported, Day)


async def test_importing_the_same_acled_export_again_writes_nothing(
    store: EventStore, tmp_path: Path
) -> None:
    path = acled_file(tmp_path, "acled.csv", ACLED_ROWS)
    await _acled(store, path)
    position = await store.position()

    again = await _acled(store, path)

    assert again.counts["unchanged"] == 4
    assert not again.written
    assert await store.position() == position


async def test_a_later_acled_export_corrects_changed_events_and_retracts_the_deleted_ones(
    store: EventStore, tmp_path: Path
) -> None:
    await _acled(store, acled_file(tmp_path, "acled.csv", ACLED_ROWS))
    # A week on: the clash's toll revised, a new clash, and the looting deleted by ACLED;
    # the export leaves out the retaken village, which says nothing about it.
    later = acled_file(
        tmp_path,
        "acled-later.csv",
        (PLEKHOVO_CLASH, BERDIANSK_SHELLING, SUDZHA_CLASH),
        fatalities=14,
    )

    answer = await _acled(store, later, acled_deleted_file(tmp_path))

    assert {row.row: row.outcome for row in answer.rows} == {
        "RUS1001": Outcome.CORRECTED,
        "UKR2002": Outcome.UNCHANGED,
        "RUS1007": Outcome.ADDED,
        "UKR2004": Outcome.RETRACTED,
    }
    clash = await _report(store, "acled", "RUS1001")
    assert isinstance(clash.claim, Clash)
    assert clash.claim.fatalities is not None
    assert clash.claim.fatalities.value == 14
    assert clash.corrections == 1
    looting = await _report(store, "acled", "UKR2004")
    assert looting.verification is Verification.RETRACTED
    retaken = await _report(store, "acled", "RUS1003")
    assert retaken.verification is Verification.UNVERIFIED


async def test_a_bad_acled_export_lists_each_bad_row_and_writes_nothing(
    store: EventStore, tmp_path: Path
) -> None:
    answer = await _acled(store, acled_file(tmp_path, "acled.csv", ACLED_BROKEN_ROWS))

    assert [(row.line, row.row, row.field) for row in answer.refused] == [
        (4, "UKR2002", "event_date"),
        (5, "RUS1003", "geo_precision"),
        (6, "UKR2004", "latitude"),
    ]
    assert "31 November 2024" in (answer.refused[0].message or "")
    assert await store.position() == 0


async def test_skip_invalid_writes_the_good_acled_rows(store: EventStore, tmp_path: Path) -> None:
    path = acled_file(tmp_path, "acled.csv", ACLED_BROKEN_ROWS)

    answer = await _acled(store, path, skip_invalid=True)

    assert answer.counts["added"] == 1
    assert answer.counts["refused"] == 3
    assert await store.position() == 1


async def test_a_ged_release_imports_with_low_best_and_high_and_its_sources_split(
    store: EventStore, tmp_path: Path
) -> None:
    answer = await _ged(store, ged_file(tmp_path, "ged251.csv", GED_ROWS), "25.1")

    assert answer.counts["added"] == 3
    fighting = await _report(store, "ucdp-ged", "512345")
    assert isinstance(fighting.claim, Clash)
    fatalities = fighting.claim.fatalities
    assert fatalities is not None
    assert (fatalities.low, fatalities.value, fatalities.high) == (4, 9, 21)
    among = fighting.claim.fatalities_among
    assert among is not None
    assert among.civilians is not None
    assert among.civilians.value == 1
    assert isinstance(fighting.occurred, Interval)
    assert fighting.reported == Day(on=date(2024, 11, 23))  # its latest source's date
    provenance = fighting.attribution.provenance
    assert provenance is not None
    assert provenance.release == "25.1"
    cited = {entry.field: entry.entries for entry in provenance.cited}
    assert cited["source_office"] == ("Reuters", "BBC Monitoring")
    assert cited["source_article"][0] == 'Reuters,2024-11-21,"Russian forces press on Kurakhove"'
    one_sided = await _report(store, "ucdp-ged", "512346")
    assert isinstance(one_sided.claim, AttackOnCivilians)
    assert isinstance(one_sided.occurred, Day)
    sudzha = await _report(store, "ucdp-ged", "512347")
    assert sudzha.notes is not None
    assert 'Sudzha,\nthe "Kursk direction"' in sudzha.notes


async def test_a_new_complete_ged_release_corrects_changed_rows_and_retracts_missing_ones(
    store: EventStore, tmp_path: Path
) -> None:
    await _ged(store, ged_file(tmp_path, "ged251.csv", GED_ROWS), "25.1")
    again = await _ged(store, ged_file(tmp_path, "ged251.csv", GED_ROWS), "25.1")
    position = await store.position()
    release = ged_file(
        tmp_path, "ged252.csv", (KURAKHOVE_FIGHTING, BERDIANSK_ONE_SIDED), deaths_a=7, best=11
    )

    answer = await _ged(store, release, "25.2")

    assert not again.written
    assert {row.row: row.outcome for row in answer.rows} == {
        "512345": Outcome.CORRECTED,
        "512346": Outcome.UNCHANGED,
        "512347": Outcome.RETRACTED,
    }
    assert await store.position() == position + 2
    sudzha = await _report(store, "ucdp-ged", "512347")
    assert sudzha.verification is Verification.RETRACTED


async def test_a_ged_file_without_a_release_name_retracts_nothing(
    store: EventStore, tmp_path: Path
) -> None:
    await _ged(store, ged_file(tmp_path, "ged251.csv", GED_ROWS), "25.1")

    answer = await _ged(store, ged_file(tmp_path, "ged-candidate.csv", (KURAKHOVE_FIGHTING,)))

    assert answer.counts == {
        "added": 0,
        "corrected": 0,
        "retracted": 0,
        "unchanged": 1,
        "refused": 0,
    }


async def test_a_bad_ged_release_lists_each_bad_row_and_writes_nothing(
    store: EventStore, tmp_path: Path
) -> None:
    answer = await _ged(store, ged_file(tmp_path, "ged.csv", GED_BROKEN_ROWS), "25.1")

    assert [(row.line, row.row, row.field) for row in answer.refused] == [
        (3, "512346", "type_of_violence"),
        (4, "512347", "best"),
    ]
    assert await store.position() == 0
