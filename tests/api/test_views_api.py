"""Reading the views over HTTP: live answers from memory equal the audit replay's bytes."""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.live_views import HELD
from api.row_pages import DEFAULT_ROWS_PAGE
from api.settings import ApiSettings
from application.reports import ReportService
from projections.registry import VIEWS
from projections.replay import encode_answer, replay
from seed.demo import load_demo
from seed.kursk_article import demo_report_id
from store.database import Database
from store.event_store import EventStore
from tests.api.conftest import Client, Keys

_canonical = msgspec.json.Encoder(order="sorted")


async def _settled(client: Client, position: int) -> None:
    for view in VIEWS:
        path = "/v1/timeline" if view == "timeline" else f"/v1/{view}"
        response = await client.get(path, params={"min_position": position})
        assert response.status_code == 200, response.text


async def test_live_view_equals_replay_bytes(
    client: Client,
    store: EventStore,
    pool: asyncpg.Pool,
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    await _settled(client, head)
    for view in (name for name in VIEWS if name != "timeline"):  # the timeline is paged
        response = await client.get(f"/v1/{view}", params={"min_position": head})
        assert response.status_code == 200
        assert response.headers["x-timeline-position"] == str(head)
        replayed = encode_answer(await replay(pool, view))
        if view in HELD:
            assert response.content == replayed
        else:  # a first page, the demo's rows all on it: the same bytes but for the paging
            page = msgspec.json.decode(response.content)
            assert (page.pop("limit"), page.pop("next_cursor")) == (DEFAULT_ROWS_PAGE, None)
            assert _canonical.encode(page) == replayed


async def test_strikes_and_histories_come_a_page_at_a_time_live_and_in_the_past(
    client: Client, store: EventStore, pool: asyncpg.Pool
) -> None:
    # Given the demo (three days of forces' history, a strike, a holding)
    await load_demo(ReportService(store))
    head = await store.position()
    await _settled(client, head)
    for view in ("forces-history", "strikes", "holdings"):
        questions: list[dict[str, str | int]] = [
            {"min_position": head},
            {"position": head - 1, "as_of": "2024-11-30"},
        ]
        for asked in questions:
            past = "position" in asked
            everything = await replay(
                pool,
                view,
                position=head - 1 if past else None,
                as_of=date(2024, 11, 30) if past else None,
            )
            # When a reader follows the pages of one row each
            keys, cursor, pages = [], None, 0
            while True:
                params: dict[str, str | int] = {**asked, "limit": 1}
                if cursor is not None:
                    params["cursor"] = cursor
                response = await client.get(f"/v1/{view}", params=params)
                assert response.status_code == 200, response.text
                page = response.json()
                assert page["limit"] == 1
                assert len(page["rows"]) <= 1
                keys += [row["key"] for row in page["rows"]]
                rows = {row.key: row.row for row in everything.rows}
                for row in page["rows"]:
                    assert row["row"] == msgspec.json.decode(msgspec.json.encode(rows[row["key"]]))
                pages += 1
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            # Then it has read every row once, in key order, a row a page
            assert keys == [row.key for row in everything.rows], (view, asked)
            assert pages == max(len(keys), 1)


async def test_a_cursor_we_did_not_give_or_a_page_too_large_to_explain_is_a_400(
    client: Client, store: EventStore
) -> None:
    await load_demo(ReportService(store))
    asked: list[dict[str, str | int]] = [
        {"cursor": "not a cursor"},
        {"limit": 0},
        {"limit": 1_001},
        {"limit": 101, "explain": "true"},
    ]
    for params in asked:
        response = await client.get("/v1/strikes", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] in {"cursor", "limit", "query parameter limit"}


async def test_kursk_holding(client: Client, store: EventStore) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    response = await client.get("/v1/holdings/Kursk Oblast", params={"min_position": head})
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [row["key"] for row in rows] == ["kursk-oblast/ukraine"]
    assert rows[0]["row"]["current"]["area"]["value"] == 800.0
    missing = await client.get("/v1/holdings/atlantis")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "kursk-oblast" in missing.json()["detail"]


async def test_a_holdings_series_by_key_gives_one_holdings_days_and_nothing_else(
    client: Client, store: EventStore, pool: asyncpg.Pool
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()

    response = await client.get(
        "/v1/holdings-series", params={"key": "Kursk Oblast/Ukraine", "min_position": head}
    )

    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert all(row["key"].startswith("kursk-oblast/ukraine/") for row in rows)
    assert [row["row"]["day"] for row in rows] == sorted(row["row"]["day"] for row in rows)
    points = [point["area"]["value"] for row in rows for point in row["row"]["points"]]
    assert points == [1376, 800]
    everything = (await replay(pool, "holdings-series")).rows
    assert [row["key"] for row in rows] == [
        row.key for row in everything if row.key.startswith("kursk-oblast/ukraine/")
    ]
    nothing = await client.get("/v1/holdings-series", params={"key": "atlantis"})
    assert nothing.status_code == 200
    assert nothing.json()["rows"] == []
    unexplained = await client.get(
        "/v1/holdings-series", params={"key": "atlantis", "explain": "true"}
    )
    assert unexplained.status_code == 404
    assert unexplained.headers["content-type"].startswith("application/problem+json")
    assert "kursk-oblast/ukraine/2024-08-01" in unexplained.json()["detail"]


async def test_etag_and_not_modified(client: Client, store: EventStore) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    first = await client.get("/v1/damage", params={"min_position": head})
    etag = first.headers["etag"]
    again = await client.get("/v1/damage", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


async def test_min_position_beyond_head_is_400(client: Client, store: EventStore) -> None:
    await load_demo(ReportService(store))
    response = await client.get("/v1/holdings", params={"min_position": 10_000})
    assert response.status_code == 400
    assert response.json()["field"] == "min_position"
    assert "beyond the head of the log (16)" in response.json()["detail"]


async def test_keys_and_roles(client: Client, keys: Keys) -> None:
    anonymous = await client.get("/v1/holdings", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    bad = await client.get("/v1/holdings", headers=Keys.header("tl_nope"))
    assert bad.status_code == 401
    via_header = await client.get(
        "/v1/holdings", headers={"Authorization": "", "X-API-Key": keys.reader}
    )
    assert via_header.status_code == 200


async def test_timeline_pages(client: Client, store: EventStore) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 4, "min_position": head}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/timeline", params=params)).json()
        seen += [item["report_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 14
    everything = (await client.get("/v1/timeline", params={"limit": 200})).json()
    assert [item["report_id"] for item in everything["items"]] == seen
    await asyncio.sleep(0)


async def test_explain_names_the_reports_behind_the_kursk_figure(
    client: Client,
    store: EventStore,
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    response = await client.get(
        "/v1/holdings/kursk-oblast", params={"explain": "true", "min_position": head}
    )
    assert response.status_code == 200, response.text
    assert int(response.headers["x-timeline-position"]) == head
    text = response.text
    assert "General Staff" in text
    assert "Reuters" in text
    assert "superseded" in text
    whole = await client.get("/v1/holdings", params={"explain": "true"})
    assert whole.status_code == 200
    empty_log = await client.get("/v1/damage", params={"explain": "true", "position": 0})
    assert empty_log.status_code == 200
    assert empty_log.json()["position"] == 0
    no_row = await client.get(
        "/v1/holdings/kursk-oblast", params={"explain": "true", "position": 2}
    )
    assert no_row.status_code == 404
    assert no_row.headers["content-type"].startswith("application/problem+json")


async def test_views_behind_a_reachable_position_answer_503_with_retry_after(
    pool: asyncpg.Pool, database_url: str, keys: Keys, store: EventStore
) -> None:
    # No projection runners in this process: the views stay where they are.
    app = create_app(
        Database(url=database_url, embedded=False),
        run_projections=False,
        settings=ApiSettings(default_wait_seconds=0.2),
    )
    async with AsyncTestClient(app=app) as client:
        client.headers.update(Keys.header(keys.reader))
        await load_demo(ReportService(store))
        response = await client.get("/v1/holdings", params={"min_position": 16})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "not yet at 16" in response.json()["detail"]


async def test_a_strike_asked_by_its_key_is_read_from_its_versions_never_by_folding_the_log(
    client: Client, store: EventStore, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the demo, whose strike on Berdiansk's port the strikes' versions keep
    await load_demo(ReportService(store))
    head = await store.position()
    await _settled(client, head)
    berdiansk = str(demo_report_id("berdiansk-strike"))
    everything = await replay(pool, "strikes", position=head - 1, as_of=date(2024, 11, 30))

    def no_fold(*_: object, **__: object) -> None:
        raise AssertionError("the log was folded")

    monkeypatch.setattr("api.answers.past_answer", no_fold)
    monkeypatch.setattr("projections.explain.fold_stored", no_fold)
    # When a reader asks for it by its key about the past, and asks what stands behind it
    past = await client.get(
        "/v1/strikes", params={"position": head - 1, "as_of": "2024-11-30", "key": berdiansk}
    )
    explained = await client.get("/v1/strikes", params={"explain": "true", "key": berdiansk})
    typed = await client.get("/v1/strikes", params={"explain": "true", "key": berdiansk[:6]})

    # Then the row is the replay's, and the explanation names its report, by either key
    assert past.status_code == 200, past.text
    (row,) = past.json()["rows"]
    (replayed,) = (r for r in everything.rows if r.key == berdiansk)
    assert row["row"] == msgspec.json.decode(msgspec.json.encode(replayed.row))
    assert explained.status_code == typed.status_code == 200, explained.text
    assert [r["key"] for r in explained.json()["rows"]] == [berdiansk]
    assert typed.json()["rows"] == explained.json()["rows"]
