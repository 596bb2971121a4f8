"""Cost at scale: the same questions asked of a log of 100,000 and of 1,000,000 events.

Usage: `python bench/scale.py` (no arguments; under 10 minutes). `--sizes 2000,10000` tries
smaller logs (a smoke run), `--skip-cold-start` leaves the cold start out, `--budget SECONDS`
sets the whole run's time limit (540 s). Uses TIMELINE_DATABASE_URL when set, else a
throwaway embedded PostgreSQL; either way each size gets a fresh database on that one server,
dropped at the end.

Each size's log is bench/_generated_war.py's war, loaded by COPY (`load_log`; `load` is
printed, not a target). The service runs as an operator grows it past one process: `timeline
serve --no-projections` (the API, one granian worker, which loads the views' rows from
PostgreSQL) and `timeline project` (the projection worker), each a process of its own.
At each size, in order:

  cold_start      seconds from starting both processes, nothing built, to every view
                  serving at the head of the log: its generation there in PostgreSQL and
                  its route answering with X-Timeline-Position at the head (with the RSS
                  of both processes then, `*_rss_cold_start`, for information)
  rebuild         seconds of the command `timeline rebuild --all` on the same log, both
                  processes stopped and the views emptied again: from nothing built too
  warm_start      both processes started again, on the rebuilt views, to serving at head
  following       seconds from filing the seed article's reports (the service's own use
                  cases) to every view serving them: both processes are past their
                  start-up work and follow the log
  *_rss_caught_up RSS of the API's worker process and of `timeline project`, then
  reads, one request at a time on one keep-alive connection, p50 and p99:
    as_of                   GET /v1/holdings?as_of=D, D a day of the war
    known_at                GET /v1/holdings?known_at=T, T a millisecond of the recording
    timeline_as_of          GET /v1/timeline?as_of=D&occurred_from=D-30 days
    strikes_as_of           GET /v1/strikes?as_of=D&limit=50
    timeline_known_at       GET /v1/timeline?known_at=T&occurred_from=D
    explain_row             GET /v1/holdings/{region}?explain=true&position=N, one region's
                            figures explained as they stood at a position in the log's later
                            half (what an auditor clicks on: a figure shown lately)
    timeline_strike_month   GET /v1/timeline?kind=strike&occurred_from=D&occurred_to=D+30 days
    timeline_region_week    GET /v1/timeline?region=R&actor=A&reported_from=D&reported_to=D+7
    timeline_source_open    GET /v1/timeline?source=S&verification=V&occurred_from=D&limit=20
  *_rss_after_reads  both RSS again; *_rss_peak, each process's high-water mark (VmHWM)

Every read is a question not asked before in that process (its own day, millisecond,
position or window): the service answers a repeated URL from memory (api/read_cache.py,
and api/reads.py's memo per view position), so a second ask costs nothing and says nothing
about what the question costs. The timing figures go through no cache: each starts its
processes anew, and the rebuild and the cold start both begin with the views emptied.

Bounded, so that today's slow paths fit the time: a request gives up after 30 s (its kind
stops there, and the bench waits for /health to answer before going on); a kind of read
gets 20 s and 100 requests at most (less when the run's budget runs short), and no request
starts that the slowest so far says would end late; the cold start stops counting at 120 s.
A figure cut short prints as `>N`, and a ratio made from one is a bound, named on the
`bounds:` line; `n/a` is a ratio with a figure behind it not measured. p99 is the
nearest-rank 99th percentile: with fewer than 100 requests, the slowest.

Targets (issue #11), at the larger size and from the smaller to the larger: as_of, known_at
and explain_row p99 under 100 ms (as_of and known_at: the worst of the views asked, the
timeline's and the strikes' pages with the holdings), each timeline filter under 50 ms (the
worst of the three in the ratio); as_of p99 at most 1.5x its value at the smaller size;
each process's RSS (the larger of its two readings, MB = 10^6 bytes) under 500 MB and at
most 1.3x its value at the smaller size (`rss_growth`: the process that grew more); the cold
start within 1.25x of the rebuild.
"""

from __future__ import annotations

import sys
from pathlib import Path

# As in bench/http.py: with this file's folder first on sys.path, bench/http.py would stand
# in for the standard library's `http`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
import argparse
import asyncio
import http.client
import math
import os
import subprocess
import tempfile
import time
from pathlib import Path

from application.reports import ReportService
from bench._database import LOWEST_POSITION, database_server, fresh_database, new_key, open_pool
from bench._figures import Figure, Figures, Ratio, print_ratio, ratio, worst
from bench._generated_war import load_log
from bench._scale_reads import (
    PAST_PAGE_READS,
    READ_BUDGETS_MS,
    TIMELINE_BUDGET_MS,
    TIMELINE_READS,
    measure_reads,
)
from bench._scale_run import TEARDOWN, LogShape, SizeRun, Sql, label
from bench._service import Client, Service, python_tool, running, stop
from projections.registry import VIEWS
from seed.demo import load_demo
from store.event_store import EventStore
from store.settings import DATABASE_URL_VARIABLE

SIZES = (100_000, 1_000_000)
MIN_SIZE = 1_000  # enough positions and milliseconds for MAX_REQUESTS fresh questions of a kind
RUN_SECONDS = 540.0  # under 10 minutes with a request in flight and the teardown
COLD_START_CAP = 120.0
REBUILD_CAP = 300.0
WARM_START_CAP = 180.0
POLL_SECONDS = 0.2
# Time kept back, at a size, for what comes after each step.
AFTER_COLD_START = 180.0  # the rebuild, the warm start, the reads
AFTER_REBUILD = 120.0  # the warm start, the reads
RSS_BUDGET_MB = 500.0
TARGETS = {
    "as_of_growth": 0.67,
    "rss_growth": 0.77,
    "cold_start_vs_rebuild": 0.8,
}
EMPTY_VIEWS = (
    "TRUNCATE projection_generations, view_rows, timeline_entries, timeline_superseded, "
    "report_versions"
)
SLOWEST_VIEW = (
    "SELECT coalesce(min(position), 0) FROM projection_generations WHERE state = 'serving'"
)


async def _file_seed_article(url: str) -> int:
    """The seed article's reports, filed as an editor would: a few new events to follow."""
    pool = await open_pool(url)
    try:
        store = EventStore(pool)
        await load_demo(ReportService(store))
        return await store.position()
    finally:
        await pool.close()


# --- serving -----------------------------------------------------------------------------------


def _views_answer_at(service: Service, secret: str, position: int) -> bool:
    """Every view's route answers 200 at `position` or later (cheap questions, cached)."""
    client = Client(service.port, secret, timeout=5.0)
    try:
        for name in VIEWS:
            path = "/v1/timeline?limit=1" if name == "timeline" else f"/v1/{name}?key=bench"
            status, at, _, _ = client.get(path)
            if status != 200 or at < position:
                return False
    except (OSError, http.client.HTTPException):
        return False  # not listening yet
    finally:
        client.close()
    return True


def _serving_at(
    run: SizeRun, service: Service, position: int, *, since: float, seconds: float
) -> float | None:
    """Seconds from `since` until every view serves at `position`; None if not by `seconds`."""
    while time.monotonic() < since + seconds:
        service.check_running()
        if run.sql.value(LOWEST_POSITION, len(VIEWS)) >= position and _views_answer_at(
            service, run.secret, position
        ):
            return time.monotonic() - since
        time.sleep(POLL_SECONDS)
    return None


# --- one size ----------------------------------------------------------------------------------


def _rebuild(run: SizeRun, seconds: float) -> Figure:
    """`timeline rebuild --all`, as a user runs it; cut at `seconds`."""
    env = {**os.environ, DATABASE_URL_VARIABLE: run.url}
    log = run.folder / f"{run.name}-rebuild.log"
    with log.open("wb") as output:
        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603
            [python_tool("timeline"), "rebuild", "--all"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            code = process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            stop(process)
            return Figure(seconds, "s", "capped")
        elapsed = time.monotonic() - started
    if code != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"timeline rebuild --all exited with {code}:\n{tail}")
    return Figure(elapsed, "s")


def _put_rss(run: SizeRun, service: Service, moment: str) -> None:
    api, worker = service.rss_mb()
    run.figures.put(f"api_rss_{moment}_{run.name}", Figure(api, "MB"))
    run.figures.put(f"worker_rss_{moment}_{run.name}", Figure(worker, "MB"))


def _cold_start(run: SizeRun) -> None:
    """Both processes started on a log with nothing built, until every view serves its head."""
    cap = run.cap(COLD_START_CAP, keep=AFTER_COLD_START)
    head, name = run.shape.head, f"cold_start_{run.name}"
    with running(run.url, run.folder, f"{run.name}-cold") as service:
        seconds = _serving_at(run, service, head, since=service.started, seconds=cap)
        if seconds is None:
            reached = run.sql.value(SLOWEST_VIEW)
            why = f"capped; the slowest view at position {reached} of {head}"
            run.figures.put(name, Figure(cap, "s", why))
        else:
            run.figures.put(name, Figure(seconds, "s"))
            _put_rss(run, service, "cold_start")
    run.sql.value(EMPTY_VIEWS)  # nothing built again, for the rebuild


def _serve_built(run: SizeRun) -> None:
    """Both processes on the rebuilt views: serving, following new events, then the reads."""
    name, figures = run.name, run.figures
    with running(run.url, run.folder, f"{name}-warm") as service:
        cap = run.cap(WARM_START_CAP, keep=TEARDOWN)
        seconds = _serving_at(run, service, run.shape.head, since=service.started, seconds=cap)
        if seconds is None:
            figures.put(f"warm_start_{name}", Figure(cap, "s", "capped"))
            figures.say(f"reads_{name}", "not measured (the views did not serve in time)")
            return
        figures.put(f"warm_start_{name}", Figure(seconds, "s"))
        filed = time.monotonic()
        position = run.sql.run(_file_seed_article(run.url))
        cap = run.cap(WARM_START_CAP, keep=TEARDOWN)
        seconds = _serving_at(run, service, position, since=filed, seconds=cap)
        why = "capped; the views had not served the new events"
        figures.put(
            f"following_{name}", Figure(cap, "s", why) if seconds is None else Figure(seconds, "s")
        )
        _put_rss(run, service, "caught_up")
        measure_reads(run, service)
        _put_rss(run, service, "after_reads")
        api, worker = service.peak_mb()
        figures.put(f"api_rss_peak_{name}", Figure(api, "MB"))
        figures.put(f"worker_rss_peak_{name}", Figure(worker, "MB"))


def _measure_size(
    server_url: str, size: int, skip_cold_start: bool, end: float, figures: Figures
) -> None:
    name = label(size)
    with (
        fresh_database("timeline_bench_scale", on=server_url) as url,
        tempfile.TemporaryDirectory(prefix="timeline-bench-scale-") as logs,
    ):
        started = time.monotonic()
        asyncio.run(load_log(url, size))
        figures.put(f"load_{name}", Figure(time.monotonic() - started, "s"))
        sql = Sql(url)
        try:
            shape = LogShape(
                head=int(sql.value("SELECT max(notification_id) FROM timeline_events")),
                first_recorded=sql.value("SELECT min(recorded_at) FROM timeline_events"),
                last_recorded=sql.value("SELECT max(recorded_at) FROM timeline_events"),
            )
            secret = sql.run(new_key(url, "scale bench reader"))
            run = SizeRun(size, url, sql, secret, shape, Path(logs), end, figures)
            if skip_cold_start:
                figures.say(f"cold_start_{name}", "not measured (--skip-cold-start)")
            else:
                _cold_start(run)
            cap = run.cap(REBUILD_CAP, keep=AFTER_REBUILD)
            figures.put(f"rebuild_{name}", _rebuild(run, cap))
            _serve_built(run)
        finally:
            sql.close()


# --- the ratios --------------------------------------------------------------------------------


def _past_p99(figures: Figures, kind: str, name: str) -> Figure | None:
    """The p99 of a kind of past-tense question at one size: the worst of the views asked
    it (holdings, and the timeline's and the strikes' pages)."""
    kinds = [kind, *(page for page, budget in PAST_PAGE_READS.items() if budget == kind)]
    return worst([figures.get(f"{asked}_p99_{name}") for asked in kinds])


def _rss_of(figures: Figures, process: str, name: str) -> Figure | None:
    """A process's RSS at one size: the larger of its readings after catching up and after
    the reads."""
    moments = ("caught_up", "after_reads")
    return worst([figures.get(f"{process}_rss_{moment}_{name}") for moment in moments])


def _ratios(figures: Figures, small: int, large: int) -> dict[str, tuple[Ratio, float]]:
    at_small, at_large = label(small), label(large)
    budget_ms = {name: Figure(budget, "ms") for name, budget in READ_BUDGETS_MS.items()}
    timeline = worst([figures.get(f"{kind}_p99_{at_large}") for kind in TIMELINE_READS])
    ratios = {
        f"{kind}_budget_over_p99": (ratio(budget, _past_p99(figures, kind, at_large)), 1.0)
        for kind, budget in budget_ms.items()
    }
    ratios["timeline_filter_budget_over_p99"] = (
        ratio(Figure(TIMELINE_BUDGET_MS, "ms"), timeline),
        1.0,
    )
    ratios["as_of_growth"] = (
        ratio(_past_p99(figures, "as_of", at_small), _past_p99(figures, "as_of", at_large)),
        TARGETS["as_of_growth"],
    )
    rss_budget = Figure(RSS_BUDGET_MB, "MB")
    growths = []
    for process in ("api", "worker"):
        at_large_rss = _rss_of(figures, process, at_large)
        ratios[f"{process}_rss_budget_over_rss"] = (ratio(rss_budget, at_large_rss), 1.0)
        growths.append(ratio(_rss_of(figures, process, at_small), at_large_rss))
    # The process that grew more; unknown if either is.
    grew_more = min(growths, key=lambda r: math.inf if r.value is None else r.value)
    known = all(growth.value is not None for growth in growths)
    ratios["rss_growth"] = (grew_more if known else Ratio(None), TARGETS["rss_growth"])
    ratios["cold_start_vs_rebuild"] = (
        ratio(figures.get(f"rebuild_{at_large}"), figures.get(f"cold_start_{at_large}")),
        TARGETS["cold_start_vs_rebuild"],
    )
    return ratios


def _sizes(text: str) -> tuple[int, int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if len(sizes) != 2 or sizes[0] < MIN_SIZE:
        raise argparse.ArgumentTypeError(
            f"two log sizes of at least {MIN_SIZE} events, such as 100000,1000000"
        )
    return sizes[0], sizes[1]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/scale.py")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=SIZES,
        help="the two log sizes, in events (default: 100000,1000000)",
    )
    parser.add_argument(
        "--skip-cold-start", action="store_true", help="leave out the cold start (and its ratio)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=RUN_SECONDS,
        help="seconds for the whole run (default: %(default)g)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    end = started + args.budget
    figures = Figures()
    with database_server() as server_url:
        for size in args.sizes:
            _measure_size(server_url, size, args.skip_cold_start, end, figures)
    figures.put("run", Figure(time.monotonic() - started, "s"))
    ratios = _ratios(figures, *args.sizes)
    bounds = [f"{name} {ratio.bound}" for name, (ratio, _) in ratios.items() if ratio.bound]
    if bounds:
        figures.say("bounds", ", ".join(bounds) + " (a figure behind it was cut short)")
    for name, (measured, target) in ratios.items():
        print_ratio(name, measured.value, target)


if __name__ == "__main__":
    main()
