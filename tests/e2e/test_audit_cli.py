"""`timeline verify`, `timeline export` and `timeline restore`, run as a user would."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg

from application.reports import ReportService
from seed.demo import load_demo
from store.event_store import EventStore
from tests.e2e.conftest import RunTimeline


async def test_verify_export_and_restore_round_trip(
    run_timeline: RunTimeline, pool: asyncpg.Pool, store: EventStore, tmp_path: Path
) -> None:
    # Given the demo recorded
    await load_demo(ReportService(store))

    # When the log is verified, it is intact up to its head
    verified = await asyncio.to_thread(run_timeline, "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("timeline: intact up to position 16, head hash ")
    head_hash = verified.stdout.split()[-1]

    # And exported, one line per event, the summary on stderr and no progress for so few
    exported = await asyncio.to_thread(run_timeline, "export")
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == "timeline: exported 16 events, up to position 16\n"
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [line["position"] for line in lines] == list(range(1, 17))
    assert lines[-1]["chain_hash"] == head_hash
    log_file = tmp_path / "log.ndjson"
    log_file.write_text(exported.stdout)

    # Then into an emptied store it restores to the same head
    await pool.execute("TRUNCATE timeline_events, timeline_idempotency_keys RESTART IDENTITY")
    restored = await asyncio.to_thread(run_timeline, "restore", str(log_file))
    assert restored.returncode == 0, restored.stderr
    assert f"restored 16 events, intact up to position 16, head hash {head_hash}" in (
        restored.stdout
    )
    again = await asyncio.to_thread(run_timeline, "verify", "--json")
    assert json.loads(again.stdout)["head_hash"] == head_hash

    # And a second restore is refused in one line, exit status 2
    refused = await asyncio.to_thread(run_timeline, "restore", str(log_file))
    assert refused.returncode == 2
    assert refused.stderr == (
        "timeline restore: the store already holds events: restore into an empty one\n"
    )


async def test_a_tampered_log_fails_verify_and_its_export_fails_restore(
    run_timeline: RunTimeline, pool: asyncpg.Pool, store: EventStore, tmp_path: Path
) -> None:
    # Given the demo exported, then the file edited: the 16th event's version changed
    await load_demo(ReportService(store))
    exported = await asyncio.to_thread(run_timeline, "export", "--until-position", "16")
    log_file = tmp_path / "log.ndjson"
    log_file.write_text(exported.stdout.replace('"version":1,', '"version":7,', 1))
    await pool.execute("TRUNCATE timeline_events, timeline_idempotency_keys RESTART IDENTITY")

    # When it is restored, it is refused in one line and nothing is written
    refused = await asyncio.to_thread(run_timeline, "restore", str(log_file))
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        "timeline restore: the file's chain does not verify: broken at position 1: "
    )
    assert refused.stderr.count("\n") == 1
    assert await store.position() == 0


async def test_verify_names_a_deleted_event_with_exit_status_1(
    run_timeline: RunTimeline, pool: asyncpg.Pool, store: EventStore
) -> None:
    await load_demo(ReportService(store))
    await pool.execute("ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only")
    try:
        await pool.execute("DELETE FROM timeline_events WHERE notification_id = 5")
    finally:
        await pool.execute("ALTER TABLE timeline_events ENABLE TRIGGER timeline_events_append_only")

    result = await asyncio.to_thread(run_timeline, "verify")

    assert result.returncode == 1
    assert result.stdout.startswith("timeline: broken at position 5: position 5 missing")


def test_usage_errors_are_one_line(run_timeline: RunTimeline, tmp_path: Path) -> None:
    missing = run_timeline("restore", str(tmp_path / "nowhere.ndjson"))
    assert missing.returncode == 2
    assert missing.stderr == (
        f"timeline restore: cannot read {tmp_path / 'nowhere.ndjson'}: No such file or directory\n"
    )
    negative = run_timeline("export", "--until-position", "-1")
    assert negative.returncode == 2
    assert negative.stderr == "timeline export: --until-position must not be negative\n"
