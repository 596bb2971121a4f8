"""Reading the datasets' files into rows: the real files shipped in examples/data, and small
hand-made ones with the quirks real files have (a BOM, Windows line ends, quoted commas and
quotes, a field over two lines, empty fields, impossible dates)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from application.imports import Format, read_format
from application.imports.identity import dataset_id_range, row_report_id
from application.imports.rows import BadFile, DatasetRows, SourceRow
from application.reports import decide_filing
from domain.attribution import Side
from domain.claims import (
    Casualties,
    EquipmentCategory,
    EquipmentLosses,
    OccupationShare,
    PersonStatus,
    Tally,
)
from domain.errors import InvalidReport
from domain.occurrence import Day
from domain.quantities import Qualifier
from domain.summaries import claim_text
from tests.event_datasets import (
    ACLED_HEADER,
    BERDIANSK_SHELLING,
    PLEKHOVO_CLASH,
    SUDZHA_CLASH,
    acled_file,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "imports"
EQUIPMENT = DATA / "russia_losses_equipment.json"
PERSONNEL = DATA / "russia_losses_personnel.json"
ESTIMATES = DATA / "casualty_estimates_by_source.csv"
AREA = DATA / "area_assessed_as_russia_controlled.csv"


def _rows(dataset: DatasetRows) -> dict[str, SourceRow]:
    return {row.key: row for row in dataset.rows}


@pytest.fixture(scope="module")
def general_staff() -> dict[str, DatasetRows]:
    datasets = read_format(Format.GS_LOSSES, [PERSONNEL, EQUIPMENT], None)
    return {dataset.scope: dataset for dataset in datasets}


def test_the_general_staff_files_are_told_apart_by_their_rows(
    general_staff: dict[str, DatasetRows],
) -> None:
    assert set(general_staff) == {"gs-losses/equipment", "gs-losses/personnel"}
    assert general_staff["gs-losses/equipment"].file == "russia_losses_equipment.json"
    assert all(not dataset.bad for dataset in general_staff.values())


def test_the_23rd_of_november_2024_tallies_are_the_general_staffs_as_published(
    general_staff: dict[str, DatasetRows],
) -> None:
    equipment = _rows(general_staff["gs-losses/equipment"])
    personnel = _rows(general_staff["gs-losses/personnel"])

    tanks = equipment["2024-11-23/tank"].command
    assert isinstance(tanks.claim, EquipmentLosses)
    assert tanks.claim.count.value == 9_419
    assert tanks.claim.category is EquipmentCategory.TANKS
    assert tanks.claim.tally is Tally.RUNNING_TOTAL
    assert tanks.claim.since == date(2022, 2, 24)
    assert tanks.occurred == tanks.reported == Day(on=date(2024, 11, 23))
    apcs = equipment["2024-11-23/APC"].command.claim
    assert isinstance(apcs, EquipmentLosses)
    assert (apcs.category, apcs.source_category, apcs.count.value) == (
        EquipmentCategory.ARMOURED_VEHICLES,
        "APC",
        19_192,
    )
    people = personnel["2024-11-23/personnel"].command
    assert isinstance(people.claim, Casualties)
    assert people.claim.total is not None
    assert (people.claim.total.value, people.claim.total.qualifier) == (729_720, Qualifier.ABOUT)
    assert people.attribution.source == "General Staff of the Armed Forces of Ukraine"
    assert people.attribution.side is Side.UKRAINE
    assert people.attribution.provenance is not None
    assert people.attribution.provenance.licence == "MIT"
    assert people.attribution.provenance.row == "2024-11-23/personnel"


def test_a_total_that_fell_is_kept_as_the_source_published_it(
    general_staff: dict[str, DatasetRows],
) -> None:
    equipment = _rows(general_staff["gs-losses/equipment"])

    before, after = (equipment[f"2023-05-2{day}/tank"].command.claim for day in (7, 8))

    assert isinstance(before, EquipmentLosses)
    assert isinstance(after, EquipmentLosses)
    assert (before.count.value, after.count.value) == (3_799, 3_797)


def test_keys_that_come_and_go_are_each_their_own_category(
    general_staff: dict[str, DatasetRows],
) -> None:
    equipment = _rows(general_staff["gs-losses/equipment"])
    personnel = _rows(general_staff["gs-losses/personnel"])

    fuel = equipment["2022-04-30/fuel tank"].command.claim
    assert isinstance(fuel, EquipmentLosses)
    assert fuel.category is EquipmentCategory.FUEL_TANKERS
    assert "2022-05-01/fuel tank" not in equipment
    assert "2022-05-01/vehicles and fuel tanks" in equipment
    assert not any(key.endswith("greatest losses direction") for key in equipment)
    prisoners = personnel["2022-04-27/POW"].command.claim
    assert isinstance(prisoners, Casualties)
    assert prisoners.captured is not None
    assert "2022-04-28/POW" not in personnel
    more = personnel["2022-03-07/personnel"].command.claim
    assert isinstance(more, Casualties)
    assert more.total is not None
    assert more.total.qualifier is Qualifier.MORE_THAN


def test_an_estimate_is_the_claim_of_its_named_source_relayed_by_the_economist() -> None:
    (dataset,) = read_format(Format.ECONOMIST_ESTIMATES, [ESTIMATES], date(2026, 8, 10))
    rows = _rows(dataset)

    assert len(dataset.rows) == 124
    assert not dataset.bad
    cia = rows["2022-07-20/CIA/deaths/russia"].command
    assert cia.attribution.source == "CIA"
    assert cia.attribution.outlet == "The Economist"
    assert cia.attribution.side is Side.THIRD_PARTY
    assert cia.attribution.url is not None
    assert cia.attribution.url.startswith("https://www.reuters")
    assert cia.attribution.provenance is not None
    assert cia.attribution.provenance.release == "2026-08-10"
    assert cia.attribution.provenance.licence == "CC BY 4.0"
    assert isinstance(cia.claim, Casualties)
    assert cia.claim.killed is not None
    assert (cia.claim.killed.low, cia.claim.killed.qualifier) == (15_000, Qualifier.AT_LEAST)
    assert cia.claim.status is PersonStatus.MILITARY
    assert cia.reported == Day(on=date(2022, 7, 20))


def test_a_warring_partys_figure_speaks_for_its_side_and_a_one_sided_range_keeps_its_side() -> None:
    (dataset,) = read_format(Format.ECONOMIST_ESTIMATES, [ESTIMATES], None)
    rows = _rows(dataset)

    ukraine = rows["2024-01-16/Armed Forces of Ukraine/casualties/russia"].command
    assert ukraine.attribution.side is Side.UKRAINE
    assert isinstance(ukraine.claim, Casualties)
    assert ukraine.claim.total is not None
    assert ukraine.claim.label == "casualties"
    russia = rows["2023-12-19/Russian Ministry of Defense/casualties/ukraine"].command
    assert russia.attribution.side is Side.RUSSIA
    assert isinstance(russia.claim, Casualties)
    assert russia.claim.side == "Ukraine"
    at_most = rows["2022-06-29/UK Ministry of Defence/deaths/russia"].command.claim
    assert isinstance(at_most, Casualties)
    assert at_most.killed is not None
    assert (at_most.killed.high, at_most.killed.qualifier) == (25_000, Qualifier.AT_MOST)
    emailed = rows["2024-01-01/Mediazona; Meduza/deaths/russia"].command
    assert emailed.attribution.url is None
    assert emailed.notes is not None
    assert "via email" in emailed.notes


def test_isw_area_is_a_share_of_ukraine_with_its_area_in_square_kilometres() -> None:
    (dataset,) = read_format(Format.ISW_AREA, [AREA], None)
    rows = _rows(dataset)

    share = rows["2024-11-23"].command
    assert isinstance(share.claim, OccupationShare)
    assert share.claim.share.value == pytest.approx(19.0063, abs=1e-4)
    assert share.claim.area is not None
    assert share.claim.area.value == pytest.approx(114_727.48, abs=0.01)
    assert share.attribution.source == "Institute for the Study of War"
    assert claim_text(share.claim) == "Russia occupies 19.0063 percent (114,727 km2) of UA"
    # The file repeats 2026-04-04 word for word: both rows are read, the importer says it once.
    assert [row.line for row in dataset.rows if row.key == "2026-04-04"] == [1504, 1505]


def test_a_broken_estimates_file_lists_every_bad_row_by_line_and_field() -> None:
    (dataset,) = read_format(Format.ECONOMIST_ESTIMATES, [FIXTURES / "economist-broken.csv"], None)

    good = _rows(dataset)
    assert set(good) == {
        "2024-06-21/Mediazona; Meduza/deaths/russia",
        "2026-06-30/CSIS/deaths/russia",
    }
    killed = good["2024-06-21/Mediazona; Meduza/deaths/russia"].command.claim
    assert isinstance(killed, Casualties)
    assert killed.killed is not None
    assert (killed.killed.low, killed.killed.value, killed.killed.high) == (
        106_000,
        120_000,
        140_000,
    )
    assert [(bad.line, bad.field) for bad in dataset.bad] == [
        (4, "date"),
        (5, "estimate"),
        (6, "estimate"),
        (8, "source"),
        (9, "country"),
    ]
    assert "31/11/2024" in dataset.bad[0].message


def test_a_broken_area_file_names_the_empty_area_and_the_date_in_the_wrong_layout() -> None:
    (dataset,) = read_format(Format.ISW_AREA, [FIXTURES / "isw-broken.csv"], None)

    assert [row.key for row in dataset.rows] == ["2024-11-23", "2024-11-25"]
    assert [(bad.line, bad.field) for bad in dataset.bad] == [
        (3, "area_assessed_as_russia_controlled"),
        (4, "date"),
    ]


def test_a_broken_tally_file_names_the_line_each_bad_row_starts_on() -> None:
    (dataset,) = read_format(Format.GS_LOSSES, [FIXTURES / "gs-broken.json"], None)

    assert [row.key for row in dataset.rows] == [
        "2024-11-23/tank",
        "2024-11-23/APC",
        "2024-11-24/APC",
    ]
    assert [(bad.line, bad.field, bad.row) for bad in dataset.bad] == [
        (9, "date", None),
        (14, "tank", "2024-11-24/tank"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "expected a JSON array"),
        ('[{"date": "2024-11-23", "tank": 1} {"date": "2024-11-24"}]', "expected ',' or ']'"),
        ('[{"date": "2024-11-23", "day": 1}]', "neither the equipment file"),
    ],
)
def test_a_file_that_is_not_a_tally_file_is_refused_whole(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "losses.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(BadFile, match=message):
        read_format(Format.GS_LOSSES, [path], None)


def test_a_csv_file_without_a_required_column_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "area.csv"
    path.write_text("date,area_assessed_as_russia_controlled\n2024-11-23,1\n", encoding="utf-8")

    with pytest.raises(BadFile, match="area_assessed_as_russia_controlled_percent"):
        read_format(Format.ISW_AREA, [path], None)


def test_a_rows_report_id_is_stable_and_lies_in_its_datasets_range() -> None:
    first, last = dataset_id_range("gs-losses/equipment")
    tanks = row_report_id("gs-losses/equipment", "2024-11-23/tank")

    assert tanks == row_report_id("gs-losses/equipment", "2024-11-23/tank")
    assert tanks != row_report_id("gs-losses/personnel", "2024-11-23/tank")
    assert first <= tanks <= last
    assert not first <= row_report_id("isw-area", "2024-11-23") <= last
    assert tanks.version == 8
    assert isinstance(tanks, UUID)


def test_a_file_that_is_not_utf8_is_refused_whole_naming_the_first_bad_byte(
    tmp_path: Path,
) -> None:
    # An export saved from a spreadsheet in Windows-1251: "Суджа" is not UTF-8
    text = "\r\n".join(
        (ACLED_HEADER, PLEKHOVO_CLASH.format(fatalities=3).replace("Plekhovo", "Суджа"))
    )
    path = tmp_path / "acled.csv"
    path.write_bytes(text.encode("cp1251"))
    at = text.encode("cp1251").index("Суджа".encode("cp1251"))

    with pytest.raises(BadFile, match=rf"acled.csv: not UTF-8 text \(.* at byte {at}\)"):
        read_format(Format.ACLED, [path], None)


def test_a_field_longer_than_csvs_own_limit_is_a_refused_row_not_a_refused_file(
    tmp_path: Path,
) -> None:
    # Given notes of 200,000 characters (csv stops at 131,072 by default) between two rows
    # that are well formed
    long_notes = PLEKHOVO_CLASH.replace("On 21 November 2024", "x" * 200_000)
    path = acled_file(tmp_path, "acled.csv", (BERDIANSK_SHELLING, long_notes, SUDZHA_CLASH))

    # When the file is read in full, then the other rows are read, and the long one is
    # refused by the rule on free text once it is filed
    (dataset,) = read_format(Format.ACLED, [path], None)
    assert sorted(row.key for row in dataset.rows) == ["RUS1001", "RUS1007", "UKR2002"]
    notes = _rows(dataset)["RUS1001"].command.notes
    assert notes is not None
    assert len(notes) > 200_000
    with pytest.raises(InvalidReport, match="at most 10,000 characters"):
        decide_filing(_rows(dataset)["RUS1001"].command)
