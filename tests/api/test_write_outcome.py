"""What a failed write says about itself: "nothing was written" only when nothing was sent;
when the connection is lost once the append was sent, the write may have been recorded, and
the answer says so (the issue saw an event committed 10 ms before PostgreSQL went down, and
a 503 that said nothing was written)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.services import services_of
from api.settings import ApiSettings
from store.database import Database
from store.event_store import EventStore
from tests.api.conftest import Keys
from tests.api.test_writes_api import assert_problem, filing
from tests.pg_proxy import CuttingProxy, running

KURSK_800 = {"Idempotency-Key": "kursk-800-km2 2024-11-23"}


@pytest.fixture
def proxy(service_url: str, tmp_path: Path) -> Iterator[CuttingProxy]:
    with running(CuttingProxy(service_url, tmp_path)) as proxy:
        yield proxy


@pytest.fixture
async def client_via_proxy(
    proxy: CuttingProxy, keys: Keys
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app, reaching its database through the proxy, with the editor key."""
    app = create_app(
        Database(url=proxy.url, embedded=False), run_projections=False, settings=ApiSettings()
    )
    async with AsyncTestClient(app=app, timeout=30) as client:
        client.headers.update(Keys.header(keys.editor))
        yield client


def assert_outcome_unknown(response: Any) -> str:
    problem = assert_problem(response, 503, "write-outcome-unknown")
    assert response.headers["retry-after"] == "5"
    detail: str = problem["detail"]
    assert "may or may not have been recorded" in detail
    assert "nothing was written" not in detail
    return detail


async def test_a_connection_lost_after_the_commit_is_an_unknown_outcome_and_the_retry_replays(
    client_via_proxy: AsyncTestClient[Litestar], proxy: CuttingProxy, store: EventStore
) -> None:
    # Given the connection drops once PostgreSQL has committed the append, before the answer
    proxy.cut_next_append = True
    report = filing("kursk-current-holding")
    lost = await client_via_proxy.post("/v1/reports", json=report, headers=KURSK_800)

    # Then the answer does not pretend nothing was written, and says how to find out
    assert proxy.cuts == 1
    detail = assert_outcome_unknown(lost)
    assert "retry with the same Idempotency-Key" in detail
    # (and indeed the report was recorded)
    assert await store.position() == 1

    # When the client retries with the same key, it gets the first answer; nothing more is written
    retry = await client_via_proxy.post("/v1/reports", json=report, headers=KURSK_800)
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["position"] == 1
    assert await store.position() == 1


async def test_without_an_idempotency_key_the_unknown_outcome_warns_of_a_duplicate(
    client_via_proxy: AsyncTestClient[Litestar], proxy: CuttingProxy, store: EventStore
) -> None:
    proxy.cut_next_append = True
    lost = await client_via_proxy.post("/v1/reports", json=filing("berdiansk-strike"))

    detail = assert_outcome_unknown(lost)
    assert "had no Idempotency-Key, so a retry may record it twice" in detail
    assert await store.position() == 1


async def test_a_database_that_cannot_be_reached_still_says_nothing_was_written(
    client_via_proxy: AsyncTestClient[Litestar], proxy: CuttingProxy, store: EventStore
) -> None:
    # Given the database goes away: the pool's connections are gone and no new one connects
    proxy.call(proxy.stop_accepting_and_drop_all())
    await services_of(client_via_proxy.app).pool.expire_connections()

    # When a write comes, the append cannot even be sent
    refused = await client_via_proxy.post(
        "/v1/reports", json=filing("kursk-current-holding"), headers=KURSK_800
    )

    problem = assert_problem(refused, 503, "database-unavailable")
    assert "nothing was written" in problem["detail"]
    assert await store.position() == 0
