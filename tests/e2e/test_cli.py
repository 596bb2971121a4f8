"""The `timeline` console script, run as a subprocess against the real test database."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess

import asyncpg
import pytest

from store.event_store import EventStore
from store.settings import with_database
from tests.e2e.conftest import TIMELINE, RunTimeline, timeline_env


def test_every_subcommand_explains_itself_in_help(run_timeline: RunTimeline) -> None:
    for command, phrase in [
        ("serve", "Serve the HTTP API"),
        ("migrate", "Upgrade the database schema"),
        ("demo", "seed article"),
        ("log", "Print the event log"),
    ]:
        result = run_timeline(command, "--help")
        assert result.returncode == 0
        assert phrase in " ".join(result.stdout.split())


async def test_demo_twice_adds_nothing_the_second_time(
    run_timeline: RunTimeline, store: EventStore
) -> None:
    migrated = run_timeline("migrate")
    assert migrated.returncode == 0, migrated.stderr

    first = await asyncio.to_thread(run_timeline, "demo")
    assert first.returncode == 0, first.stderr
    assert "events added" in first.stdout
    position = await store.position()
    assert position > 12

    second = await asyncio.to_thread(run_timeline, "demo")
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout
    assert await store.position() == position


async def test_log_prints_the_log_in_order_as_text_and_json(
    run_timeline: RunTimeline, store: EventStore
) -> None:
    assert (await asyncio.to_thread(run_timeline, "demo")).returncode == 0
    total = await store.position()

    as_json = await asyncio.to_thread(run_timeline, "log", "--json")
    assert as_json.returncode == 0, as_json.stderr
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [line["position"] for line in lines] == list(range(1, total + 1))
    kursk = next(line for line in lines if "800 km2 of Kursk" in line["summary"])
    assert kursk["type"] == "report-filed"
    assert kursk["event"]["claim"]["area"]["value"] == 800

    page = await asyncio.to_thread(run_timeline, "log", "--from", "3", "--limit", "4")
    rows = page.stdout.splitlines()
    assert [int(row.split()[0]) for row in rows] == [4, 5, 6, 7]
    assert rows[0].split()[2] in {
        "report-filed",
        "report-corroborated",
        "report-disputed",
        "report-denied",
        "report-corrected",
        "report-retracted",
    }


def test_a_bad_limit_is_a_clear_usage_error(run_timeline: RunTimeline) -> None:
    result = run_timeline("log", "--limit", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == "timeline log: --limit must be at least 1"


@pytest.mark.parametrize("command", [("log",), ("demo",), ("migrate",), ("serve", "--port", "1")])
def test_an_unreachable_database_is_one_line_and_a_non_zero_exit(
    run_timeline: RunTimeline, command: tuple[str, ...]
) -> None:
    # Nothing listens on port 1 of the loopback address.
    result = run_timeline(
        *command, env={"TIMELINE_DATABASE_URL": "postgresql://timeline:secret@127.0.0.1:1/timeline"}
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot reach" in result.stderr
    assert "secret" not in result.stderr


async def test_an_unmigrated_database_asks_for_timeline_migrate(
    run_timeline: RunTimeline, server_url: str
) -> None:
    name = f"timeline_unmigrated_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {"TIMELINE_DATABASE_URL": with_database(server_url, name)}
        for command in (("log",), ("serve", "--port", "1")):
            result = await asyncio.to_thread(run_timeline, *command, env=env)
            assert result.returncode == 2
            assert "Traceback" not in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1
            assert "not migrated" in result.stderr
            assert "timeline migrate" in result.stderr
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def test_a_project_worker_brings_every_view_to_the_log_head_and_stops_on_ctrl_c(
    run_timeline: RunTimeline, store: EventStore, database_url: str
) -> None:
    # Given the demo recorded and no view built yet
    assert (await asyncio.to_thread(run_timeline, "demo")).returncode == 0
    head = await store.position()
    before = await asyncio.to_thread(run_timeline, "status", "--json")
    assert {json.loads(line)["state"] for line in before.stdout.splitlines()} == {"new"}

    # When a worker runs
    worker = subprocess.Popen(  # noqa: ASYNC220 (a long-running child, polled below)
        [TIMELINE, "project"],
        env=timeline_env({"TIMELINE_DATABASE_URL": database_url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with asyncio.timeout(60):
            while True:
                status = await asyncio.to_thread(run_timeline, "status", "--json")
                views = [json.loads(line) for line in status.stdout.splitlines()]
                if all(v["position"] == head and v["state"] == "running" for v in views):
                    break
                await asyncio.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGINT)
        await asyncio.to_thread(worker.wait, 30)

    # Then every view reached the head, with no lag, and Ctrl-C stopped the worker cleanly
    assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""
    assert {v["view"] for v in views} == {
        "holdings",
        "damage",
        "forces",
        "front",
        "strikes",
        "timeline",
    }
    assert all(v["lag"] == 0 for v in views)
    after = await asyncio.to_thread(run_timeline, "status")
    assert "stopped" in after.stdout
    assert "running" not in after.stdout
