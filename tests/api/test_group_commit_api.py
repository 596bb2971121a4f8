"""Editors writing at the same moment, over real HTTP: their writes share one transaction
(store/group_commit.py), and each still gets its own answer, a refusal included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from litestar import Litestar

from api.app import create_app
from api.services import services_of
from api.settings import ApiSettings, LimitSettings
from store.chain import verify_chain
from store.database import Database
from store.event_store import EventStore
from tests.api.conftest import Keys
from tests.api.live_server import serving
from tests.api.test_writes_api import assert_problem, filing

KURSK_800 = filing("kursk-current-holding")
BERDIANSK = filing("berdiansk-strike")
DISPUTE = {"by": {"source": "Russian Defence Ministry", "side": "russia"}, "reason": "less"}
WAITING_SECONDS = 30.0


@pytest.fixture
def app(pool: asyncpg.Pool, service_url: str) -> Litestar:
    return create_app(
        Database(url=service_url, embedded=False),
        run_projections=False,
        settings=ApiSettings(limits=LimitSettings.unlimited()),
    )


@pytest.fixture
def served(app: Litestar) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
async def http(served: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=served, headers=Keys.header(keys.editor), timeout=30
    ) as client:
        yield client


# A group that waits for the log's lock, as PostgreSQL sees it.
WAITING_FOR_THE_LOG = """
SELECT count(*) FROM pg_locks WHERE relation = 'timeline_events'::regclass AND NOT granted
"""


async def _group_waiting_for_the_log(pool: asyncpg.Pool) -> None:
    async with asyncio.timeout(WAITING_SECONDS):
        while await pool.fetchval(WAITING_FOR_THE_LOG) == 0:  # noqa: ASYNC110 (a poll)
            await asyncio.sleep(0.01)


async def _appends_waiting(store: EventStore, count: int) -> None:
    """Until `count` appends wait behind the group in the database."""
    async with asyncio.timeout(WAITING_SECONDS):
        while store.append_groups.waiting < count:  # noqa: ASYNC110 (a poll of another thread)
            await asyncio.sleep(0.01)


async def test_writes_sent_together_share_a_transaction_and_a_stale_one_alone_is_412(
    app: Litestar, http: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    # Given the 800 km² report, filed, and disputed once already (it is at version 2)
    filed = (await http.post("/v1/reports", json=KURSK_800)).json()
    reports = f"/v1/reports/{filed['report_id']}"
    first = await http.post(f"{reports}/disputes", json=DISPUTE, headers={"If-Match": "1"})
    assert first.status_code == 201
    store: EventStore = services_of(app).store  # the app's, on the server's loop: figures only
    groups_before = store.append_groups.groups

    # and the log locked for a while by another writer (a long import, say)
    async with pool.acquire() as other_writer, other_writer.transaction():
        await other_writer.execute("LOCK TABLE timeline_events IN EXCLUSIVE MODE")
        # When a filing reaches the log and waits for it
        blocked = asyncio.ensure_future(http.post("/v1/reports", json=BERDIANSK))
        await _group_waiting_for_the_log(pool)
        # and fourteen more writes arrive behind it: Berdiansk strikes, a filing sent twice
        # with one Idempotency-Key, and two editors' disputes, both of version 2
        together = [
            *(http.post("/v1/reports", json=BERDIANSK) for _ in range(5)),
            http.post(f"{reports}/disputes", json=DISPUTE, headers={"If-Match": "2"}),
            http.post("/v1/reports", json=KURSK_800, headers={"Idempotency-Key": "kursk-a"}),
            http.post("/v1/reports", json=KURSK_800, headers={"Idempotency-Key": "kursk-a"}),
            http.post(f"{reports}/disputes", json=DISPUTE, headers={"If-Match": "2"}),
            *(http.post("/v1/reports", json=BERDIANSK) for _ in range(5)),
        ]
        answers_later = asyncio.gather(*together)
        await _appends_waiting(store, len(together))
    answers = await answers_later
    assert (await blocked).status_code == 201

    # Then the fourteen went in one transaction, after the blocked filing's
    assert store.append_groups.groups == groups_before + 2
    assert store.append_groups.largest == len(together)
    # and of the two disputes, the one the group took first recorded version 3; the other
    # (whichever reached the process second), written against a version that had moved on
    # inside the group, alone is refused, having written nothing
    recorded, refused = sorted((answers[5], answers[8]), key=lambda answer: answer.status_code)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["version"] == 3
    problem = assert_problem(refused, 412, "stale-version")
    assert (problem["expected_version"], problem["current_version"]) == (2, 3)
    # and every filing is recorded with a position of its own
    filings = [a for n, a in enumerate(answers) if n not in (5, 8)]
    assert [a.status_code for a in filings] == [201] * 12, [a.text for a in filings]
    # the key sent twice filed one report, answered twice, the second time as a replay
    once, twice = answers[6].json(), answers[7].json()
    assert (once["report_id"], once["position"]) == (twice["report_id"], twice["position"])
    assert (once["replayed"], twice["replayed"]) == (False, True)
    positions = {a.json()["position"] for a in filings}
    assert len(positions) == 11
    head = await pool.fetchval("SELECT max(notification_id) FROM timeline_events")
    assert head == max(positions | {recorded.json()["position"]})
    # and the log's chain holds, gap included (the refused dispute's position was skipped)
    assert (await verify_chain(pool)).intact
