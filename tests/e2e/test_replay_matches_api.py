"""`timeline replay --json` prints a view exactly as the API serves it for the same question:
byte for byte, at the head, at a position, as known at a time and as of a date."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import ApiSettings
from application.reports import ReportService
from seed.demo import load_demo
from store.api_keys import Role, create_key
from store.database import Database
from store.event_store import EventStore
from tests.e2e.conftest import RunTimeline


async def test_cli_replay_and_api_answer_the_same_bytes(
    run_timeline: RunTimeline, pool: asyncpg.Pool, database_url: str
) -> None:
    store = EventStore(pool)
    await load_demo(ReportService(store))
    head = await store.position()
    known_at = await pool.fetchval(
        "SELECT recorded_at FROM timeline_events WHERE notification_id = 9"
    )
    secret = (await create_key(pool, "auditor", Role.READER)).secret
    app = create_app(Database(url=database_url, embedded=False), settings=ApiSettings())
    questions = [
        ("holdings", ["--position", str(head)], {"min_position": str(head)}),
        ("holdings", ["--position", "8"], {"position": "8"}),
        ("forces", ["--known-at", known_at.isoformat()], {"known_at": known_at.isoformat()}),
        ("damage", ["--as-of", "2024-09-01"], {"as_of": "2024-09-01", "min_position": str(head)}),
    ]
    async with AsyncTestClient(app=app, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        for view, options, params in questions:
            printed = run_timeline("replay", "--view", view, *options, "--json")
            assert printed.returncode == 0, printed.stderr
            served = await client.get(f"/v1/{view}", params=params)
            assert served.status_code == 200, served.text
            assert printed.stdout.rstrip("\n").encode() == served.content, (view, options)
