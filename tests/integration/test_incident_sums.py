"""Incidents added up: the event datasets' clashes and attacks, imported from hand-made ACLED
and UCDP GED files, summed per region, actor, kind, source and month; changed by ACLED's
corrections and deleted list and by a GED release that drops a row; never mixed between the
two datasets; explained a page of incidents at a time; and answered in the past as the
replay answers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import asyncpg
import msgspec

from application.imports import Format, read_format
from application.imports.identity import row_report_id
from application.imports.importer import import_datasets
from projections.explain import explain_page
from projections.explain_keys import EarlierReports, Page
from projections.explanation import encode_explanation
from projections.past_answers import past_answer
from projections.replay import ReplayAnswer, encode_answer, replay
from projections.views.incidents import IncidentsRow, IncidentsView
from store.event_store import EventStore
from tests.event_datasets import (
    ACLED_ROWS,
    BERDIANSK_ONE_SIDED,
    GED_ROWS,
    KURAKHOVE_FIGHTING,
    PLEKHOVO_CLASH,
    SUDZHA_CLASH,
    acled_deleted_file,
    acled_file,
    ged_file,
)
from tests.event_datasets import RU as RUSSIAN_FORCES
from tests.following import follow_to_head

VIEW = IncidentsView()
UA = "military-forces-of-ukraine-(2019-)"
RU = "military-forces-of-russia-(2000-)"
KP = "military-forces-of-north-korea-(2011-)"
KURSK_CLASHES = "russia/kursk/all-actors/clash/acled/2024-11"
KURSK_OBLAST_CLASHES = "russia/kursk-oblast/all-actors/clash/ucdp/2024-11"
DONETSK_INCIDENTS = "ukraine/donetsk/all-actors/incident/acled/2024-11"


async def _acled(store: EventStore, path: Path, deleted: Path | None = None) -> None:
    await import_datasets(store, read_format(Format.ACLED, [path], None, deleted=deleted))


async def _ged(store: EventStore, path: Path, release: str | None = None) -> None:
    await import_datasets(store, read_format(Format.UCDP_GED, [path], None, release_name=release))


def _rows(answer: ReplayAnswer) -> dict[str, IncidentsRow]:
    return {row.key: row.row for row in answer.rows if isinstance(row.row, IncidentsRow)}


async def _sums(store: EventStore) -> dict[str, IncidentsRow]:
    return _rows(await replay(store, "incidents"))


def _sum(row: IncidentsRow) -> tuple[int, float, float, float]:
    return row.events, row.fatalities_low, row.fatalities_best, row.fatalities_high


async def test_the_clashes_of_a_month_in_kursk_add_up_per_actor_and_once_for_all_actors(
    store: EventStore, tmp_path: Path
) -> None:
    # Given ACLED's export: Ukraine against Russia and North Korea near Plekhovo (12 dead),
    # and Russia against Ukraine at Sudzha (3 dead), both in November 2024
    await _acled(store, acled_file(tmp_path, "acled.csv", (*ACLED_ROWS, SUDZHA_CLASH)))

    sums = await _sums(store)

    # Then the month's clashes in Kursk are two, 15 dead (ACLED's one figure bounds itself)
    assert _sum(sums[KURSK_CLASHES]) == (2, 15.0, 15.0, 15.0)
    assert sums[KURSK_CLASHES].actor is None
    # and each side fought in both, North Korea's forces (beside Russia's) in one
    assert _sum(sums[f"russia/kursk/{UA}/clash/acled/2024-11"])[:2] == (2, 15.0)
    assert _sum(sums[f"russia/kursk/{RU}/clash/acled/2024-11"])[:2] == (2, 15.0)
    north_korea = sums[f"russia/kursk/{KP}/clash/acled/2024-11"]
    assert (north_korea.actor, north_korea.events) == ("Military Forces of North Korea (2011-)", 1)
    # and the village Russia retook, the shelling of Berdiansk and the looting each have
    # their own kind's rows
    assert sums["russia/kursk/all-actors/territorial_change/acled/2024-11"].events == 1
    assert sums["ukraine/zaporizhia/all-actors/attack_on_civilians/acled/2024-11"].events == 1
    assert sums[DONETSK_INCIDENTS].events == 1


async def test_ucdp_low_best_and_high_are_summed_apart_and_never_with_acled(
    store: EventStore, tmp_path: Path
) -> None:
    # Given the same weeks in both datasets: ACLED's clashes in Kursk, and GED's
    await _acled(store, acled_file(tmp_path, "acled.csv", (PLEKHOVO_CLASH, SUDZHA_CLASH)))
    await _ged(store, ged_file(tmp_path, "ged.csv", GED_ROWS))

    sums = await _sums(store)

    # Then GED's fighting near Sudzha (low 6, best 6, high 9) is a row of its own
    assert _sum(sums[KURSK_OBLAST_CLASHES]) == (1, 6.0, 6.0, 9.0)
    # and near Kurakhove (low 4, best 9, high 21), and Berdiansk's one-sided violence (2-3)
    assert _sum(sums["ukraine/donetsk-oblast/all-actors/clash/ucdp/2024-11"]) == (1, 4, 9, 21)
    berdiansk = "ukraine/zaporizhzhia-oblast/all-actors/attack_on_civilians/ucdp/2024-11"
    assert _sum(sums[berdiansk]) == (1, 2.0, 2.0, 3.0)
    # and no row holds both datasets' incidents: the same clash may be in each
    assert _sum(sums[KURSK_CLASHES]) == (2, 15.0, 15.0, 15.0)
    assert {row.source for row in sums.values()} == {"ACLED", "UCDP"}
    for key, row in sums.items():
        assert key.split("/")[-2] == row.source.lower()


async def test_a_correction_changes_the_sum_and_a_deletion_takes_the_incident_out(
    store: EventStore, tmp_path: Path
) -> None:
    # Given ACLED's export with 12 dead near Plekhovo, 3 at Sudzha, and the looting
    await _acled(store, acled_file(tmp_path, "acled.csv", (*ACLED_ROWS, SUDZHA_CLASH)))
    # When a week later ACLED revises Plekhovo to 14 dead, and deletes the looting
    later = acled_file(tmp_path, "later.csv", (PLEKHOVO_CLASH, SUDZHA_CLASH), fatalities=14)
    await _acled(store, later, acled_deleted_file(tmp_path))

    sums = await _sums(store)

    # Then Kursk's clashes sum 17 dead
    assert _sum(sums[KURSK_CLASHES]) == (2, 17.0, 17.0, 17.0)
    # and the looting counts no more, its row kept at nothing, the withdrawal counted
    looting = sums[DONETSK_INCIDENTS]
    assert (looting.events, looting.retracted) == (0, 1)
    # When ACLED deletes the Sudzha clash too
    deleted = tmp_path / "deleted-sudzha.csv"
    deleted.write_bytes(b"event_id_cnty,deleted_timestamp\r\nRUS1007,1733292120\r\n")
    only_plekhovo = acled_file(tmp_path, "latest.csv", (PLEKHOVO_CLASH,), fatalities=14)
    await _acled(store, only_plekhovo, deleted)

    # Then the month's clashes in Kursk are one, 14 dead
    assert _sum((await _sums(store))[KURSK_CLASHES]) == (1, 14.0, 14.0, 14.0)


async def test_a_new_ged_release_without_a_row_takes_its_incident_out_of_the_sum(
    store: EventStore, tmp_path: Path
) -> None:
    # Given GED 24.1 with the fighting near Kurakhove (best 9)
    await _ged(store, ged_file(tmp_path, "ged-24.csv", GED_ROWS), release="24.1")
    donetsk = "ukraine/donetsk-oblast/all-actors/clash/ucdp/2024-11"
    assert (await _sums(store))[donetsk].events == 1
    # When release 25.1 no longer has it
    await _ged(store, ged_file(tmp_path, "ged-25.csv", (BERDIANSK_ONE_SIDED,)), release="25.1")

    # Then the sum no longer counts it
    sums = await _sums(store)
    assert _sum(sums[donetsk]) == (0, 0.0, 0.0, 0.0)
    assert sums[donetsk].retracted == 1


def _clashes_near_plekhovo(count: int) -> tuple[str, ...]:
    """`count` clashes near Plekhovo in November 2024, one a day, 1 dead more each day."""
    return tuple(
        PLEKHOVO_CLASH.replace("RUS1001,2024-11-21", f"RUS{1100 + day},2024-11-{day:02}").replace(
            "{fatalities}", str(day)
        )
        for day in range(1, count + 1)
    )


async def _walk(
    source: asyncpg.Pool | EventStore, most: int, position: int | None = None
) -> list[dict[str, object]]:
    """Every page of the incidents behind Kursk's November clashes, `most` at a time."""
    pages: list[dict[str, object]] = []
    before: EarlierReports | None = None
    while True:
        explanation, more = await explain_page(
            source,
            "incidents",
            KURSK_CLASHES,
            page=Page(limit=20, reports=most, before=before),
            position=position,
        )
        assert not more
        (row,) = msgspec.json.decode(encode_explanation(explanation))["rows"]
        pages.append(row)
        if "earlier_reports" not in row:
            return pages
        before = EarlierReports.of_cursor(row["earlier_reports"])
        assert before is not None


async def test_explain_pages_back_through_the_incidents_in_a_sum(
    pool: asyncpg.Pool, store: EventStore, database_url: str, tmp_path: Path
) -> None:
    # Given seven clashes near Plekhovo in November, one of them later deleted by ACLED
    clashes = _clashes_near_plekhovo(7)
    await _acled(store, acled_file(tmp_path, "acled.csv", clashes))
    deleted = tmp_path / "deleted.csv"
    deleted.write_bytes(b"event_id_cnty,deleted_timestamp\r\nRUS1103,1733292120\r\n")
    await _acled(store, acled_file(tmp_path, "later.csv", clashes[3:]), deleted)
    await follow_to_head([VIEW], pool, database_url)

    # When the sum is explained three incidents at a time, from its versions
    pages = await _walk(pool, most=3)

    # Then the pages go back from the latest: 3, 3, then the first
    assert [len(page["reports"]) for page in pages] == [3, 3, 1]  # type: ignore[arg-type]
    listed = [report for page in pages for report in page["reports"]]  # type: ignore[attr-defined]
    days = [report["date"][:10] for report in listed]
    assert days == [f"2024-11-{d:02}" for d in (5, 6, 7, 2, 3, 4, 1)]
    # and each incident in the sum is listed once, shown as the sum's figures; the deleted
    # one as retracted
    assert {report["report_id"] for report in listed} == {
        str(row_report_id("acled", f"RUS{1100 + day}")) for day in range(1, 8)
    }
    roles = {report["date"][:10]: report["role"] for report in listed}
    assert roles.pop("2024-11-03") == "retracted"
    assert set(roles.values()) == {"shown"}
    assert all(page["reports_total"] == 7 for page in pages)
    figures = {figure["field"]: figure for figure in pages[0]["figures"]}  # type: ignore[attr-defined]
    assert figures["events"]["text"] == "6 incidents"
    assert figures["fatalities_best"]["quantity"]["value"] == 1 + 2 + 4 + 5 + 6 + 7
    # and the log's fold explains every page alike
    assert await _walk(store, most=3) == pages


async def test_past_answers_about_the_sums_are_the_replays_at_every_position(
    pool: asyncpg.Pool, store: EventStore, database_url: str, tmp_path: Path
) -> None:
    # Given both datasets imported, revised (a correction, deletions, a new release)
    await _acled(store, acled_file(tmp_path, "acled.csv", (*ACLED_ROWS, SUDZHA_CLASH)))
    await _ged(store, ged_file(tmp_path, "ged-24.csv", GED_ROWS), release="24.1")
    later = acled_file(tmp_path, "later.csv", (PLEKHOVO_CLASH, SUDZHA_CLASH), fatalities=14)
    await _acled(store, later, acled_deleted_file(tmp_path))
    revised = ged_file(tmp_path, "ged-25.csv", (KURAKHOVE_FIGHTING,), best=11)
    await _ged(store, revised, release="25.1")
    # and the view kept by its runner
    await follow_to_head([VIEW], pool, database_url, batch_size=3)
    head = await store.position()

    # Then at every position, and as of days in November, the answer put together from the
    # versions' pieces is the replay's
    for position in range(head + 1):
        for as_of in (None, date(2024, 11, 20), date(2024, 11, 21)):
            from_versions = await past_answer(pool, "incidents", position=position, as_of=as_of)
            folded = await replay(pool, "incidents", position=position, as_of=as_of)
            assert encode_answer(from_versions) == encode_answer(folded), (position, as_of)
    # and the head's sums are what the corrections left
    assert _sum(_rows(await replay(pool, "incidents"))[KURSK_CLASHES]) == (2, 17.0, 17.0, 17.0)


async def test_an_actor_named_all_actors_has_its_own_row_beside_the_row_of_all_actors(
    store: EventStore, tmp_path: Path
) -> None:
    # Given the Sudzha clash (Russia against Ukraine, 3 dead), and a clash at Sudzha the same
    # month fought by a militia a source calls "All Actors" (1 dead)
    militia = SUDZHA_CLASH.replace("RUS1007", "RUS1008").replace(RUSSIAN_FORCES, "All Actors")
    militia = militia.replace(",3,,1732860120", ",1,,1732860120")
    await _acled(store, acled_file(tmp_path, "acled.csv", (SUDZHA_CLASH, militia)))

    sums = await _sums(store)

    # Then the row of all actors counts both clashes once each, and names no actor
    assert _sum(sums[KURSK_CLASHES]) == (2, 4.0, 4.0, 4.0)
    assert sums[KURSK_CLASHES].actor is None
    # and the militia's clash is in a row of its own, under its name
    named = sums["russia/kursk/named-all-actors/clash/acled/2024-11"]
    assert (_sum(named), named.actor) == ((1, 1.0, 1.0, 1.0), "All Actors")
    # beside Ukraine's row, which holds both
    assert _sum(sums[f"russia/kursk/{UA}/clash/acled/2024-11"]) == (2, 4.0, 4.0, 4.0)
