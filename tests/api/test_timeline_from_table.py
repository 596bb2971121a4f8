"""The live timeline, sources and regions come from `timeline_entries`, not from memory, and
say exactly what the replay says for the same position: the same bytes, page by page."""

from __future__ import annotations

import asyncpg
import pytest

from api.services import services_of
from application.commands import RetractReport
from application.reports import ReportService
from seed.demo import load_demo
from seed.kursk_article import demo_report_id
from store.event_store import EventStore
from tests.api.conftest import Client

QUESTIONS = [
    {},
    {"kind": "strike,territory_control"},
    {"region": "Kursk Oblast", "limit": 2},
    {"region": "kursk-oblast", "actor": "north-korea"},
    {"source": "REUTERS"},
    {"occurred_from": "2024-11-22", "occurred_to": "2024-11-23"},
    {"occurred_from": "2024-08-01T00:00:00Z", "limit": 3},
    {"reported_from": "2024-11-23", "reported_to": "2024-11-24"},
    {"verification": "retracted"},
    {"include_retracted": "true", "limit": 5},
]


async def _walk(client: Client, params: dict[str, str | int]) -> list[bytes]:
    """Every page's body, following next_cursor."""
    bodies = []
    cursor = None
    while True:
        asked = dict(params) | ({"cursor": cursor} if cursor else {})
        response = await client.get("/v1/timeline", params=asked)
        assert response.status_code == 200, response.text
        bodies.append(response.content)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return bodies


@pytest.mark.parametrize("question", QUESTIONS)
async def test_live_timeline_pages_are_the_replays_bytes(
    client: Client, store: EventStore, question: dict[str, str | int]
) -> None:
    # Given the seed article, with the Kursk peak retracted
    service = ReportService(store)
    await load_demo(service)
    await service.apply(demo_report_id("kursk-peak-holding"), RetractReport(reason="superseded"))
    head = await store.position()

    # When the pages are walked live (from the entries) and as the log stood at the head
    # (a past page: the entries changed by then and the rows they replaced, which
    # tests/integration/test_past_answers.py holds to the replay's), then they are the same
    # bytes
    live = await _walk(client, {**question, "min_position": head})
    replayed = await _walk(client, {**question, "position": head})
    assert live == replayed


async def test_live_sources_and_regions_are_the_replays_bytes(
    client: Client, store: EventStore
) -> None:
    service = ReportService(store)
    await load_demo(service)
    await service.apply(demo_report_id("kursk-peak-holding"), RetractReport(reason="superseded"))
    head = await store.position()
    for path in ("/v1/sources", "/v1/regions"):
        live = await client.get(path, params={"min_position": head})
        replayed = await client.get(path, params={"position": head})
        assert live.status_code == replayed.status_code == 200
        assert live.content == replayed.content, path


async def test_the_api_holds_no_timeline_row_in_memory(
    client: Client, store: EventStore, pool: asyncpg.Pool
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    response = await client.get("/v1/timeline", params={"min_position": head, "limit": 200})
    assert len(response.json()["items"]) == 14
    timeline = services_of(client.app).views["timeline"]
    assert timeline.position == head
    assert timeline.docs == {}
    assert await pool.fetchval("SELECT count(*) FROM view_rows WHERE view = 'timeline'") == 0


@pytest.mark.parametrize("asked", [{}, {"as_of": "2024-09-01"}, {"position": "3"}])
async def test_a_cursor_that_is_no_sort_key_is_a_bad_parameter(
    client: Client, store: EventStore, asked: dict[str, str]
) -> None:
    await load_demo(ReportService(store))
    # "a|b|c" in base64: three parts, as a cursor has, but no times; live, and about the past
    response = await client.get(
        "/v1/timeline", params={"cursor": "YXxifGM", **asked, "min_position": "16"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "cursor"


async def test_the_api_holds_only_the_rows_that_do_not_grow_with_the_log(
    client: Client, store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the demo, every view served at its head
    await load_demo(ReportService(store))
    head = await store.position()
    for name in ("strikes", "holdings-series", "forces-history", "front-series", "holdings"):
        response = await client.get(f"/v1/{name}", params={"min_position": head})
        assert response.status_code == 200, response.text
        assert response.json()["rows"], name
    # Then this process holds the rows of the views with a row per region, actor or
    # category, and none of those with a row per report or month: they were read from
    # PostgreSQL
    views = services_of(client.app).views.views
    assert {name for name, view in views.items() if view.docs} == {
        "holdings",
        "damage",
        "forces",
        "front",
    }
    # and a strike's place comes the same way to the GeoJSON feed
    features = await client.get("/v1/strikes.geojson", params={"min_position": head})
    assert features.status_code == 200
    assert features.json()["position"] == head
