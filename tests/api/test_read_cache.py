"""A read asked again is answered from memory (api/read_cache.py): the same bytes as the
handler gives, never once the view has moved, and never to a key that may not read."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from application.commands import FileReport
from application.reports import ReportService
from domain.claims import TerritoryControl
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.api_keys import revoke_key
from store.event_store import EventStore
from tests.api.conftest import Keys

ANSWER_HEADERS = ("content-type", "content-length", "etag", "x-timeline-position", "cache-control")


def _belgorod_filing() -> FileReport:
    """The demo's 800 km² claim, about Belgorod Oblast instead of Kursk."""
    (filing,) = [
        demo.filing
        for demo in demo_reports()
        if isinstance(demo.filing.claim, TerritoryControl) and demo.filing.claim.area.value == 800
    ]
    claim = msgspec.structs.replace(filing.claim, region="Belgorod Oblast")
    return msgspec.structs.replace(filing, claim=claim, report_id=None)


async def _settled(client: AsyncTestClient, position: int) -> None:  # type: ignore[type-arg]
    for path in ("/v1/holdings", "/v1/timeline"):
        response = await client.get(path, params={"min_position": position})
        assert response.status_code == 200, response.text


async def test_asked_again_the_same_answer(client: AsyncTestClient, store: EventStore) -> None:  # type: ignore[type-arg]
    await load_demo(ReportService(store))
    await _settled(client, await store.position())
    for url in ("/v1/holdings", "/v1/holdings/kursk-oblast", "/v1/timeline?limit=5&kind=strike"):
        answers = [await client.get(url) for _ in range(3)]
        assert {answer.status_code for answer in answers} == {200}
        assert len({answer.content for answer in answers}) == 1
        for name in ANSWER_HEADERS:
            assert len({answer.headers[name] for answer in answers}) == 1, name
        stale = await client.get(url, headers={"If-None-Match": answers[0].headers["etag"]})
        assert stale.status_code == 304


async def test_a_new_report_is_read_at_once(client: AsyncTestClient, store: EventStore) -> None:  # type: ignore[type-arg]
    service = ReportService(store)
    await load_demo(service)
    await _settled(client, await store.position())
    before = await client.get("/v1/holdings")
    assert b"belgorod-oblast/ukraine" not in before.content
    assert (await client.get("/v1/holdings")).content == before.content

    filed = await service.file(_belgorod_filing())
    await _settled(client, filed.last_position)
    after = await client.get("/v1/holdings")
    assert b"belgorod-oblast/ukraine" in after.content
    assert int(after.headers["x-timeline-position"]) >= filed.last_position


async def test_only_keys_that_may_read_are_answered(
    client: AsyncTestClient,  # type: ignore[type-arg]
    store: EventStore,
    pool: asyncpg.Pool,
    keys: Keys,
) -> None:
    await load_demo(ReportService(store))
    await _settled(client, await store.position())
    reader = Keys.header(keys.reader)
    assert (await client.get("/v1/holdings", headers=reader)).status_code == 200
    assert (await client.get("/v1/holdings", headers=reader)).status_code == 200

    for refused in (
        {"Authorization": ""},
        Keys.header("tl_nope"),
        {"Authorization": f"Basic {keys.reader}"},
    ):
        assert (await client.get("/v1/holdings", headers=refused)).status_code == 401

    await revoke_key(pool, "test reader")
    for _ in range(50):  # the revocation's NOTIFY empties the key cache
        response = await client.get("/v1/holdings", headers=reader)
        if response.status_code == 401:
            break
        await asyncio.sleep(0.1)
    assert response.status_code == 401
