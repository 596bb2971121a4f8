"""Health for orchestrators: /health/live answers while the process runs, whatever the
database; /health/ready only while the database answers and no view lags too far behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import ApiSettings
from application.reports import ReportService
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from seed.demo import load_demo
from store.database import Database
from store.event_store import EventStore
from tests.pg_proxy import CuttingProxy, running


async def test_ready_is_503_naming_the_views_behind_until_they_catch_up(
    pool: asyncpg.Pool, service_url: str
) -> None:
    # No runners in this process: the views stay where they are until rebuilt below.
    app = create_app(
        Database(url=service_url, embedded=False),
        run_projections=False,
        settings=ApiSettings(ready_max_lag=5),
    )
    added = await load_demo(ReportService(EventStore(pool)))
    assert added == 16
    async with AsyncTestClient(app=app, timeout=30) as client:
        behind = await client.get("/health/ready")
        alive = await client.get("/health/live")
        await rebuild_views(pool, list(VIEWS.values()))
        caught_up = await client.get("/health/ready")
        health = await client.get("/health")

    assert behind.status_code == 503
    body: dict[str, Any] = behind.json()
    assert (body["status"], body["database"], body["max_lag"]) == ("not_ready", "ok", 5)
    assert {view["view"] for view in body["lagging"]} == set(VIEWS)
    assert {view["lag"] for view in body["lagging"]} == {16}
    assert all(view["lag_seconds"] >= 0 for view in body["lagging"])
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok"}
    assert caught_up.status_code == 200
    assert caught_up.json() == {"status": "ready", "database": "ok", "max_lag": 5, "lagging": []}
    assert health.json() == {"status": "ok", "database": "ok", "position": 16}


async def test_live_asks_nothing_of_the_database_and_ready_says_when_it_is_gone(
    pool: asyncpg.Pool, service_url: str, tmp_path: Path
) -> None:
    with running(CuttingProxy(service_url, tmp_path)) as proxy:
        app = create_app(Database(url=proxy.url, embedded=False), run_projections=False)
        async with AsyncTestClient(app=app, timeout=30) as client:
            proxy.call(proxy.stop_accepting_and_drop_all())
            alive = await client.get("/health/live")
            ready = await client.get("/health/ready")

    assert alive.status_code == 200
    assert alive.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "not_ready",
        "database": "unreachable",
        "max_lag": 1000,
        "lagging": [],
    }
