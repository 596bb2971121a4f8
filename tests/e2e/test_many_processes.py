"""Many processes, one PostgreSQL: two API processes (`timeline serve --no-projections`) and
projection workers (`timeline project`), each a real process. A write through one API is read
through the other with `min_position`; a worker stopped (SIGTERM, then SIGKILL) hands its
views to another, and so does one frozen (SIGSTOP) once its lease runs out; the stream
resumes on the other API with `Last-Event-ID`, nothing lost or repeated."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from projections.lease import LEASE_SECONDS
from store import roles
from store.settings import password_of, with_user
from tests.conftest import scratch_database
from tests.e2e.conftest import service_env
from tests.e2e.topology import (
    Running,
    Topology,
    editor_key,
    file_report,
    stream_ids,
    topology,
    wait_until_every_view_runs,
)


@pytest.fixture
def owner_url(server_url: str) -> Iterator[str]:
    """A database of its own: its workers' advisory locks and rows touch no other test's."""
    with scratch_database(server_url, "timeline_processes") as url:
        yield url


@pytest.fixture
def running(owner_url: str, tmp_path: Path) -> Iterator[Topology]:
    service = with_user(owner_url, roles.SERVICE_ROLE, password_of(owner_url))

    async def make_roles() -> None:
        connection = await asyncpg.connect(owner_url)
        try:
            await roles.make_roles(connection, await roles.plan_roles(connection, service))
        finally:
            await connection.close()

    asyncio.run(make_roles())
    with topology(service_env(service, owner_url), tmp_path) as started:
        yield started


def _read_timeline(api: Running, key: str, min_position: int) -> httpx.Response:
    return httpx.get(
        f"{api.url}/v1/timeline",
        params={"min_position": min_position},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def _handed_over(
    owner_url: str, write_to: Running, read_from: Running, key: str
) -> tuple[float, str]:
    """Seconds until a new write through one API shows through the other, every view held;
    and the report it filed."""
    filed = file_report(write_to, key, 812.0)
    seconds = wait_until_every_view_runs(owner_url, at_least=filed["position"])
    read = _read_timeline(read_from, key, filed["position"])
    assert read.status_code == 200, read.text
    assert filed["report_id"] in {item["report_id"] for item in read.json()["items"]}
    return seconds, filed["report_id"]


def test_a_write_through_one_api_is_read_through_the_other_and_workers_hand_over_views(
    running: Topology, owner_url: str
) -> None:
    key = editor_key(owner_url, "Kursk desk")
    first_worker = running.worker("worker-1")
    wait_until_every_view_runs(owner_url)
    # Started once worker-1 holds every view: it waits for one to be let go.
    second_worker = running.worker("worker-2")
    kyiv, kharkiv = running.api("api-kyiv"), running.api("api-kharkiv")

    filed = file_report(kyiv, key, 1376.0)
    read = _read_timeline(kharkiv, key, filed["position"])
    assert read.status_code == 200, read.text
    assert int(read.headers["x-timeline-position"]) >= filed["position"]
    assert [item["report_id"] for item in read.json()["items"]] == [filed["report_id"]]

    # A worker asked to stop lets its locks go on its way out.
    assert first_worker.stop(signal.SIGTERM) == 0, first_worker.output()
    after_sigterm, second = _handed_over(owner_url, kharkiv, kyiv, key)

    # A worker killed outright: PostgreSQL ends its sessions, and their locks with them.
    third_worker = running.worker("worker-3")
    third_worker.wait_for_output("timeline: projecting")
    second_worker.stop(signal.SIGKILL)
    after_sigkill, third = _handed_over(owner_url, kyiv, kharkiv, key)
    print(f"handover after SIGTERM: {after_sigterm:.2f} s, after SIGKILL: {after_sigkill:.2f} s")

    # Every report once in the views, whichever worker folded it.
    read = _read_timeline(kyiv, key, 0)
    filed_ids = sorted([filed["report_id"], second, third])
    assert sorted(item["report_id"] for item in read.json()["items"]) == filed_ids
    assert third_worker.process.poll() is None, third_worker.output()


def test_a_frozen_worker_hands_its_views_over_when_its_lease_runs_out_and_thaws_as_a_standby(
    running: Topology, owner_url: str
) -> None:
    key = editor_key(owner_url, "Kursk desk")
    frozen = running.worker("worker-frozen")
    wait_until_every_view_runs(owner_url)
    waiting = running.worker("worker-waiting")
    waiting.wait_for_output("timeline: projecting")
    api = running.api("api")

    # When the worker holding every view stands still (its host's kernel still answers TCP)
    frozen.process.send_signal(signal.SIGSTOP)
    try:
        # Then within its lease the other takes every view, and a new report is in them
        seconds, report_id = _handed_over(owner_url, api, api, key)
        assert seconds < LEASE_SECONDS + 10, seconds
    finally:
        frozen.process.send_signal(signal.SIGCONT)
    print(f"handover from a frozen worker: {seconds:.2f} s")
    # and thawed, it finds its sessions gone and waits as a standby, writing nothing twice
    filed = file_report(api, key, 790.0)
    wait_until_every_view_runs(owner_url, at_least=filed["position"])
    read = _read_timeline(api, key, filed["position"])
    ids = [item["report_id"] for item in read.json()["items"]]
    assert sorted(ids) == sorted({report_id, filed["report_id"]})
    assert frozen.process.poll() is None, frozen.output()
    assert waiting.process.poll() is None, waiting.output()


def test_the_stream_resumes_on_the_other_api_with_nothing_lost_or_repeated(
    running: Topology, owner_url: str
) -> None:
    key = editor_key(owner_url, "Berdiansk desk")
    running.worker("worker")
    kyiv, kharkiv = running.api("api-kyiv"), running.api("api-kharkiv")
    auth = {"Authorization": f"Bearer {key}"}
    first = file_report(kyiv, key, 1376.0)["position"]

    with httpx.stream(
        "GET", f"{kyiv.url}/v1/stream", params={"after": 0}, headers=auth, timeout=30
    ) as stream:
        lines = stream.iter_lines()
        seen = stream_ids(lines, through=first)
        # Written through the other API while this stream is open: it comes live.
        second = file_report(kharkiv, key, 1100.0)["position"]
        seen += stream_ids(lines, through=second)
        # The API process the client reads from stops: its stream ends with a hint.
        assert kyiv.stop(signal.SIGTERM) == 0, kyiv.output()
        ending = list(lines)
    assert any("reconnect with Last-Event-ID" in line for line in ending), ending

    # Written while the client is away, then read on the other API from where it stopped.
    third = file_report(kharkiv, key, 800.0)["position"]
    with httpx.stream(
        "GET",
        f"{kharkiv.url}/v1/stream",
        headers={**auth, "Last-Event-ID": str(seen[-1])},
        timeout=30,
    ) as stream:
        lines = stream.iter_lines()
        seen += stream_ids(lines, through=third)
        fourth = file_report(kharkiv, key, 790.0)["position"]
        seen += stream_ids(lines, through=fourth)

    assert seen == [first, second, third, fourth] == list(range(1, 5))
