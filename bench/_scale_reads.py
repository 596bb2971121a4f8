"""The reads bench/scale.py times at each size: questions of each kind, none asked twice,
one at a time on one keep-alive connection, bounded in time and in number.

Every read is a question not asked before in that process (its own day, millisecond,
position or window): the service answers a repeated URL from memory, so a second ask costs
nothing and says nothing about what the question costs.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from bench._figures import Figure, percentile
from bench._generated_war import REGIONS, SOURCES, WAR_BEGAN
from bench._scale_run import TEARDOWN, LogShape, SizeRun
from bench._service import Client, Service
from projections.row_keys import slug

REQUEST_TIMEOUT = 30.0
READ_SECONDS = 20.0
MAX_REQUESTS = 100
READ_BUDGETS_MS = {"as_of": 100.0, "known_at": 100.0, "explain_row": 100.0}
# The same past-tense questions of the views whose rows are each one report's: each counts
# in its budget's ratio (the worst of the views).
PAST_PAGE_READS = {
    "timeline_as_of": "as_of",
    "strikes_as_of": "as_of",
    "timeline_known_at": "known_at",
}
TIMELINE_BUDGET_MS = 50.0
TIMELINE_READS = ("timeline_strike_month", "timeline_region_week", "timeline_source_open")
READS = (*READ_BUDGETS_MS, *PAST_PAGE_READS, *TIMELINE_READS)
# The generated war's days: bench/_generated_war.py dates its claims within 1,000 days
# of its start.
WAR_DAYS = 1000
VERIFICATIONS = ("unverified", "corroborated", "disputed", "denied")


def _questions(kind: str, shape: LogShape, rng: random.Random) -> list[str]:
    """MAX_REQUESTS paths of one kind, none asked twice: each has its own day of the war,
    millisecond of the recording or position in the log's later half."""
    days = [WAR_BEGAN + timedelta(days=d) for d in rng.sample(range(WAR_DAYS), MAX_REQUESTS)]
    span_ms = (shape.last_recorded - shape.first_recorded) // timedelta(milliseconds=1)
    moments = [
        shape.first_recorded + timedelta(milliseconds=ms)
        for ms in rng.sample(range(span_ms + 1), MAX_REQUESTS)
    ]
    positions = rng.sample(range(shape.head // 2, shape.head + 1), MAX_REQUESTS)
    regions = [slug(name) for name, _, _ in REGIONS]
    paths = []
    for index, (day, moment, position) in enumerate(zip(days, moments, positions, strict=True)):
        region, path = regions[index % len(regions)], "/v1/timeline"
        query: dict[str, object]
        match kind:
            case "as_of":
                path, query = "/v1/holdings", {"as_of": day}
            case "known_at":
                path, query = "/v1/holdings", {"known_at": _moment(moment)}
            case "timeline_as_of":  # the month before the date: each date its own page
                query = {"as_of": day, "occurred_from": day - timedelta(days=30)}
            case "strikes_as_of":
                path, query = "/v1/strikes", {"as_of": day, "limit": 50}
            case "timeline_known_at":  # from a day of the war on: not always the first page
                query = {"known_at": _moment(moment), "occurred_from": day}
            case "explain_row":
                path, query = f"/v1/holdings/{region}", {"explain": "true", "position": position}
            case "timeline_strike_month":
                month = day + timedelta(days=30)
                query = {"kind": "strike", "occurred_from": day, "occurred_to": month}
            case "timeline_region_week":
                actor = ("ukraine", "russia")[index // len(regions) % 2]
                week = {"reported_from": day, "reported_to": day + timedelta(days=7)}
                query = {"region": region, "actor": actor, **week}
            case "timeline_source_open":
                said = {
                    "source": SOURCES[index % len(SOURCES)].source,
                    "verification": VERIFICATIONS[index % len(VERIFICATIONS)],
                }
                query = {**said, "occurred_from": day, "limit": 20}
            case _:
                raise ValueError(f"no such read: {kind}")
        paths.append(f"{path}?{urlencode(query)}")
    return paths


def _moment(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Reads:
    latencies_ms: list[float] = field(default_factory=list)  # inf: timed out
    errors: Counter[int] = field(default_factory=Counter)
    body_bytes: int = 0


def _read(client: Client, paths: Sequence[str], seconds: float) -> Reads:
    """As many of `paths` as fit in `seconds`, in order, until one times out."""
    reads = Reads()
    started, slowest = time.monotonic(), 0.0
    for path in paths:
        made = reads.latencies_ms or reads.errors
        if made and time.monotonic() - started + slowest > seconds:
            break
        try:
            status, _, elapsed_ms, size = client.get(path)
        except TimeoutError:
            reads.latencies_ms.append(math.inf)
            break
        slowest = max(slowest, elapsed_ms / 1000)
        if status == 200:
            reads.latencies_ms.append(elapsed_ms)
            reads.body_bytes = max(reads.body_bytes, size)
        else:
            reads.errors[status] += 1
    return reads


def _latency(value: float, made: int) -> Figure:
    if math.isinf(value):
        return Figure(REQUEST_TIMEOUT * 1000, "ms", f"timed out; {made} requests made")
    return Figure(value, "ms")


def _wait_for_health(service: Service, secret: str, seconds: float) -> None:
    """After a request that timed out, until the service answers again: the next figure is
    not to pay for the last one's work."""
    client = Client(service.port, secret, timeout=seconds)
    with contextlib.suppress(OSError, http.client.HTTPException):
        client.get("/health")
    client.close()


def measure_reads(run: SizeRun, service: Service) -> None:
    """Each kind of read in turn, its figures put as they are measured."""
    rng = random.Random(run.size)
    client = Client(service.port, run.secret, timeout=REQUEST_TIMEOUT)
    name, figures = run.name, run.figures
    try:
        for index, kind in enumerate(READS):
            left = len(READS) - index
            seconds = min(READ_SECONDS, (run.left() - TEARDOWN) / left)
            if seconds < 1:
                figures.say(f"{kind}_p99_{name}", "not measured (out of time)")
                continue
            reads = _read(client, _questions(kind, run.shape, rng), seconds)
            made = len(reads.latencies_ms)
            if reads.latencies_ms:
                figures.put(
                    f"{kind}_p50_{name}", _latency(percentile(reads.latencies_ms, 0.5), made)
                )
                figures.put(
                    f"{kind}_p99_{name}", _latency(percentile(reads.latencies_ms, 0.99), made)
                )
                figures.put(f"{kind}_requests_{name}", Figure(made, "requests"))
                figures.put(f"{kind}_largest_body_{name}", Figure(reads.body_bytes, "bytes"))
            for status, count in sorted(reads.errors.items()):
                figures.say(f"{kind}_errors_{name}", f"{count} answered {status}")
            if reads.latencies_ms and math.isinf(reads.latencies_ms[-1]):
                client.close()
                _wait_for_health(service, run.secret, REQUEST_TIMEOUT * 2)
    finally:
        client.close()
