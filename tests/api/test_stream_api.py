"""GET /v1/stream over real HTTP: events arrive as they are recorded, with their positions as
ids, and a client that reconnects with Last-Event-ID misses nothing and sees nothing twice,
however the writers go on. The tailer's hand-overs (store to live feed, and back when a
client falls behind) are driven directly too."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.log_tailer import LogTailer, feed
from api.settings import ApiSettings
from api.stream import EXAMPLE
from application.reports import ReportService
from seed.demo import load_demo
from store.database import Database
from store.event_store import EventStore
from tests.api.conftest import Keys
from tests.api.live_server import free_port, serving
from tests.e2e.conftest import TIMELINE, timeline_env
from tests.seed_values import kursk_held_now

WAIT_SECONDS = 10.0


@dataclass
class Received:
    id: str | None = None
    event: str | None = None
    data: str | None = None
    comments: list[str] = field(default_factory=list)


async def received(response: httpx.Response) -> AsyncIterator[Received]:
    """The stream's messages as a browser's EventSource would split them."""
    message = Received()
    async for line in response.aiter_lines():
        if line == "":
            if message != Received():
                yield message
            message = Received()
        elif line.startswith(":"):
            message.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            setattr(message, name, value.removeprefix(" "))


async def next_event(messages: AsyncIterator[Received]) -> Received:
    """The next event, past any comments."""
    while True:
        message = await asyncio.wait_for(anext(messages), WAIT_SECONDS)
        if message.id is not None:
            return message


@pytest.fixture
def served(pool: asyncpg.Pool, database_url: str) -> Iterator[str]:
    app = create_app(
        Database(url=database_url, embedded=False), run_projections=False, settings=ApiSettings()
    )
    with serving(app) as url:
        yield url


@pytest.fixture
async def http(served: str, keys: Keys) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=served, headers=Keys.header(keys.reader), timeout=WAIT_SECONDS
    ) as client:
        yield client


async def test_events_recorded_after_connecting_arrive_in_order_with_positions_as_ids(
    http: httpx.AsyncClient, store: EventStore
) -> None:
    async with http.stream("GET", "/v1/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        messages = received(response)
        opening = await asyncio.wait_for(anext(messages), WAIT_SECONDS)
        assert opening.comments == ["events after position 0"]

        await load_demo(ReportService(store))
        events = [await next_event(messages) for _ in range(16)]

    assert [event.id for event in events] == [str(n) for n in range(1, 17)]
    data = [json.loads(event.data or "") for event in events]
    assert [d["position"] for d in data] == list(range(1, 17))
    assert [event.event for event in events] == [d["type"] for d in data]
    # The seed article: the incursion, its corroboration, then the 1,376 km² peak.
    assert events[0].event == "report-filed"
    assert events[1].event == "report-corroborated"
    peak = data[2]
    assert peak["summary"].startswith("Ukraine holds about 1,376 km2 of Kursk Oblast at peak")
    assert peak["event"]["claim"]["area"] == {"unit": "km2", "value": 1376.0, "qualifier": "about"}
    assert peak["report_id"] == peak["event"]["originator_id"]
    assert peak["version"] == 1
    assert peak["recorded_at"].startswith("20")
    # The example in the OpenAPI description is this very event.
    documented = json.loads(EXAMPLE.split("data: ", 1)[1].split("\n", 1)[0])
    for data_of_peak in (documented, peak):
        del data_of_peak["recorded_at"], data_of_peak["event"]["timestamp"]
    assert peak == documented


async def test_reconnecting_with_last_event_id_resumes_without_gap_or_repeat_while_writers_append(
    http: httpx.AsyncClient, store: EventStore
) -> None:
    service = ReportService(store)
    per_writer = 60

    async def write() -> None:
        for _ in range(per_writer):
            await service.file(kursk_held_now())
            await asyncio.sleep(0.005)

    writers = [asyncio.create_task(write()) for _ in range(2)]
    positions: list[int] = []
    connections = 0
    while len(positions) < 2 * per_writer:
        resume = {"Last-Event-ID": str(positions[-1])} if positions else {}
        async with http.stream(
            "GET", "/v1/stream", headers=resume, params={} if positions else {"after": 0}
        ) as response:
            assert response.status_code == 200
            connections += 1
            messages = received(response)
            # Leave after a few events, in mid-flow, as a flaky mobile connection would.
            for _ in range(7):
                if len(positions) == 2 * per_writer:
                    break
                positions.append(int((await next_event(messages)).id or ""))
    await asyncio.gather(*writers)

    assert positions == list(range(1, 2 * per_writer + 1))
    assert connections >= 2 * per_writer // 7


async def test_the_header_wins_over_after_and_after_replays_from_there(
    http: httpx.AsyncClient, store: EventStore
) -> None:
    await load_demo(ReportService(store))
    async with http.stream("GET", "/v1/stream", params={"after": 14}) as response:
        assert (await next_event(received(response))).id == "15"
    async with http.stream(
        "GET", "/v1/stream", params={"after": 2}, headers={"Last-Event-ID": "15"}
    ) as response:
        assert (await next_event(received(response))).id == "16"


@pytest.mark.parametrize("last_event_id", ["report-filed", "-1", "1.5", "99999999999999999999"])
async def test_a_malformed_last_event_id_is_a_400_problem(
    http: httpx.AsyncClient, last_event_id: str
) -> None:
    response = await http.get("/v1/stream", headers={"Last-Event-ID": last_event_id})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == "Last-Event-ID"
    assert problem["detail"].startswith("Last-Event-ID: expected a log position")


async def test_a_position_beyond_the_log_is_a_400_problem(
    http: httpx.AsyncClient, store: EventStore
) -> None:
    await load_demo(ReportService(store))
    beyond = await http.get("/v1/stream", headers={"Last-Event-ID": "17"})
    assert beyond.status_code == 400
    assert beyond.json()["detail"] == (
        "Last-Event-ID: position 17 is beyond the newest event of this log (16)"
    )
    not_a_number = await http.get("/v1/stream", params={"after": "Kursk"})
    assert not_a_number.status_code == 400
    assert not_a_number.headers["content-type"].startswith("application/problem+json")


async def test_the_stream_needs_a_reader_key(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/stream", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


# --- the tailer, driven directly ---------------------------------------------------------


@pytest.fixture
async def tailer(store: EventStore, database_url: str) -> AsyncIterator[LogTailer]:
    tailer = LogTailer(store, database_url, queue_events=3, poll_seconds=0.05)
    await tailer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(tailer.run(stop))
    yield tailer
    stop.set()
    await asyncio.wait_for(task, WAIT_SECONDS)


async def test_a_client_that_falls_behind_goes_back_to_the_store_and_misses_nothing(
    tailer: LogTailer, store: EventStore
) -> None:
    messages = feed(tailer, 0, heartbeat_seconds=WAIT_SECONDS)
    assert (await anext(messages)).comment == "events after position 0"
    # Sixteen appends while the client reads nothing: more than its queue of three holds.
    await load_demo(ReportService(store))
    for _ in range(int(WAIT_SECONDS * 100)):
        if tailer.head == 16:
            break
        await asyncio.sleep(0.01)
    assert tailer.dropped_to_store == 1

    ids: list[int | str] = []
    while len(ids) < 16:
        message = await asyncio.wait_for(anext(messages), WAIT_SECONDS)
        if message.id is not None:
            ids.append(message.id)
    await messages.aclose()
    assert ids == list(range(1, 17))


async def test_a_quiet_stream_sends_heartbeats_and_says_goodbye_when_the_service_stops(
    store: EventStore, database_url: str
) -> None:
    tailer = LogTailer(store, database_url, poll_seconds=0.05)
    await tailer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(tailer.run(stop))
    messages = feed(tailer, 0, heartbeat_seconds=0.05)
    assert (await anext(messages)).comment == "events after position 0"
    heartbeat = await anext(messages)
    assert (heartbeat.comment, heartbeat.data, heartbeat.id) == ("heartbeat", None, None)

    stop.set()
    await asyncio.wait_for(task, WAIT_SECONDS)
    goodbye = [message.comment async for message in messages if message.comment != "heartbeat"]
    assert goodbye == ["the service is stopping; reconnect with Last-Event-ID: 0"]


# --- stopping the service -------------------------------------------------------------------


def test_stopping_the_service_ends_open_streams_at_once(database_url: str, keys: Keys) -> None:
    """Servers finish open responses before the app's shutdown: the stream must end first."""
    port = free_port()
    server = subprocess.Popen(
        [TIMELINE, "serve", "--port", str(port), "--no-projections"],
        env=timeline_env({"TIMELINE_DATABASE_URL": database_url}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "timeline serve did not answer within 60 s"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.stream(
            "GET", f"{url}/v1/stream", headers=Keys.header(keys.reader), timeout=WAIT_SECONDS
        ) as response:
            lines = response.iter_lines()
            assert next(lines) == ": events after position 0"
            server.send_signal(signal.SIGINT)
            asked = time.monotonic()
            rest = list(lines)
        server.wait(timeout=30)
        stopped_after = time.monotonic() - asked
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert ": the service is stopping; reconnect with Last-Event-ID: 0" in rest
    assert server.returncode == 0, server.stderr.read() if server.stderr else ""
    assert stopped_after < 10
