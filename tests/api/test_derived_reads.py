"""Reads derived from the views: sources, regions, strikes as GeoJSON, one report's history,
and the timeline asked about the past."""

from __future__ import annotations

import msgspec

from application.reports import ReportService
from domain.claims import Strike
from domain.events import ReportFiled
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.event_store import EventStore
from tests.api.conftest import Client


async def _loaded(store: EventStore) -> int:
    await load_demo(ReportService(store))
    return await store.position()


async def test_sources_and_regions(client: Client, store: EventStore) -> None:
    head = await _loaded(store)
    sources = (await client.get("/v1/sources", params={"min_position": head})).json()
    assert sources["position"] == head
    by_name = {source["source"]: source for source in sources["sources"]}
    zelenskiy = by_name["President Volodymyr Zelenskiy"]
    assert zelenskiy["kinds"] == {"damage_tally": 2}
    assert zelenskiy["outlets"] == ["Reuters"]
    assert sum(source["reports"] for source in sources["sources"]) == 14
    regions = (await client.get("/v1/regions")).json()["regions"]
    kursk = next(region for region in regions if region["key"] == "kursk-oblast")
    assert kursk["country"] == "RU"
    assert "North Korea" in kursk["actors"]
    assert kursk["kinds"]["territory_control"] == 2


async def test_strikes_geojson_places_the_demo_strike_and_only_strikes_with_coordinates(
    client: Client, store: EventStore
) -> None:
    head = await _loaded(store)
    (berdiansk,) = [d for d in demo_reports() if isinstance(d.filing.claim, Strike)]
    response = await client.get("/v1/strikes.geojson", params={"min_position": head})
    assert response.headers["content-type"].startswith("application/geo+json")
    (feature,) = response.json()["features"]
    assert feature["geometry"] == {"coordinates": [36.78, 46.75], "type": "Point"}
    assert feature["properties"]["place"] == "Berdiansk"
    assert feature["id"] == str(berdiansk.report_id)
    # a strike whose place has no coordinates is a strike, but not on the map
    claim = berdiansk.filing.claim
    assert isinstance(claim, Strike)
    unplaced = msgspec.structs.replace(
        claim, place=msgspec.structs.replace(claim.place, latitude=None, longitude=None)
    )
    filed = await ReportService(store).file(
        msgspec.structs.replace(berdiansk.filing, claim=unplaced, report_id=None)
    )
    at = {"min_position": filed.last_position}
    mapped = (await client.get("/v1/strikes.geojson", params=at)).json()
    assert [f["id"] for f in mapped["features"]] == [str(berdiansk.report_id)]
    assert len((await client.get("/v1/strikes", params=at)).json()["rows"]) == 2
    # and asked about the log before the strike was filed (a replay), there was none
    before = await client.get("/v1/strikes.geojson", params={"position": 3})
    assert before.json() == {
        "features": [],
        "limit": 200,
        "next_cursor": None,
        "position": 3,
        "type": "FeatureCollection",
    }


async def test_strikes_geojson_comes_a_page_of_strikes_at_a_time(
    client: Client, store: EventStore
) -> None:
    # Given the demo's strike on Berdiansk and two more on the port, placed there too
    await _loaded(store)
    (berdiansk,) = [d for d in demo_reports() if isinstance(d.filing.claim, Strike)]
    for _ in range(2):
        filed = await ReportService(store).file(
            msgspec.structs.replace(berdiansk.filing, report_id=None)
        )
    strikes = await client.get("/v1/strikes", params={"min_position": filed.last_position})
    every = [row["key"] for row in strikes.json()["rows"]]
    assert len(every) == 3
    for asked in ({"min_position": filed.last_position}, {"position": filed.last_position}):
        # When a map follows pages of two strikes
        ids, cursor, pages = [], None, 0
        while True:
            params: dict[str, str | int] = {**asked, "limit": 2}
            if cursor is not None:
                params["cursor"] = cursor
            page = (await client.get("/v1/strikes.geojson", params=params)).json()
            assert page["limit"] == 2
            assert len(page["features"]) <= 2
            ids += [feature["id"] for feature in page["features"]]
            pages, cursor = pages + 1, page["next_cursor"]
            if cursor is None:
                break
        # Then it has every strike once, in key order, in two pages
        assert (ids, pages) == (every, 2), asked


async def test_sources_asked_about_the_past_are_the_sources_known_then(
    client: Client, store: EventStore
) -> None:
    head = await _loaded(store)
    live = (await client.get("/v1/sources", params={"min_position": head})).json()
    early = (await client.get("/v1/sources", params={"position": 3})).json()
    filed_by_then = [e for e in await store.read_log(limit=3) if isinstance(e.event, ReportFiled)]
    assert early["position"] == 3
    assert 0 < sum(source["reports"] for source in early["sources"]) == len(filed_by_then)
    assert sum(source["reports"] for source in live["sources"]) == 14
    assert {s["source"] for s in early["sources"]} <= {s["source"] for s in live["sources"]}


async def test_one_report_with_its_history_and_its_version_as_etag(
    client: Client, store: EventStore
) -> None:
    await _loaded(store)
    (berdiansk,) = [d for d in demo_reports() if isinstance(d.filing.claim, Strike)]
    response = await client.get(f"/v1/reports/{berdiansk.report_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["report"]["version"] == 2
    assert [entry["type"] for entry in body["history"]] == [
        "report-filed",
        "report-corroborated",
    ]
    assert response.headers["etag"] == '"2"'
    assert response.headers["x-timeline-position"] == str(body["history"][-1]["position"])
    same = await client.get(f"/v1/reports/{berdiansk.report_id}", headers={"If-None-Match": '"2"'})
    assert same.status_code == 304
    missing = await client.get("/v1/reports/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_timeline_as_known_at_a_position_and_with_filters(
    client: Client, store: EventStore
) -> None:
    head = await _loaded(store)
    early = (await client.get("/v1/timeline", params={"position": 5, "limit": 200})).json()
    assert early["position"] == 5
    assert {item["filed_at_position"] for item in early["items"]} <= {1, 3, 4, 5}
    strikes = (
        await client.get("/v1/timeline", params={"kind": "strike", "min_position": head})
    ).json()
    assert [item["kind"] for item in strikes["items"]] == ["strike"]
    bad = await client.get("/v1/timeline", params={"kind": "parade"})
    assert bad.status_code == 400
    assert "parade" in bad.json()["detail"]
    assert "territory_control" in bad.json()["detail"]
    cursor = await client.get("/v1/timeline", params={"cursor": "not-a-cursor"})
    assert cursor.status_code == 400
    assert cursor.json()["field"] == "cursor"
    future = await client.get("/v1/holdings", params={"known_at": "2999-01-01T00:00:00Z"})
    assert future.status_code == 400
    naive = await client.get("/v1/holdings", params={"known_at": "2024-11-24T00:00:00"})
    assert naive.status_code == 400
    assert naive.json()["field"] == "known_at"
