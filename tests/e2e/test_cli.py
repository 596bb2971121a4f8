"""The `timeline` console script, run as a subprocess against the real test database."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess

import asyncpg
import msgspec
import pytest

from application.reports import ReportService
from projections.registry import VIEWS
from seed.kursk_article import demo_reports
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
    assert {v["view"] for v in views} == set(VIEWS)
    assert all(v["lag"] == 0 for v in views)
    after = await asyncio.to_thread(run_timeline, "status")
    assert "stopped" in after.stdout
    assert "running" not in after.stdout


async def test_replay_answers_as_known_at_a_position_byte_for_byte_the_same_each_time(
    run_timeline: RunTimeline, store: EventStore
) -> None:
    # Given the demo recorded: the Kursk peak is filed at position 3, the current holding at 4
    assert (await asyncio.to_thread(run_timeline, "demo")).returncode == 0

    # When the holdings are asked for as known at position 3, twice
    first = await asyncio.to_thread(
        run_timeline, "replay", "--view", "holdings", "--position", "3", "--json"
    )
    second = await asyncio.to_thread(
        run_timeline, "replay", "--view", "holdings", "--position", "3", "--json"
    )

    # Then the answers are byte-identical, and only the peak was known then
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    answer = json.loads(first.stdout)
    assert answer["position"] == 3
    kursk = answer["rows"][0]["row"]
    assert kursk["peak"]["area"]["value"] == 1376
    assert kursk["current"] is None

    # And at the head the 800 km² is current
    head = json.loads(
        (await asyncio.to_thread(run_timeline, "replay", "--view", "holdings")).stdout
    )
    assert head["position"] == await store.position()
    assert head["rows"][0]["row"]["current"]["area"]["value"] == 800


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("replay", "--view", "holdings", "--known-at", "yesterday"), "ISO 8601"),
        (("replay", "--view", "holdings", "--known-at", "2024-11-24T00:00:00"), "time zone"),
        (("replay", "--view", "holdings", "--position", "-1"), "position"),
        (
            ("replay", "--view", "holdings", "--known-at", "0000-01-01T00:00:00+00:00"),
            "year 0 is out of range",
        ),
        (("replay", "--view", "holdings", "--position", str(2**63)), "largest log position"),
        (("explain", "holdings", "--position", str(2**63)), "largest log position"),
        (("verify", "--until-position", str(2**63)), "largest log position"),
        (("log", "--from", str(2**63)), "largest log position"),
        (("rebuild", "nope"), "no view named nope"),
        (("rebuild",), "--all"),
    ],
)
def test_bad_replay_and_rebuild_questions_are_one_line_errors(
    run_timeline: RunTimeline, args: tuple[str, ...], phrase: str
) -> None:
    result = run_timeline(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert phrase in result.stderr


async def test_rebuild_all_switches_every_view_to_a_new_generation(
    run_timeline: RunTimeline,
) -> None:
    assert (await asyncio.to_thread(run_timeline, "demo")).returncode == 0
    result = await asyncio.to_thread(run_timeline, "rebuild", "--all")
    assert result.returncode == 0, result.stderr
    status = await asyncio.to_thread(run_timeline, "status", "--json")
    views = [json.loads(line) for line in status.stdout.splitlines()]
    assert {v["view"] for v in views} == set(VIEWS)
    assert all(v["generation"] == 2 and v["lag"] == 0 for v in views)


async def test_a_reader_that_stops_early_ends_the_log_quietly(
    database_url: str, store: EventStore
) -> None:
    # More than a pipe's buffer of output, so that the writer meets the closed pipe.
    filings = [demo.filing for demo in demo_reports()]
    await ReportService(store).file_many(
        [msgspec.structs.replace(filing, report_id=None) for filing in filings * 20]
    )
    piped = await asyncio.to_thread(
        subprocess.run,
        f"{TIMELINE} log --json | head -n 1",
        shell=True,
        env=timeline_env({"TIMELINE_DATABASE_URL": database_url}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.stdout.count("\n") == 1
    assert "Traceback" not in piped.stderr
    assert "BrokenPipe" not in piped.stderr
