"""Projection lag: how long after an append commits do the views include it?

Usage: `python bench/lag.py` (no arguments). Uses TIMELINE_DATABASE_URL when set, else a
throwaway embedded PostgreSQL; either way the run gets a fresh database, dropped at the end.

Under a steady 500 single-report appends a second (filings of every kind the seed article
has, spread over regions, sources and days, and about one in seven a corroboration,
dispute, correction or retraction of an earlier report, each with an idempotency key), it
measures for every append the time from its commit (when the append call returns) until
every view's tracking position has reached it, and prints p50, p99 and the worst.
Target: p99 under 100 ms.

Two stores: an empty one, and one already holding HISTORY_EVENTS events (the rebuild
benchmark's generated war, bench/_generated_war.py, loaded by COPY and rebuilt into the
views before the clock starts), because a store in use has a history, and a view whose rows
grew with it would fall behind only there. The target ratio is the store with a history; the
empty store's is printed beside it.

- The views are kept by `timeline project` in a process of its own, as an operator runs
  them. In-process, the runners (one per view) would share one event loop (and one GIL)
  with the appender and the poller on a 2-core machine: each would delay the others, and the figure
  would measure the benchmark as much as the runners.
- A poller on its own connection reads the lowest serving position every 2 ms. LISTEN would
  need a NOTIFY from the runner's batch transaction, which it does not send (the log's NOTIFY
  is what wakes the runners). The poll's own period and round trip are part of the figure:
  it overstates the lag by about 1 ms on average.
"""

from __future__ import annotations

import sys
from pathlib import Path

# As in bench/http.py: with this file's folder first on sys.path, bench/http.py would stand
# in for the standard library's `http` package, which bench/_service.py and asyncpg import.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import asyncio
import gc
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import asyncpg

from bench._database import (
    Settle,
    fresh_database,
    lowest_serving_position,
    open_pool,
    views_reach,
)
from bench._figures import percentile, print_ratio
from bench._generated_war import load_log
from bench._lag_reports import filing, follow_up, plan
from bench._service import python_tool
from domain.events import ReportEvent
from domain.report import Report, evolve
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from store.event_store import EventStore, Idempotency
from store.settings import DATABASE_URL_VARIABLE

RATE = 500  # appends a second
WARMUP_SECONDS = 3
MEASURE_SECONDS = 25
POLL_INTERVAL = 0.002
APPEND_CONNECTIONS = 4  # an append is ~1 ms; a few in flight absorb a slow one
LAG_BUDGET_MS = 100.0
CATCH_UP_TIMEOUT = 180.0  # a projector starting on a store with a history refolds it first
HISTORY_EVENTS = 1_000_000


@dataclass(frozen=True, slots=True)
class Commit:
    position: int
    at: float  # perf_counter when the append returned


@dataclass(slots=True)
class Desk:
    """The editors at 500 appends a second. A follow-up names a report whose last append has
    been acknowledged and that is not being followed up already, so it never races the
    events it follows."""

    store: EventStore
    rng: random.Random
    settled: dict[UUID, Report] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)

    def _next(self, planned: ReportEvent | None) -> tuple[ReportEvent, Report]:
        if planned is None and self.settled:
            report = self.settled.pop(self.rng.choice(list(self.settled)))
            event = follow_up(report, self.rng)
            return event, evolve(report, event)
        event = planned or filing(self.rng)
        return event, evolve(None, event)

    async def _append(self, planned: ReportEvent | None) -> None:
        event, report = self._next(planned)
        key = Idempotency(key=f"lag-{uuid4()}", fingerprint=event.originator_id.bytes)
        result = await self.store.append([event], idempotency=key)
        self.commits.append(Commit(result.last_position, time.perf_counter()))
        if not report.is_retracted:
            self.settled[report.id] = report

    async def drive(self, appends: list[ReportEvent | None]) -> float:
        """Send `appends` at RATE a second on a fixed schedule (a slow append does not push
        the later ones back); returns the rate achieved."""
        self.commits = []
        tasks = []
        started = time.perf_counter()
        for index, planned in enumerate(appends):
            delay = started + index / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._append(planned)))
        await asyncio.gather(*tasks)
        return len(appends) / (max(commit.at for commit in self.commits) - started)


async def _poll(url: str, samples: list[tuple[float, int]], stop: asyncio.Event) -> None:
    """The lowest serving position, every POLL_INTERVAL, with the time the answer came."""
    connection = await asyncpg.connect(url)
    try:
        due = time.perf_counter()
        while not stop.is_set():
            position = await lowest_serving_position(connection)
            samples.append((time.perf_counter(), position))
            due += POLL_INTERVAL
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
    finally:
        await connection.close()


def lags_ms(commits: list[Commit], samples: list[tuple[float, int]]) -> list[float]:
    """For each commit, the first poll answer at or after it that shows every view past it
    (a view may have it before its writer hears back: that is no lag)."""
    ordered = sorted(commits, key=lambda commit: commit.position)
    lags = []
    sample = 0
    for commit in ordered:
        while samples[sample][1] < commit.position:
            sample += 1
        seen_at = samples[sample][0]
        lags.append(max(0.0, seen_at - commit.at) * 1000)
    return lags


def _start_projector(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, DATABASE_URL_VARIABLE: url}
    # Our own console script, from this virtualenv; its errors show on our stderr.
    command = [python_tool("timeline"), "project"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: S603


async def _until(pool: asyncpg.Pool, position: int, projector: subprocess.Popen[bytes]) -> None:
    """Until every view has reached `position`."""

    def check() -> None:
        if projector.poll() is not None:
            raise RuntimeError(f"timeline project exited with {projector.returncode}")

    async with asyncio.timeout(CATCH_UP_TIMEOUT):
        await views_reach(pool, position, every=0.01, check=check)


async def _with_history(url: str, events: int) -> None:
    """The store as it stands after `events` events, its views rebuilt (not measured)."""
    await load_log(url, events)
    pool = await open_pool(url, size=3)
    try:
        await rebuild_views(pool, list(VIEWS.values()))
        # A store that grew over months has been vacuumed as it grew; one loaded a moment
        # ago by COPY would be vacuumed whole by autovacuum during the measurement.
        await pool.execute("VACUUM (ANALYZE)")
        # And its pages written out as they were made, not all at once: without this, the
        # checkpoint after the load's gigabytes fell inside the measured 25 s, and its sync
        # phase held every fsync (the appends' commits, the runners' reads) for up to a
        # third of a second (pg_stat_activity: IO:WALSync), p99 88-360 ms from that alone.
        await Settle(pool)()
    finally:
        await pool.close()


async def _measure(url: str, history: int) -> tuple[float, list[float]]:
    if history:
        await _with_history(url, history)
    rng = random.Random(20241123)
    warmup, measured = plan(WARMUP_SECONDS * RATE, rng), plan(MEASURE_SECONDS * RATE, rng)
    # The plan is built; keep the collector from walking it while the clock runs.
    gc.collect()
    gc.freeze()
    pool = await open_pool(url, size=APPEND_CONNECTIONS)
    projector = _start_projector(url)
    try:
        desk = Desk(EventStore(pool), rng)
        await _until(pool, 0, projector)  # every runner has started
        await desk.drive(warmup)
        await _until(pool, await desk.store.position(), projector)
        samples: list[tuple[float, int]] = []
        stop = asyncio.Event()
        poller = asyncio.create_task(_poll(url, samples, stop))
        rate = await desk.drive(measured)
        await _until(pool, await desk.store.position(), projector)
        await asyncio.sleep(POLL_INTERVAL * 5)
        stop.set()
        await poller
        return rate, lags_ms(desk.commits, samples)
    finally:
        projector.send_signal(signal.SIGTERM)
        projector.wait(timeout=30)
        await pool.close()


def main() -> None:
    p99s = {}
    for name, history in (("empty_store", 0), ("history", HISTORY_EVENTS)):
        with fresh_database("timeline_bench_lag") as url:
            rate, lags = asyncio.run(_measure(url, history))
        p99s[name] = percentile(lags, 0.99)
        print(f"{name}_events_before: {history} events")
        print(f"{name}_appends_per_second: {rate:.0f} appends/s")
        print(f"{name}_lag_p50: {percentile(lags, 0.50):.1f} ms")
        print(f"{name}_lag_p99: {p99s[name]:.1f} ms")
        print(f"{name}_lag_max: {max(lags):.1f} ms", flush=True)
    print_ratio("lag_budget_over_p99_empty_store", LAG_BUDGET_MS / p99s["empty_store"], 1)
    print_ratio("lag_budget_over_p99", LAG_BUDGET_MS / p99s["history"], 1)


if __name__ == "__main__":
    main()
