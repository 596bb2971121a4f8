"""One key's abuse against another key's reads: the limits of api/limits.py at work.

Usage: `python bench/abuse.py` (no arguments). Uses TIMELINE_DATABASE_URL when set, else a
throwaway embedded PostgreSQL; either way the run gets a fresh database, dropped at the end.

The log is bench/_seeded.py's: the first 5,000 events of bench/_generated_war.py's war, then
the seed article's reports. The service is `timeline serve` in a process of its own, with
its projection runners and the default limits, as an operator runs it. A reader's key asks
GET /v1/holdings at a steady 40 requests a second (within its limit) from two connections,
first alone, then while another key, from another process:

  - opens 200 `GET /v1/stream?after=0` connections and never reads from them, and
  - loops `GET /v1/holdings?as_of=<a date never asked before>` from 4 clients as fast as
    they can, never waiting for Retry-After.

Each phase lasts 20 s. `ratio isolation` is the reader's p99 alone over its p99 under
abuse: 1 means the abuse cost the reader nothing; the target is that it at most doubles.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/abuse.py` puts this file's folder first on sys.path, where bench/http.py
# would stand in for the standard library's `http` package, which urllib and asyncpg import.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import asyncio
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from urllib.parse import urlsplit

import httpx

from bench._database import fresh_database, new_key
from bench._seeded import seed, views_at
from bench._service import free_port, python_tool, serving
from store.settings import DATABASE_URL_VARIABLE

READS_PER_SECOND = 20.0  # per reading connection; two of them stay within the key's 50/s
READING_CONNECTIONS = 2
PHASE_SECONDS = 20.0
SETTLE_SECONDS = 3.0  # for the abuse to get going before the reader is measured again
STREAMS = 200
AS_OF_CLIENTS = 4
RATIO_TARGET = 0.5
WAR_START = datetime(2022, 2, 24, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Reads:
    latencies_ms: list[float]
    errors: int  # answers other than 200

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass(frozen=True, slots=True)
class Abuse:
    streams: Counter[int]  # the status each stream was answered with (0: none in time)
    as_of: Counter[int]  # the status of each as_of question


# --- the reader -------------------------------------------------------------------------------


async def _read_steadily(base: str, key: str, seconds: float) -> Reads:
    """GET /v1/holdings at READS_PER_SECOND from each of READING_CONNECTIONS connections."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {key}"}

    async def connection() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            start = time.monotonic()
            sent = 0
            while time.monotonic() - start < seconds:
                began = time.perf_counter()
                response = await http.get("/v1/holdings")
                latencies.append((time.perf_counter() - began) * 1000)
                errors += response.status_code != 200
                sent += 1
                await asyncio.sleep(max(0.0, start + sent / READS_PER_SECOND - time.monotonic()))

    await asyncio.gather(*(connection() for _ in range(READING_CONNECTIONS)))
    return Reads(latencies, errors)


# --- the abuser (in a process of its own) -------------------------------------------------------


def _fresh_date(rng: random.Random) -> str:
    """An instant of the war to the second: asked once, never answered from memory."""
    moment = WAR_START + timedelta(seconds=rng.randrange(2 * 365 * 86_400))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _open_stream(host: str, port: int, key: str) -> tuple[asyncio.StreamWriter, int]:
    """A stream asked for and never read beyond its status line."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /v1/stream?after=0 HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), 10)
        status = int(status_line.split()[1])
    except (TimeoutError, IndexError, ValueError):
        status = 0
    return writer, status


async def _abuse(base: str, key: str, started: Queue[int], stop_after: float) -> Abuse:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    opened = await asyncio.gather(*(_open_stream(host, port, key) for _ in range(STREAMS)))
    streams = Counter(status for _, status in opened)
    as_of: Counter[int] = Counter()
    started.put(1)
    deadline = time.monotonic() + stop_after

    async def ask_about_the_past(seed: int) -> None:
        rng = random.Random(seed)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            while time.monotonic() < deadline:
                response = await http.get("/v1/holdings", params={"as_of": _fresh_date(rng)})
                as_of[response.status_code] += 1

    await asyncio.gather(*(ask_about_the_past(seed) for seed in range(AS_OF_CLIENTS)))
    for writer, _ in opened:
        writer.close()
    return Abuse(streams, as_of)


def _abuser(base: str, key: str, started: Queue[int], done: Queue[Abuse], seconds: float) -> None:
    done.put(asyncio.run(_abuse(base, key, started, seconds)))


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    events: int
    alone: Reads
    abused: Reads
    abuse: Abuse


def _bench(url: str, folder: Path) -> Figures:
    seeded = asyncio.run(seed(url))
    abuser_key = asyncio.run(new_key(url, "bench abuser"))
    env = {**os.environ, DATABASE_URL_VARIABLE: url}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [python_tool("timeline"), "serve", "--port", str(port)]
    with serving(serve, f"{base}/health", env, folder / "service.log"):
        asyncio.run(views_at(url, seeded.position))
        asyncio.run(_read_steadily(base, seeded.reader_key, 3.0))  # warm-up
        alone = asyncio.run(_read_steadily(base, seeded.reader_key, PHASE_SECONDS))
        spawn = multiprocessing.get_context("spawn")
        started: Queue[int] = spawn.Queue()
        done: Queue[Abuse] = spawn.Queue()
        abuser = spawn.Process(
            target=_abuser,
            args=(base, abuser_key, started, done, SETTLE_SECONDS + PHASE_SECONDS),
        )
        abuser.start()
        try:
            started.get(timeout=60)
            time.sleep(SETTLE_SECONDS)
            abused = asyncio.run(_read_steadily(base, seeded.reader_key, PHASE_SECONDS))
            abuse = done.get(timeout=120)
        finally:
            abuser.join(timeout=30)
            if abuser.is_alive():
                abuser.kill()
    return Figures(seeded.position, alone, abused, abuse)


def _print_reads(name: str, reads: Reads) -> None:
    print(f"{name}_requests: {len(reads.latencies_ms)} requests")
    print(f"{name}_p50: {statistics.median(reads.latencies_ms):.1f} ms")
    print(f"{name}_p99: {reads.percentile(0.99):.1f} ms")
    print(f"{name}_errors: {reads.errors} responses")


def main() -> None:
    with (
        fresh_database("timeline_bench_abuse") as url,
        tempfile.TemporaryDirectory(prefix="timeline-bench-abuse-") as folder,
    ):
        figures = _bench(url, Path(folder))
    print(f"events: {figures.events} events")
    _print_reads("holdings_alone", figures.alone)
    _print_reads("holdings_under_abuse", figures.abused)
    for status, count in sorted(figures.abuse.streams.items()):
        print(f"streams_answered_{status}: {count} connections")
    for status, count in sorted(figures.abuse.as_of.items()):
        print(f"as_of_answered_{status}: {count} requests")
    ratio = figures.alone.percentile(0.99) / figures.abused.percentile(0.99)
    print(f"ratio isolation: {ratio:.2f} (target >= {RATIO_TARGET:g})")


if __name__ == "__main__":
    main()
