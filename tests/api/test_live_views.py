"""The in-memory views follow the log: new rows, changed rows, deleted rows, a rebuild's
switch to a new generation; after each, the live answer equals the replay's bytes."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec

from api.services import services_of
from application.commands import FileReport, RetractReport
from application.reports import ReportService
from domain.claims import TerritoryControl
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from projections.replay import encode_answer, replay
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.event_store import EventStore
from tests.api.conftest import Client


def _kursk_filing() -> FileReport:
    """The demo's 800 km² claim, moved to another region."""
    (filing,) = [
        demo.filing
        for demo in demo_reports()
        if isinstance(demo.filing.claim, TerritoryControl) and demo.filing.claim.area.value == 800
    ]
    claim = msgspec.structs.replace(filing.claim, region="Belgorod Oblast")
    return msgspec.structs.replace(filing, claim=claim, report_id=None)


async def _holdings(client: Client, position: int) -> bytes:
    response = await client.get("/v1/holdings", params={"min_position": position})
    assert response.status_code == 200, response.text
    assert int(response.headers["x-timeline-position"]) >= position
    return response.content


async def test_rows_appear_change_and_disappear(
    client: Client,
    store: EventStore,
    pool: asyncpg.Pool,
) -> None:
    service = ReportService(store)
    await load_demo(service)
    before = await _holdings(client, await store.position())
    assert b"belgorod-oblast/ukraine" not in before

    filed = await service.file(_kursk_filing())
    added = await _holdings(client, filed.last_position)
    assert b"belgorod-oblast/ukraine" in added
    assert added == encode_answer(await replay(pool, "holdings"))

    # Retracting the only claim deletes the row: the view reloads in full.
    report_id = filed.events[0].report_id
    retracted = await service.apply(report_id, RetractReport(reason="wrong region"))
    gone = await _holdings(client, retracted.last_position)
    assert b"belgorod-oblast/ukraine" not in gone
    assert gone == encode_answer(await replay(pool, "holdings"))


async def test_a_rebuild_switches_the_live_view_to_the_new_generation(
    client: Client,
    store: EventStore,
    pool: asyncpg.Pool,
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    before = await _holdings(client, head)
    (generation,) = await rebuild_views(pool, [VIEWS["holdings"]])
    for _ in range(100):
        response = await client.get("/v1/status")
        rows = {row["view"]: row for row in response.json()["views"]}
        if rows["holdings"]["generation"] == generation.generation:
            break
    after = await _holdings(client, head)
    assert after == before
    live = services_of(client.app).views["holdings"]
    for _ in range(200):
        if live.generation == generation.generation:
            break
        await asyncio.sleep(0.01)
    assert live.generation == generation.generation
