"""After `timeline import gs-losses` (and `isw-area`), the API answers the General Staff's
claims for 23 November 2024 as published, and the ISW share beside the seed's "a fifth".

No view folds these kinds into series yet: the figures are read from the reports and from
the timeline's rows (kind, summary, source)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.settings import ApiSettings
from application.imports import Format, read_format
from application.imports.identity import row_report_id
from application.imports.importer import import_datasets
from application.reports import ReportService
from seed.demo import load_demo
from store.event_store import EventStore
from tests.api.conftest import Client

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"


@pytest.fixture
def api_settings() -> ApiSettings:
    # The timeline folds the 22,375 tallies before it answers for them: on a machine busy
    # with other tests that may take longer than the usual wait.
    return ApiSettings(default_wait_seconds=60.0)


async def _claim(client: Client, scope: str, row: str) -> dict[str, Any]:
    response = await client.get(f"/v1/reports/{row_report_id(scope, row)}")
    assert response.status_code == 200, response.text
    claim: dict[str, Any] = response.json()["report"]["claim"]
    return claim


async def _timeline(client: Client, **params: str | int) -> list[dict[str, Any]]:
    response = await client.get("/v1/timeline", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["items"]
    return rows


async def test_the_general_staffs_23rd_of_november_tallies_are_served_as_published(
    client: Client, store: EventStore
) -> None:
    # Given both General Staff files imported
    files = [DATA / "russia_losses_equipment.json", DATA / "russia_losses_personnel.json"]
    answer = await import_datasets(store, read_format(Format.GS_LOSSES, files, None))
    assert answer.last_position is not None

    # Then each report holds the figure as the General Staff published it
    personnel = await _claim(client, "gs-losses/personnel", "2024-11-23/personnel")
    assert personnel["total"] == {"unit": "people", "value": 729720.0, "qualifier": "about"}
    tanks = await _claim(client, "gs-losses/equipment", "2024-11-23/tank")
    assert tanks["count"]["value"] == 9419
    apcs = await _claim(client, "gs-losses/equipment", "2024-11-23/APC")
    assert (apcs["category"], apcs["count"]["value"]) == ("armoured_vehicles", 19192)
    before = await _claim(client, "gs-losses/equipment", "2023-05-27/tank")
    after = await _claim(client, "gs-losses/equipment", "2023-05-28/tank")
    assert after["count"]["value"] < before["count"]["value"]

    # And the timeline has that day's tallies, one row each, on the day they count up to
    rows = await _timeline(
        client,
        kind="equipment_losses,casualties",
        occurred_from="2024-11-23",
        occurred_to="2024-11-24",
        limit=50,
        min_position=answer.last_position,
    )
    summaries = {row["summary"] for row in rows}
    assert "Russia lost 9,419 tank since 2022-02-24" in summaries
    assert "Russia lost 19,192 APC since 2022-02-24" in summaries
    assert "Russia (military): about 729,720 people lost (personnel) since 2022-02-24" in summaries
    assert {row["source"] for row in rows} == {"General Staff of the Armed Forces of Ukraine"}
    assert len(rows) == 14  # 13 equipment categories that day and the personnel


async def test_the_isw_share_stands_beside_the_seed_articles_fifth(
    client: Client, store: EventStore
) -> None:
    # Given the seed article and ISW's daily areas
    await load_demo(ReportService(store))
    answer = await import_datasets(
        store,
        read_format(Format.ISW_AREA, [DATA / "area_assessed_as_russia_controlled.csv"], None),
    )
    assert answer.last_position is not None

    # Then the timeline of occupation shares on 23 November 2024 shows both claims
    rows = await _timeline(
        client,
        kind="occupation_share",
        occurred_from="2024-11-23",
        occurred_to="2024-11-24",
        min_position=answer.last_position,
    )
    assert {(row["source"], row["summary"]) for row in rows} == {
        ("Reuters", "Russia occupies about 20 percent of UA"),
        (
            "Institute for the Study of War",
            "Russia occupies 19.0063 percent (114,727 km2) of UA",
        ),
    }
