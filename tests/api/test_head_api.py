"""HEAD wherever GET: a dashboard or a monitor may ask for a read's headers (its ETag, its
log position, its length) without its body."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from application.reports import ReportService
from seed.demo import load_demo
from store.event_store import EventStore
from tests.api.conftest import Keys

Client = AsyncTestClient[Litestar]


@pytest.mark.parametrize(
    "path", ["/v1/holdings", "/v1/timeline?limit=2", "/v1/sources", "/v1/strikes.geojson"]
)
async def test_head_answers_a_reads_headers_without_its_body(
    client: Client, store: EventStore, keys: Keys, path: str
) -> None:
    await load_demo(ReportService(store))
    position = await store.position()
    reader = {**Keys.header(keys.reader), "If-None-Match": '"none"'}
    path = f"{path}{'&' if '?' in path else '?'}min_position={position}"
    got = await client.get(path, headers=reader)

    head = await client.head(path, headers=reader)

    assert got.status_code == head.status_code == 200
    assert head.content == b""
    for name in ("etag", "x-timeline-position", "content-type", "content-length"):
        assert head.headers[name] == got.headers[name]
    assert int(head.headers["content-length"]) == len(got.content) > 0


async def test_head_on_the_health_check_and_a_missing_report(client: Client) -> None:
    health = await client.head("/health")
    missing = await client.head("/v1/reports/5c0f1d2e-8a00-4b6e-9d3c-000000000000")

    assert health.status_code == 200
    assert health.content == b""
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.content == b""


async def test_head_on_the_stream_answers_its_headers_and_ends(client: Client, keys: Keys) -> None:
    response = await client.head("/v1/stream", headers=Keys.header(keys.reader))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == b""


async def test_head_is_still_refused_where_only_post_answers(client: Client) -> None:
    response = await client.head("/v1/reports:batch")

    assert response.status_code == 405
