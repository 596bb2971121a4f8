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

import asyncio
import gc
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import msgspec

from bench._database import fresh_database, lowest_serving_position, open_pool, views_reach
from bench._generated_war import load_log
from domain.attribution import Attribution, Caveat, Side, Stance
from domain.claims import (
    Claim,
    DamageTally,
    ForceStrength,
    FrontAdvance,
    Place,
    Strike,
    StrikeEffects,
    TerritoryControl,
    TroopDeployment,
)
from domain.events import ReportEvent
from domain.occurrence import Day, Instant, Interval, Month, Occurrence
from domain.quantities import Qualifier, Quantity, Unit, about
from domain.report import Report, correct, corroborate, dispute, evolve, file_report, retract
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

REGIONS = {
    "Kursk Oblast": "RU",
    "Belgorod Oblast": "RU",
    "Donetsk Oblast": "UA",
    "Luhansk Oblast": "UA",
    "Kharkiv Oblast": "UA",
    "Zaporizhzhia Oblast": "UA",
    "Kherson Oblast": "UA",
    "Sumy Oblast": "UA",
    "Dnipropetrovsk Oblast": "UA",
}
TOWNS = {
    "Berdiansk": "Zaporizhzhia Oblast",
    "Kurakhove": "Donetsk Oblast",
    "Pokrovsk": "Donetsk Oblast",
    "Toretsk": "Donetsk Oblast",
    "Vuhledar": "Donetsk Oblast",
    "Chasiv Yar": "Donetsk Oblast",
    "Kupiansk": "Kharkiv Oblast",
    "Vovchansk": "Kharkiv Oblast",
    "Sudzha": "Kursk Oblast",
    "Nova Kakhovka": "Kherson Oblast",
    "Robotyne": "Zaporizhzhia Oblast",
    "Siversk": "Donetsk Oblast",
}
FORCES = (  # actor, theatre
    ("Russia", "Ukraine"),
    ("Russia", "Kursk Oblast"),
    ("North Korea", "Kursk Oblast"),
    ("Ukraine", "Kursk Oblast"),
    ("Russia", "Zaporizhzhia Oblast"),
    ("Russia", "Donetsk Oblast"),
)
DAMAGE = (  # category, country, responsible
    ("port infrastructure facilities", "UA", "Russia"),
    ("foreign merchant ships", "UA", "Russia"),
    ("energy facilities", "UA", "Russia"),
    ("hospitals", "UA", "Russia"),
    ("schools", "UA", "Russia"),
    ("railway infrastructure", "UA", "Russia"),
    ("oil refineries", "RU", "Ukraine"),
    ("airfields", "RU", "Ukraine"),
)
SOURCES = (
    Attribution(source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"),
    Attribution(source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters"),
    Attribution(source="Russian Defence Ministry", side=Side.RUSSIA, outlet="TASS"),
    Attribution(source="Kremlin-installed governor of Zaporizhzhia", side=Side.RUSSIA),
    Attribution(source="Institute for the Study of War", side=Side.THIRD_PARTY),
)
NOT_VERIFIED = (Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY),)
WAR_DAYS = 1_000  # from 24 February 2022
# Filings by kind, roughly as a conflict dataset's counts run: incidents (strikes) are most
# of the volume; claims about territory, the front, forces and running totals are fewer,
# and spread over many regions, forces and categories (each is one view row's history).
KINDS = {"strike": 50, "territory": 12, "front": 10, "deployment": 6, "force": 4, "damage": 4}


def _day(rng: random.Random) -> Day:
    return Day(on=date(2022, 2, 24) + timedelta(days=rng.randrange(WAR_DAYS)))


def _claim(kind: str, rng: random.Random) -> Claim:
    region = rng.choice(sorted(REGIONS))
    town = rng.choice(sorted(TOWNS))
    match kind:
        case "strike":
            return Strike(
                attacker=rng.choice(("Ukraine", "Russia")),
                target=rng.choice(("port", "power station", "rail depot", "airfield")),
                place=Place(name=town, region=TOWNS[town], country=REGIONS[TOWNS[town]]),
                weapon=rng.choice(("guided missile", "drone", "glide bomb", "artillery")),
                effects=StrikeEffects(injured=Quantity(unit=Unit.PEOPLE, value=0)),
            )
        case "territory":
            return TerritoryControl(
                actor=rng.choice(("Ukraine", "Russia")),
                region=region,
                country=REGIONS[region],
                area=about(rng.randrange(50, 1_400), Unit.KM2),
            )
        case "front":
            return FrontAdvance(
                actor=rng.choice(("Russia", "Russia", "Ukraine")),
                direction=town,
                region=TOWNS[town],
                country=REGIONS[TOWNS[town]],
                rate=Quantity(
                    unit=Unit.METRES_PER_DAY, low=200, high=300, qualifier=Qualifier.BETWEEN
                ),
            )
        case "deployment":
            return TroopDeployment(
                actor=rng.choice(("Russia", "North Korea", "Ukraine")),
                theatre=region,
                country=REGIONS[region],
                troops=about(rng.randrange(1, 60) * 1_000, Unit.TROOPS),
            )
        case "force":
            actor, theatre = rng.choice(FORCES)
            return ForceStrength(
                actor=actor,
                theatre=theatre,
                troops=about(rng.randrange(5, 600) * 1_000, Unit.TROOPS),
            )
        case _:
            category, country, responsible = rng.choice(DAMAGE)
            return DamageTally(
                category=category,
                count=Quantity(unit=Unit.FACILITIES, value=rng.randrange(20, 400)),
                responsible=responsible,
                country=country,
            )


def _filing(rng: random.Random) -> ReportEvent:
    """A claim like the seed article's, somewhere along the front, on some day of the war."""
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
    claim = _claim(kind, rng)
    day = _day(rng)
    occurred: Occurrence = day
    reported = Day(on=day.on + timedelta(days=rng.randrange(3)))
    if isinstance(claim, Strike):
        midnight = datetime(day.on.year, day.on.month, day.on.day, tzinfo=UTC)
        occurred = Instant(at=midnight + timedelta(minutes=rng.randrange(1_440)))
    elif isinstance(claim, DamageTally):  # a running total: "since July 2023"
        occurred = Interval(start=Month(year=2023, month=7))
        reported = Day(on=date(2023, 8, 1) + timedelta(days=rng.randrange(480)))
    return file_report(
        claim=claim,
        attribution=rng.choice(SOURCES),
        occurred=occurred,
        reported=reported,
        caveats=NOT_VERIFIED,
    )


def _follow_up(report: Report, rng: random.Random) -> ReportEvent:
    """What later happens to a report: mostly corroborated or disputed, sometimes corrected
    (a territory figure) or retracted."""
    by = rng.choice(SOURCES)
    match rng.randrange(5):
        case 2:
            return dispute(report, by=by, reason="says the figure is wrong")
        case 3 if isinstance(report.claim, TerritoryControl):
            claim = msgspec.structs.replace(
                report.claim, area=about(rng.randrange(50, 1_400), Unit.KM2)
            )
            return correct(report, claim=claim, reason="the source revised the figure")
        case 4:
            return retract(report, reason="the source withdrew the claim")
        case _:
            return corroborate(report, by=by)


def plan(count: int, rng: random.Random) -> list[ReportEvent | None]:
    """`count` appends: filings built beforehand, and about one in seven None, a follow-up
    decided when it is sent."""
    return [None if rng.random() < 1 / 7 else _filing(rng) for _ in range(count)]


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
            event = _follow_up(report, self.rng)
            return event, evolve(report, event)
        event = planned or _filing(self.rng)
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


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of all at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


def _start_projector(url: str) -> subprocess.Popen[bytes]:
    timeline = shutil.which("timeline", path=str(Path(sys.executable).parent)) or "timeline"
    env = {**os.environ, DATABASE_URL_VARIABLE: url}
    # Our own console script, from this virtualenv; its errors show on our stderr.
    return subprocess.Popen([timeline, "project"], env=env, stdout=subprocess.DEVNULL)  # noqa: S603


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
    finally:
        await pool.close()
    gc.collect()


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
    empty = LAG_BUDGET_MS / p99s["empty_store"]
    print(f"ratio lag_budget_over_p99_empty_store: {empty:.2f} (target >= 1)")
    print(f"ratio lag_budget_over_p99: {LAG_BUDGET_MS / p99s['history']:.2f} (target >= 1)")


if __name__ == "__main__":
    main()
