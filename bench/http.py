"""HTTP reads and writes over loopback: the running service against a bare litestar app.

Usage: `python bench/http.py` (no arguments; `--server` and `--workers` try another setting
of `timeline serve`). Needs wrk (`apt-get install wrk`). Uses TIMELINE_DATABASE_URL when set,
else a throwaway embedded PostgreSQL; either way the run gets a fresh database, dropped at
the end.

The log holds the seed article's reports after the first 5,000 events of
bench/_generated_war.py's war (filings of all nine kinds across ten regions, with
corroborations, disputes, corrections and retractions), folded into the views before
anything is measured. The service runs as issue #15's topology runs it: the API in a
process of its own (`timeline serve --no-projections`) and the views' runners in another (a
`timeline project` worker, started and stopped with it), so a write's cost is its request
and its append in the API process while the worker folds it into the eleven views beside it,
on the same two cores and the same PostgreSQL; until the views have folded the seeded log
nothing is measured. (With the runners inside the API process, their folding ran on the
event loop that answers the requests: a POST waited for it.) The bare app
(bench/bare_app.py, one route returning 20 msgspec Structs) is served by the same server with
the same settings (cli/servers.py). wrk drives each at 64 connections, each figure the median
over interleaved rounds, each run after a warm-up:

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
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bench._database import fresh_database
from bench._figures import print_ratio
from bench._seeded import filing, seed, views_at
from bench._service import START_TIMEOUT, free_port, get, python_tool, serving, stop
from bench._wrk import CONNECTIONS, Run, Target, measure, median
from cli.servers import DEFAULT_SERVER, AsgiServer
from store.settings import DATABASE_URL_VARIABLE

ROUNDS = 3
POST_ROUNDS = 2
RATIO_TARGET = 0.5
P99_BUDGET_MS = 25.0
POST_P99_BUDGET_MS = 100.0


def _views_served(base: str, targets: Sequence[Target], position: int) -> dict[str, int]:
    """Every read answers 200 at `position` a few times in a row (so every worker's views
    have loaded it); the size of each answer."""
    deadline = time.monotonic() + START_TIMEOUT
    sizes = {}
    for target in targets:
        in_a_row = 0
        while in_a_row < 20:
            status, headers, sizes[target.name] = get(base + target.url, target.headers)
            if status == 200 and int(headers.get("X-Timeline-Position", -1)) >= position:
                in_a_row += 1
                continue
            in_a_row = 0
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target.url} answered {status}, not the seeded views")
            time.sleep(0.05)
    return sizes


@contextlib.contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[None]:
    """A `timeline project` worker running every view's runner until the block ends, then
    stopped as Ctrl-C stops it."""
    with log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603
            [python_tool("timeline"), "project"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            yield
        finally:
            stop(worker)


# --- the run --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    reads: dict[str, Run]  # bare, holdings, timeline
    body_bytes: dict[str, int]
    posts: Run | None  # None: the service does not take POST /v1/reports
    single_appends_per_second: float


def _bench(url: str, server: AsgiServer, workers: int, folder: Path) -> Figures:
    seeded = asyncio.run(seed(url))
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
        body=filing(),
    )
    serve = [
        python_tool("timeline"),
        "serve",
        "--port",
        str(service_port),
        "--no-projections",
        *settings,
    ]
    bare_app = [sys.executable, "-m", "bench.bare_app", "--port", str(bare_port), *settings]
    runs: dict[str, list[Run]] = {"bare": [], "holdings": [], "timeline": []}
    with (
        _worker(env, folder / "worker.log"),
        serving(serve, f"{service}/health", env, folder / "service.log"),
        serving(bare_app, f"{bare}/holdings", env, folder / "bare_app.log"),
    ):
        asyncio.run(views_at(url, seeded.position))
        sizes = {"bare": get(bare + bare_read.url)[2]}
        sizes |= _views_served(service, reads, seeded.position)
        for _ in range(ROUNDS):
            runs["bare"].append(measure(bare, bare_read, folder))
            for target in reads:
                runs[target.name].append(measure(service, target, folder))
        posts = _measure_posts(service, post, folder)
    return Figures(
        {name: median(done) for name, done in runs.items()},
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
    return median([measure(base, post, folder) for _ in range(POST_ROUNDS)])


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
        print_ratio(f"{name}_vs_bare", ratio, RATIO_TARGET)
    for name in ("holdings", "timeline"):
        print_ratio(f"{name}_p99_budget_over_p99", P99_BUDGET_MS / figures.reads[name].p99_ms, 1)
    if figures.posts is not None:
        posts = figures.posts.requests_per_second / figures.single_appends_per_second
        print_ratio("post_vs_single_append", posts, 1)
        print_ratio("post_p99_budget_over_p99", POST_P99_BUDGET_MS / figures.posts.p99_ms, 1)


if __name__ == "__main__":
    main()
