"""After `timeline import gs-losses` and `economist-estimates`, the API answers the General
Staff's claims for 23 November 2024 as published (about 729,720 Russian personnel, 9,419
tanks, 19,192 APCs), the tank total that fell from 27 to 28 May 2023, and one source's
estimates as a chart's series.

The module imports the real files once (22,375 tallies and 124 estimates) into a database of
its own: each test reads it through an app of its own, whose views resume where the last
test's left them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import ApiSettings
from application.imports import Format, read_format
from application.imports.identity import row_report_id
from application.imports.importer import import_datasets
from store.api_keys import Role, create_key
from store.database import Database
from store.event_store import EventStore
from store.settings import with_database
from tests.api.conftest import Client, Keys
from tests.conftest import scratch_database

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
GENERAL_STAFF = "General Staff of the Armed Forces of Ukraine"
GS = "general-staff-of-the-armed-forces-of-ukraine"
TANKS = f"russia/equipment/tanks/unspecified/{GS}"
APCS = f"russia/equipment/armoured_vehicles/unspecified/{GS}"
PERSONNEL = f"russia/people/total/military/{GS}"
UK_MOD_KILLED = "russia/people/killed/military/uk-mod"


class Imported(NamedTuple):
    service_url: str
    editor: str
    general_staff_at: int  # the log position after the General Staff's files
    head: int


async def _import(owner_url: str, service_url: str) -> Imported:
    pool = await asyncpg.create_pool(owner_url, min_size=1, max_size=4)
    assert pool is not None
    try:
        store = EventStore(pool)
        files = [DATA / "russia_losses_equipment.json", DATA / "russia_losses_personnel.json"]
        general_staff = await import_datasets(store, read_format(Format.GS_LOSSES, files, None))
        estimates = [DATA / "casualty_estimates_by_source.csv"]
        await import_datasets(store, read_format(Format.ECONOMIST_ESTIMATES, estimates, None))
        assert general_staff.last_position is not None
        key = await create_key(pool, "tallies story", Role.EDITOR)
        return Imported(
            service_url, key.secret, general_staff.last_position, await store.position()
        )
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def imported(server_url: str, service_url: str) -> Iterator[Imported]:
    """A database of its own, the files imported once (after the session's roles exist)."""
    with scratch_database(server_url, "timeline_test_tallies") as url:
        name = urlsplit(url).path.lstrip("/")
        yield asyncio.run(_import(url, with_database(service_url, name)))


@pytest.fixture
async def tallied(imported: Imported) -> AsyncIterator[Client]:
    # The views fold the 22,499 reports before they first answer for them: on a machine
    # busy with other tests that may take longer than the usual wait.
    settings = ApiSettings(default_wait_seconds=60.0)
    app = create_app(Database(url=imported.service_url, embedded=False), settings=settings)
    async with AsyncTestClient(app=app, timeout=60) as client:
        client.headers.update(Keys.header(imported.editor))
        yield client


async def _get(client: Client, path: str, **params: str | int) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _tallies(client: Client, imported: Imported, **params: str | int) -> dict[str, Any]:
    """The tallies' rows by key, once the views hold every import."""
    await _get(client, "/v1/tallies", min_position=imported.head)
    await _get(client, "/v1/tallies-series", min_position=imported.head, limit=1)
    answer = await _get(client, "/v1/tallies", **params)
    return {entry["key"]: entry["row"] for entry in answer["rows"]}


async def _claim(client: Client, scope: str, row: str) -> dict[str, Any]:
    answer = await _get(client, f"/v1/reports/{row_report_id(scope, row)}")
    claim: dict[str, Any] = answer["report"]["claim"]
    return claim


async def test_the_general_staffs_23rd_of_november_tallies_are_served_as_published(
    tallied: Client, imported: Imported
) -> None:
    # Given both General Staff files imported
    # Then each report holds the figure as the General Staff published it
    personnel = await _claim(tallied, "gs-losses/personnel", "2024-11-23/personnel")
    assert personnel["total"] == {"unit": "people", "value": 729720.0, "qualifier": "about"}
    tanks = await _claim(tallied, "gs-losses/equipment", "2024-11-23/tank")
    assert tanks["count"]["value"] == 9419
    apcs = await _claim(tallied, "gs-losses/equipment", "2024-11-23/APC")
    assert (apcs["category"], apcs["count"]["value"]) == ("armoured_vehicles", 19192)
    before = await _claim(tallied, "gs-losses/equipment", "2023-05-27/tank")
    after = await _claim(tallied, "gs-losses/equipment", "2023-05-28/tank")
    assert after["count"]["value"] < before["count"]["value"]

    # And the timeline has that day's tallies, one row each, on the day they count up to
    timeline = await _get(
        tallied,
        "/v1/timeline",
        kind="equipment_losses,casualties",
        occurred_from="2024-11-23",
        occurred_to="2024-11-24",
        limit=50,
        min_position=imported.general_staff_at,
    )
    rows = timeline["items"]
    summaries = {row["summary"] for row in rows}
    assert "Russia lost 9,419 tank since 2022-02-24" in summaries
    assert "Russia lost 19,192 APC since 2022-02-24" in summaries
    assert "Russia (military): about 729,720 people lost (personnel) since 2022-02-24" in summaries
    assert {row["source"] for row in rows} == {GENERAL_STAFF}
    assert len(rows) == 14  # 13 equipment categories that day and the personnel


async def test_the_tallies_as_of_the_23rd_of_november_are_the_general_staffs_claims(
    tallied: Client, imported: Imported
) -> None:
    # When a reader asks the tallies of Russian losses as of 23 November 2024
    rows = await _tallies(tallied, imported, as_of="2024-11-23", key="russia")

    # Then the General Staff's totals of that day stand, as published, with their reports
    personnel = rows[PERSONNEL]["total"]
    assert personnel["count"] == {"unit": "people", "value": 729720.0, "qualifier": "about"}
    assert (personnel["source_name"], personnel["as_of"]) == ("personnel", "2024-11-23")
    assert personnel["source"]["report_id"] == str(
        row_report_id("gs-losses/personnel", "2024-11-23/personnel")
    )
    tanks = rows[TANKS]["total"]
    assert (tanks["count"]["value"], tanks["source_name"]) == (9419, "tank")
    assert tanks["attribution"]["source"] == GENERAL_STAFF
    apcs = rows[APCS]["total"]
    assert (apcs["count"]["value"], apcs["source_name"]) == (19192, "APC")
    # and no increment is mixed in
    assert {row["increments"] is None for row in rows.values()} == {True}

    # And live, the latest day's total stands instead
    live = await _tallies(tallied, imported, key=TANKS)
    assert live[TANKS]["total"]["as_of"] == "2026-08-08"


async def test_the_tank_total_of_28_may_2023_is_lower_than_the_day_before(
    tallied: Client, imported: Imported
) -> None:
    # The view, asked of each day, replaces the higher total with the lower later one
    on_27 = (await _tallies(tallied, imported, as_of="2023-05-27", key=TANKS))[TANKS]
    on_28 = (await _tallies(tallied, imported, as_of="2023-05-28", key=TANKS))[TANKS]
    assert on_28["total"]["count"]["value"] < on_27["total"]["count"]["value"]

    # And the month's series shows both points, the fall included
    points = await _get(tallied, "/v1/tallies-series/points", key=f"{TANKS}/2023-05")
    by_date = {point["date"][:10]: point for point in points["points"]}
    assert len(by_date) == 31
    assert by_date["2023-05-28"]["value"] < by_date["2023-05-27"]["value"]


async def test_the_series_point_of_the_23rd_of_november_is_flat_and_chart_ready(
    tallied: Client, imported: Imported
) -> None:
    await _tallies(tallied, imported)
    answer = await _get(tallied, "/v1/tallies-series/points", key=f"{TANKS}/2024-11")

    (point,) = (p for p in answer["points"] if p["date"].startswith("2024-11-23"))
    assert point == {
        "series": TANKS,
        "place": "",
        "actor": "Russia",
        "date": "2024-11-23T00:00:00Z",
        "measure": "running_total",
        "value": 9419.0,
        "low": None,
        "high": None,
        "unit": "count",
        "qualifier": "exact",
        "verification": "unverified",
        "report_id": str(row_report_id("gs-losses/equipment", "2024-11-23/tank")),
        "source": GENERAL_STAFF,
        "outlet": None,
        "side": "ukraine",
        "precision": "day",
    }


async def test_one_sources_estimates_chart_from_the_series(
    tallied: Client, imported: Imported
) -> None:
    # Given the Economist's file of estimates by source
    await _tallies(tallied, imported)

    # When a chart asks for UK MoD's estimates of Russian soldiers killed, whole
    answer = await _get(tallied, "/v1/tallies-series/points", key=UK_MOD_KILLED)

    # Then it has each estimate as UK MoD gave it (a range where it gave one), via The
    # Economist, in order
    assert [
        (p["date"][:10], p["value"], p["low"], p["high"], p["qualifier"]) for p in answer["points"]
    ] == [
        ("2025-03-20", None, 200000.0, 250000.0, "between"),
        ("2025-06-12", 250000.0, None, None, "exact"),
        ("2026-05-27", 500000.0, None, None, "exact"),
    ]
    assert {(p["series"], p["source"], p["outlet"]) for p in answer["points"]} == {
        (UK_MOD_KILLED, "UK MoD", "The Economist")
    }
    # And the same table as CSV, for a spreadsheet
    as_csv = await tallied.get("/v1/tallies-series/points.csv", params={"key": UK_MOD_KILLED})
    assert as_csv.status_code == 200
    header, *lines = as_csv.text.splitlines()
    assert header.startswith("series,place,actor,date,measure,value,low,high")
    assert len(lines) == 3


async def test_a_tally_explained_names_the_total_behind_it_and_the_one_it_replaced(
    tallied: Client, imported: Imported
) -> None:
    await _tallies(tallied, imported)
    answer = await _get(
        tallied, "/v1/tallies", key=TANKS, explain="true", as_of="2024-11-23", reports=2
    )

    (row,) = answer["rows"]
    (total,) = row["figures"]
    that_day = str(row_report_id("gs-losses/equipment", "2024-11-23/tank"))
    assert (total["field"], total["text"], total["report_ids"]) == (
        "total",
        "9,419 count",
        [that_day],
    )
    roles = {report["report_id"]: report["role"] for report in row["reports"]}
    assert roles[that_day] == "current"
    day_before = str(row_report_id("gs-losses/equipment", "2024-11-22/tank"))
    assert roles[day_before] == "superseded"
    assert row["reports_total"] == 1003  # the days from 25 February 2022 to 23 November 2024
