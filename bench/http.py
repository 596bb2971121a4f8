"""HTTP reads and writes over loopback: the running service against a bare litestar app.

Usage: `python bench/http.py` (no arguments; `--server` and `--workers` try another setting
of `timeline serve`). Needs wrk (`apt-get install wrk`). Uses TIMELINE_DATABASE_URL when set,
else a throwaway embedded PostgreSQL; either way the run gets a fresh database, dropped at
the end.

The log holds the seed article's reports after the first 5,000 events of
bench/_generated_war.py's war (filings of all nine kinds across ten regions, with
corroborations, disputes, corrections and retractions), folded into the views before
anything is measured. The service is `timeline serve` in a process of its own, with its
projection runners, as an operator runs it; the bare app (bench/bare_app.py, one route
returning 20 msgspec Structs) is served by the same server with the same settings
(cli/servers.py). wrk drives each at 64 connections, each figure the median over interleaved
rounds, each run after a warm-up:

  bare            GET /holdings on the bare app
  holdings        GET /v1/holdings, with a reader's API key
  timeline        GET /v1/timeline?limit=50, with a reader's API key
  reports_post    POST /v1/reports, a filing (the seed article's 800 km² claim) with an
                  editor's key: every request appends an event, so it runs after the reads
  single_append   the same filing appended by the store itself, one append after another
                  on one connection, each with its own idempotency key, on the same
                  database before the service starts: what one writer gets without HTTP

Each answer's size is printed too: a read sends the whole holdings view (about 100 kB here)
or 50 timeline rows (about 40 kB) where the bare app sends 4 kB, and over loopback the bytes
are much of what a request costs. The reads are answered from memory (api/read_cache.py).

Targets: each read at >= 0.5x the bare app's requests/s, with p99 under 25 ms; POST
/v1/reports at 64 connections at least as many requests/s as single_append (concurrent
writers are committed in groups, store/group_commit.py), with p99 under 100 ms.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/http.py` puts this file's folder first on sys.path, where this file would
# stand in for the standard library's `http` package, which urllib and asyncpg import.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from uuid import uuid4

import asyncpg
import msgspec

from application.commands import FileReport
from application.decoding import decode_command
from application.reports import ReportService, decide_filing
from bench._database import fresh_database, open_pool
from bench._generated_war import SEED, copy_into_log, generated_log
from bench._service import free_port, python_tool
from cli.servers import DEFAULT_SERVER, AsgiServer
from projections.registry import VIEWS
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.api_keys import Role, create_key
from store.event_store import EventStore, Idempotency
from store.settings import DATABASE_URL_VARIABLE

GENERATED_EVENTS = 5_000
CONNECTIONS = 64
WRK_THREADS = 2
ROUNDS = 3
WARMUP_SECONDS = 2
MEASURE_SECONDS = 10
POST_ROUNDS = 2
START_TIMEOUT = 90.0
RATIO_TARGET = 0.5
P99_BUDGET_MS = 25.0
POST_P99_BUDGET_MS = 100.0
SINGLE_APPENDS = 1_000  # per round
SINGLE_WARMUP = 200
SINGLE_ROUNDS = 3

# The views' lowest serving position, -1 until every view's runner has created its generation.
LOWEST_POSITION = """
SELECT CASE WHEN count(*) = $1 THEN min(position) ELSE -1 END
FROM projection_generations WHERE state = 'serving'
"""

# wrk calls done() once at the end: one JSON line for us after its own report.
WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH {{\\"requests\\":%d,\\"micros\\":%d,\\"p50\\":%d,\\"p99\\":%d,\\"errors\\":%d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
"""


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass(frozen=True, slots=True)
class Seeded:
    position: int
    reader_key: str
    editor_key: str
    single_appends_per_second: float


# --- the data -------------------------------------------------------------------------------


async def _seed(url: str) -> Seeded:
    """The generated war's first events by COPY, then the seed article through the service's
    own use cases, then a reader's and an editor's key."""
    connection = await asyncpg.connect(url)
    try:
        first = next(generated_log(random.Random(SEED), chunk=GENERATED_EVENTS))
        await copy_into_log(connection, [first])
    finally:
        await connection.close()
    pool = await open_pool(url, size=2)
    try:
        store = EventStore(pool)
        await load_demo(ReportService(store))
        reader = await create_key(pool, "bench reader", Role.READER)
        editor = await create_key(pool, "bench editor", Role.EDITOR)
    finally:
        await pool.close()
    single = await _single_appends(url)
    return Seeded(await _position(url), reader.secret, editor.secret, single)


async def _position(url: str) -> int:
    pool = await open_pool(url)
    try:
        return await EventStore(pool).position()
    finally:
        await pool.close()


async def _single_appends(url: str) -> float:
    """Appends per second of the POST's filing, one after another through the store on one
    connection (each a new report with its own key): the median over a few rounds."""
    pool = await open_pool(url)
    store = EventStore(pool)
    command = decode_command(FileReport, _filing())

    async def appends(count: int) -> float:
        work = [(decide_filing(command), f"bench-single-{uuid4()}") for _ in range(count)]
        started = time.perf_counter()
        for event, key in work:
            await store.append([event], idempotency=Idempotency(key, key.encode()))
        return count / (time.perf_counter() - started)

    try:
        await appends(SINGLE_WARMUP)
        return statistics.median([await appends(SINGLE_APPENDS) for _ in range(SINGLE_ROUNDS)])
    finally:
        await pool.close()


def _filing() -> bytes:
    """A new report each time it is posted: the seed's "Ukraine holds about 800 km²"."""
    demo = next(d for d in demo_reports() if "800" in msgspec.json.encode(d.filing).decode())
    return msgspec.json.encode(msgspec.structs.replace(demo.filing, report_id=None))


async def _views_at(url: str, position: int) -> None:
    connection = await asyncpg.connect(url)
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                if await connection.fetchval(LOWEST_POSITION, len(VIEWS)) >= position:
                    return
                await asyncio.sleep(0.05)
    finally:
        await connection.close()


# --- the servers ------------------------------------------------------------------------------


def _get(url: str, headers: Sequence[tuple[str, str]] = ()) -> tuple[int, Message, int]:
    """The status, headers (looked up in any case) and body size of a GET."""
    request = urllib.request.Request(url, headers=dict(headers))  # noqa: S310  (our loopback)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.headers, len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, 0


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{url}: its server exited with {process.returncode}:\n{tail}")
        try:
            _get(url)
        except OSError:
            time.sleep(0.1)
            continue
        return
    raise RuntimeError(f"nothing answered {url} within {START_TIMEOUT:.0f} s")


@contextmanager
def _serving(command: list[str], url: str, env: dict[str, str], log: Path) -> Iterator[None]:
    """`command` running until the block ends, then stopped as Ctrl-C stops it; what it
    prints goes to `log`, shown if it fails to start."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(url, process, log)
            yield
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _views_served(base: str, targets: Sequence[Target], position: int) -> dict[str, int]:
    """Every read answers 200 at `position` a few times in a row (so every worker's views
    have loaded it); the size of each answer."""
    deadline = time.monotonic() + START_TIMEOUT
    sizes = {}
    for target in targets:
        in_a_row = 0
        while in_a_row < 20:
            status, headers, sizes[target.name] = _get(base + target.url, target.headers)
            if status == 200 and int(headers.get("X-Timeline-Position", -1)) >= position:
                in_a_row += 1
                continue
            in_a_row = 0
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target.url} answered {status}, not the seeded views")
            time.sleep(0.05)
    return sizes


# --- wrk ----------------------------------------------------------------------------------


def _wrk(base: str, target: Target, seconds: int, folder: Path) -> Run:
    headers = "\n".join(
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in target.headers
    )
    script = folder / f"{target.name}.lua"
    script.write_text(
        WRK_SCRIPT.format(method=target.method, body=target.body.decode(), headers=headers)
    )
    done = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk") or "wrk",
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "-s",
            str(script),
            base + target.url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    return Run(
        requests_per_second=result["requests"] / (result["micros"] / 1e6),
        p50_ms=result["p50"] / 1000,
        p99_ms=result["p99"] / 1000,
        errors=result["errors"],
    )


def _measure(base: str, target: Target, folder: Path) -> Run:
    _wrk(base, target, WARMUP_SECONDS, folder)
    return _wrk(base, target, MEASURE_SECONDS, folder)


def _median(runs: list[Run]) -> Run:
    return Run(
        requests_per_second=statistics.median(run.requests_per_second for run in runs),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=statistics.median(run.p99_ms for run in runs),
        errors=sum(run.errors for run in runs),
    )


# --- the run --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    reads: dict[str, Run]  # bare, holdings, timeline
    body_bytes: dict[str, int]
    posts: Run | None  # None: the service does not take POST /v1/reports
    single_appends_per_second: float


def _bench(url: str, server: AsgiServer, workers: int, folder: Path) -> Figures:
    seeded = asyncio.run(_seed(url))
    # wrk sends thousands of requests a second with one key: this measures the service, not
    # its rate limit (bench/abuse.py measures that).
    env = {**os.environ, DATABASE_URL_VARIABLE: url, "TIMELINE_RATE_LIMIT": "0"}
    service_port, bare_port = free_port(), free_port()
    service = f"http://127.0.0.1:{service_port}"
    bare = f"http://127.0.0.1:{bare_port}"
    settings = ["--server", server.value, "--workers", str(workers)]
    reader = (("Authorization", f"Bearer {seeded.reader_key}"),)
    bare_read = Target("bare", "/holdings")
    reads = [
        Target("holdings", "/v1/holdings", headers=reader),
        Target("timeline", "/v1/timeline?limit=50", headers=reader),
    ]
    post = Target(
        "reports_post",
        "/v1/reports",
        method="POST",
        headers=(
            ("Authorization", f"Bearer {seeded.editor_key}"),
            ("Content-Type", "application/json"),
        ),
        body=_filing(),
    )
    serve = [python_tool("timeline"), "serve", "--port", str(service_port), *settings]
    bare_app = [sys.executable, "-m", "bench.bare_app", "--port", str(bare_port), *settings]
    runs: dict[str, list[Run]] = {"bare": [], "holdings": [], "timeline": []}
    with (
        _serving(serve, f"{service}/health", env, folder / "service.log"),
        _serving(bare_app, f"{bare}/holdings", env, folder / "bare_app.log"),
    ):
        asyncio.run(_views_at(url, seeded.position))
        sizes = {"bare": _get(bare + bare_read.url)[2]}
        sizes |= _views_served(service, reads, seeded.position)
        for _ in range(ROUNDS):
            runs["bare"].append(_measure(bare, bare_read, folder))
            for target in reads:
                runs[target.name].append(_measure(service, target, folder))
        posts = _measure_posts(service, post, folder)
    return Figures(
        {name: _median(done) for name, done in runs.items()},
        sizes,
        posts,
        seeded.single_appends_per_second,
    )


def _measure_posts(base: str, post: Target, folder: Path) -> Run | None:
    """None when the service does not take POST /v1/reports (yet)."""
    request = urllib.request.Request(  # noqa: S310  (our loopback)
        base + post.url, data=post.body, headers=dict(post.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310
            pass
    except urllib.error.HTTPError as error:
        if error.code in (404, 405):
            return None
        raise
    return _median([_measure(base, post, folder) for _ in range(POST_ROUNDS)])


def _print(name: str, run: Run) -> None:
    print(f"{name}_requests_per_second: {run.requests_per_second:.0f} req/s")
    print(f"{name}_p50: {run.p50_ms:.1f} ms")
    print(f"{name}_p99: {run.p99_ms:.1f} ms")
    if run.errors:
        print(f"{name}_errors: {run.errors} responses")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/http.py")
    parser.add_argument("--server", default=DEFAULT_SERVER.value, choices=list(AsgiServer))
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/http.py needs wrk, the HTTP load tool: apt-get install wrk")
    server = AsgiServer(args.server)
    with (
        fresh_database("timeline_bench_http") as url,
        tempfile.TemporaryDirectory(prefix="timeline-bench-http-") as folder,
    ):
        figures = _bench(url, server, args.workers, Path(folder))
    workers = "1 worker" if args.workers == 1 else f"{args.workers} workers"
    print(f"server: {server.value}, {workers} for each app")
    print(f"connections: {CONNECTIONS} connections")
    for name, run in figures.reads.items():
        print(f"{name}_body: {figures.body_bytes[name]} bytes")
        _print(name, run)
    print(f"single_append: {figures.single_appends_per_second:.0f} appends/s")
    if figures.posts is None:
        print("reports_post: not measured (the service does not serve POST /v1/reports yet)")
    else:
        _print("reports_post", figures.posts)
    bare = figures.reads["bare"]
    for name in ("holdings", "timeline"):
        ratio = figures.reads[name].requests_per_second / bare.requests_per_second
        print(f"ratio {name}_vs_bare: {ratio:.2f} (target >= {RATIO_TARGET:g})")
    for name in ("holdings", "timeline"):
        budget = P99_BUDGET_MS / figures.reads[name].p99_ms
        print(f"ratio {name}_p99_budget_over_p99: {budget:.2f} (target >= 1)")
    if figures.posts is not None:
        posts = figures.posts.requests_per_second / figures.single_appends_per_second
        print(f"ratio post_vs_single_append: {posts:.2f} (target >= 1)")
        budget = POST_P99_BUDGET_MS / figures.posts.p99_ms
        print(f"ratio post_p99_budget_over_p99: {budget:.2f} (target >= 1)")


if __name__ == "__main__":
    main()
