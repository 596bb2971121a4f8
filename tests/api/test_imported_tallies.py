"""After `timeline import isw-area`, the API answers the ISW share beside the seed's "a fifth",
from the timeline's rows (kind, summary, source). The General Staff's tallies, imported once
for several stories, are tests/api/test_tallies_api.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.settings import ApiSettings
from application.imports import Format, read_format
from application.imports.importer import import_datasets
from application.reports import ReportService
from seed.demo import load_demo
from store.event_store import EventStore
from tests.api.conftest import Client

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"


@pytest.fixture
def api_settings() -> ApiSettings:
    # The timeline folds ISW's daily areas before it answers for them: on a machine busy
    # with other tests that may take longer than the usual wait.
    return ApiSettings(default_wait_seconds=60.0)


async def _timeline(client: Client, **params: str | int) -> list[dict[str, Any]]:
    response = await client.get("/v1/timeline", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["items"]
    return rows


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
