"""`timeline rebuild`, `status` and `quarantine list|retry` with poison in the log."""

from __future__ import annotations

import asyncio
import json

import asyncpg

from application.reports import ReportService
from seed.demo import load_demo
from store.event_store import EventStore
from tests.e2e.conftest import RunTimeline
from tests.poison import append_raw, kursk_with_nul_in_region, unreadable_filing


async def test_rebuild_of_holdings_with_poison_in_the_log_exits_0_and_counts_it(
    run_timeline: RunTimeline, pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given the demo, "Kursk\0Oblast" and a filing no code can decode
    await load_demo(ReportService(store))
    nul_at, unreadable_at = await append_raw(
        pool, [kursk_with_nul_in_region(), unreadable_filing()]
    )

    # When holdings is rebuilt
    rebuilt = await asyncio.to_thread(run_timeline, "rebuild", "holdings")

    # Then it serves the head of the log and says what it quarantined
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"at position {unreadable_at} (2 quarantined" in rebuilt.stdout
    assert "Traceback" not in rebuilt.stderr

    listed = await asyncio.to_thread(run_timeline, "quarantine", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(e["view"], e["position"]) for e in entries] == [
        ("holdings", nul_at),
        ("holdings", unreadable_at),
    ]
    assert "NUL" in entries[0]["error"]

    status = await asyncio.to_thread(run_timeline, "status", "--json")
    counts = {row["view"]: row["quarantined"] for row in map(json.loads, status.stdout.split())}
    assert counts["holdings"] == 2
    assert counts["damage"] == 0


async def test_retry_takes_what_no_longer_fails_and_keeps_the_rest(
    run_timeline: RunTimeline, pool: asyncpg.Pool, store: EventStore
) -> None:
    # Given holdings rebuilt with "Kursk\0Oblast" quarantined, and the demo's first filing
    # quarantined by an older version of the code (it fails no more)
    await load_demo(ReportService(store))
    (nul_at,) = await append_raw(pool, [kursk_with_nul_in_region()])
    assert (await asyncio.to_thread(run_timeline, "rebuild", "holdings")).returncode == 0
    await pool.execute(
        "INSERT INTO projection_quarantine (view, position, error) "
        "VALUES ('holdings', 1, 'ValueError: fixed since')"
    )

    # When the quarantine is retried
    retried = await asyncio.to_thread(run_timeline, "quarantine", "retry")

    # Then the fixed one is resolved (kept, marked), and the poison stays
    assert retried.returncode == 0, retried.stderr
    assert "holdings: 1 taken now, 1 still quarantined" in retried.stdout
    rows = await pool.fetch(
        "SELECT position, resolved_at IS NOT NULL AS resolved FROM projection_quarantine "
        "ORDER BY position"
    )
    assert [(row["position"], row["resolved"]) for row in rows] == [(1, True), (nul_at, False)]
    listed = await asyncio.to_thread(run_timeline, "quarantine", "list")
    assert listed.stdout.split()[:2] == ["holdings", str(nul_at)]
    assert "fixed since" not in listed.stdout
