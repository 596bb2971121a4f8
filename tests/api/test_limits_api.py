"""The limits every client meets (api/limits.py): one key's flood, its streams, its questions
about the past and an address's wrong keys are refused with a problem that says when to
come back, while every other key goes on being answered."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.services import limits_of
from api.settings import ApiSettings, LimitSettings
from application.reports import ReportService
from projections.past_answers import past_answer
from projections.replay import ReplayAnswer
from seed.demo import load_demo
from seed.kursk_article import demo_report_id
from store.database import Database
from store.event_store import EventStore
from tests.api.conftest import Client, Keys
from tests.api.live_server import serving

PROBLEM = "application/problem+json"
# A token every 100 s: no refill can happen while a test runs, however slow the machine.
# Refusals are held back a second, as by default.
BURST_OF_THREE = LimitSettings(requests_per_second=0.01, burst=3)
ANSWER_REFUSALS_AT_ONCE = 0.0
BERDIANSK = demo_report_id("berdiansk-strike")


def _app(database_url: str, limits: LimitSettings, **settings: Any) -> Any:
    return create_app(
        Database(url=database_url, embedded=False),
        settings=ApiSettings(default_wait_seconds=3.0, limits=limits, **settings),
    )


@pytest.fixture
async def limited(pool: asyncpg.Pool, database_url: str, keys: Keys) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=_app(database_url, BURST_OF_THREE), timeout=30) as client:
        yield client


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert int(response.headers["retry-after"]) >= 1
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


async def test_the_request_after_the_burst_is_429_with_the_ratelimit_fields(
    limited: Client, keys: Keys
) -> None:
    reader = Keys.header(keys.reader)
    answers = [await limited.get("/v1/audit/head", headers=reader) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["ratelimit"].split(";")[1] for answer in answers] == [
        "r=2",
        "r=1",
        "r=0",
    ]
    assert {answer.headers["ratelimit-policy"] for answer in answers} == {'"per-key";q=3;w=300'}

    refused = await limited.get("/v1/audit/head", headers=reader)
    problem = _problem(refused, 429)
    assert problem["type"].endswith("/rate-limited")
    assert refused.headers["ratelimit-policy"] == '"per-key";q=3;w=300'
    assert refused.headers["ratelimit"] == f'"per-key";r=0;t={refused.headers["retry-after"]}'
    assert keys.reader not in refused.text


async def test_one_keys_flood_leaves_another_key_answered(limited: Client, keys: Keys) -> None:
    for _ in range(4):
        flooded = await limited.get("/v1/audit/head", headers=Keys.header(keys.reader))
    assert flooded.status_code == 429
    other = await limited.get("/v1/audit/head", headers=Keys.header(keys.editor))
    assert other.status_code == 200
    assert other.headers["ratelimit"].startswith('"per-key";r=2;')


async def test_anonymous_reads_are_counted_per_address(
    pool: asyncpg.Pool, database_url: str, keys: Keys
) -> None:
    app = _app(database_url, BURST_OF_THREE, public_reads=True)
    async with AsyncTestClient(app=app, timeout=30) as client:
        statuses = [(await client.get("/v1/audit/head")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        keyed = await client.get("/v1/audit/head", headers=Keys.header(keys.reader))
        assert keyed.status_code == 200


async def test_limits_can_be_turned_off(pool: asyncpg.Pool, database_url: str, keys: Keys) -> None:
    app = _app(database_url, LimitSettings.unlimited())
    async with AsyncTestClient(app=app, timeout=30) as unlimited:
        unlimited.headers.update(Keys.header(keys.reader))
        answers = [await unlimited.get("/v1/audit/head") for _ in range(150)]
    assert {answer.status_code for answer in answers} == {200}
    assert "ratelimit" not in answers[-1].headers


# --- streams ------------------------------------------------------------------------------


@pytest.fixture
def served_with_few_streams(pool: asyncpg.Pool, database_url: str) -> Iterator[str]:
    app = _app(
        database_url,
        LimitSettings(streams_per_key=1, streams=2, refusal_delay_seconds=ANSWER_REFUSALS_AT_ONCE),
    )
    with serving(app) as url:
        yield url


async def test_streams_are_limited_per_key_and_in_all(
    served_with_few_streams: str, keys: Keys
) -> None:
    async with httpx.AsyncClient(base_url=served_with_few_streams, timeout=10) as http:

        async def opened(secret: str) -> httpx.Response:
            request = http.build_request("GET", "/v1/stream", headers=Keys.header(secret))
            return await http.send(request, stream=True)

        reader_stream = await opened(keys.reader)
        assert reader_stream.status_code == 200
        second = await opened(keys.reader)
        await second.aread()
        assert _problem(second, 429)["type"].endswith("/too-many-streams")

        editor_stream = await opened(keys.editor)
        assert editor_stream.status_code == 200
        full = await opened(keys.admin)
        await full.aread()
        assert _problem(full, 503)["type"].endswith("/too-many-streams")

        await reader_stream.aclose()
        for _ in range(100):  # the server notices the closed stream when it next sends
            again = await opened(keys.admin)
            if again.status_code == 200:
                break
            await again.aread()
            await asyncio.sleep(0.1)
        assert again.status_code == 200
        await again.aclose()
        await editor_stream.aclose()


# --- questions about the past ---------------------------------------------------------------


class HeldReplays:
    """`past_answer` standing in for itself, holding every answer until released (the app runs
    in the live server's thread, hence threading's events)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.started = threading.Event()
        self.release = threading.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> ReplayAnswer:
        self.started.set()
        await asyncio.to_thread(self.release.wait, 30)
        answer: ReplayAnswer = await self.real(*args, **kwargs)
        return answer


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")


async def test_a_full_queue_of_questions_about_the_past_is_503_and_live_reads_go_on(
    pool: asyncpg.Pool,
    database_url: str,
    keys: Keys,
    store: EventStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await load_demo(ReportService(store))
    head = await store.position()
    held = HeldReplays(past_answer)
    monkeypatch.setattr("api.answers.past_answer", held)
    app = _app(
        database_url,
        LimitSettings(
            past_running=1, past_waiting=1, refusal_delay_seconds=ANSWER_REFUSALS_AT_ONCE
        ),
    )
    with serving(app) as url:
        async with httpx.AsyncClient(
            base_url=url, headers=Keys.header(keys.reader), timeout=30
        ) as http:
            live = await http.get("/v1/holdings", params={"min_position": head})
            assert live.status_code == 200
            running = asyncio.create_task(http.get("/v1/holdings", params={"as_of": "2024-09-01"}))
            await _until(held.started.is_set)
            waiting = asyncio.create_task(http.get("/v1/damage", params={"as_of": "2024-10-01"}))
            limits = limits_of(app)
            await _until(lambda: limits.past.admitted == 2)

            refused = await http.get("/v1/front", params={"as_of": "2024-11-01"})
            assert _problem(refused, 503)["type"].endswith("/busy")
            assert (await http.get("/v1/audit/verify")).status_code == 503
            assert (await http.get("/v1/holdings")).status_code == 200

            held.release.set()
            assert (await running).status_code == 200
            assert (await waiting).status_code == 200
            later = await http.get("/v1/front", params={"as_of": "2024-11-01"})
            assert later.status_code == 200


async def test_a_past_answered_from_versions_counts_for_less_than_a_fold_of_the_log(
    pool: asyncpg.Pool, database_url: str, keys: Keys, store: EventStore
) -> None:
    # Given a key allowed a burst of ten requests, and no refill while the test runs
    await load_demo(ReportService(store))
    app = _app(
        database_url,
        LimitSettings(
            requests_per_second=0.01, burst=10, refusal_delay_seconds=ANSWER_REFUSALS_AT_ONCE
        ),
    )
    reader = Keys.header(keys.reader)
    async with AsyncTestClient(app=app, timeout=30) as client:
        # When a dashboard asks holdings, damage, forces, a history and the strikes (one by
        # its key) as of a date (each read from its reports' versions: two requests' worth)
        asked = {"as_of": "2024-09-01"}
        answers = [
            await client.get(f"/v1/{view}", params=asked, headers=reader)
            for view in ("holdings", "damage", "forces", "holdings-series")
        ]
        answers.append(
            await client.get("/v1/strikes", params={**asked, "key": str(BERDIANSK)}, headers=reader)
        )
        # Then all five are answered, and the burst is spent
        assert [answer.status_code for answer in answers] == [200] * 5
        assert answers[-1].headers["ratelimit"].split(";")[1] == "r=0"
        assert (await client.get("/v1/audit/head", headers=reader)).status_code == 429

    # while the sources as of a date (counted over every report) count for ten: one spends
    # the burst
    async with AsyncTestClient(app=_app(database_url, BURST_OF_THREE), timeout=30) as client:
        folded = await client.get("/v1/sources", params={"as_of": "2024-09-01"}, headers=reader)
        assert folded.status_code == 200
        assert folded.headers["ratelimit"].split(";")[1] == "r=0"


# --- wrong keys ---------------------------------------------------------------------------


@pytest.fixture
def served_with_few_wrong_keys(pool: asyncpg.Pool, database_url: str) -> Iterator[str]:
    app = _app(
        database_url, LimitSettings(auth_failures=3, refusal_delay_seconds=ANSWER_REFUSALS_AT_ONCE)
    )
    with serving(app) as url:
        yield url


async def test_wrong_keys_from_one_address_make_it_wait_and_no_other(
    served_with_few_wrong_keys: str, keys: Keys
) -> None:
    base = served_with_few_wrong_keys
    guesser = httpx.AsyncClient(
        base_url=base, timeout=10, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.1")
    )
    neighbour = httpx.AsyncClient(
        base_url=base, timeout=10, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    )
    async with guesser, neighbour:
        # The guesser's own key, known to this process before it starts guessing.
        own = await guesser.get("/v1/audit/head", headers=Keys.header(keys.reader))
        assert own.status_code == 200
        wrong = [
            await guesser.get("/v1/audit/head", headers=Keys.header(f"tl_guess{number}"))
            for number in range(4)
        ]
        assert [response.status_code for response in wrong] == [401, 401, 401, 401]

        made_to_wait = await guesser.get("/v1/audit/head", headers=Keys.header("tl_guess4"))
        assert _problem(made_to_wait, 429)["type"].endswith("/too-many-wrong-keys")
        # Even the right key, if not already known, is not looked up from this address.
        unchecked = await guesser.get("/v1/audit/head", headers=Keys.header(keys.editor))
        assert unchecked.status_code == 429
        known = await guesser.get("/v1/audit/head", headers=Keys.header(keys.reader))
        assert known.status_code == 200

        elsewhere = await neighbour.get("/v1/audit/head", headers=Keys.header(keys.editor))
        assert elsewhere.status_code == 200
        wrong_elsewhere = await neighbour.get("/v1/audit/head", headers=Keys.header("tl_other"))
        assert wrong_elsewhere.status_code == 401
