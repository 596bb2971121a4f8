"""GET /metrics: what an operator's Prometheus scrapes, in its text format.

Each app has a registry of its own (never prometheus_client's global one), so that two apps
in one process, as the tests make, count apart. What the process counts as it goes (requests
by route template and status, appends) lives in the registry's metrics; what is true at the
moment of a scrape (how far each view is behind the log, quarantined events, open streams,
refusals, the pool) is read when the scrape comes, from the same sources `timeline status`
and the limits use, and handed to the registry's collector just before it is written out.

Who may scrape: a client whose address is in `TIMELINE_METRICS_ALLOW` (CIDRs; this machine
only by default) without a key, or anyone with an admin key; anyone else is refused (403).
The figures name views, routes and counts, never a key or a report.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from api.auth import presented_key, requires_admin
from api.limits import Limits
from api.problems import problem
from api.services import Services, services_of
from domain.errors import VersionConflict
from domain.events import DomainEvent
from projections.registry import VIEWS
from projections.status import ViewStatus, view_statuses
from store.event_store import AppendResult, EventStore, Idempotency

# From a read answered from memory (tens of microseconds) to a fold of the log (seconds).
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DATABASE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

# A `_created` series beside every counter and histogram would double what each scrape
# carries, for a start time `process_start_time_seconds` already gives.
disable_created_metrics()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Scrape:
    """What is true at the moment of a scrape."""

    statuses: Sequence[ViewStatus] | None  # None: the database did not answer
    pool_size: int
    pool_idle: int
    pool_max: int
    open_streams: int
    refused: Mapping[str, int] = field(default_factory=dict)
    # With a standby for reads (TIMELINE_READ_DATABASE_URL): the newest position of the log
    # it has replayed (None: it did not answer). Without one: not asked.
    read_log_position: int | None = None
    read_database: bool = False


class _ScrapeCollector:
    """Yields the moment's figures from the last Scrape it was handed."""

    scrape: Scrape | None = None

    def collect(self) -> Iterable[Metric]:
        scrape = self.scrape
        if scrape is None:
            return
        yield GaugeMetricFamily(
            "timeline_database_up",
            "1 if the database answered this scrape, else 0",
            value=0 if scrape.statuses is None else 1,
        )
        if scrape.statuses is not None:
            yield from _view_families(scrape.statuses)
        if scrape.read_database:
            yield from _read_database_families(scrape)
        yield GaugeMetricFamily(
            "timeline_open_streams",
            "GET /v1/stream connections open in this process",
            value=scrape.open_streams,
        )
        refused = CounterMetricFamily(
            "timeline_refused_requests",
            "Requests a limit refused (api/limits.py), by reason: rate-limited, "
            "too-many-wrong-keys, too-many-streams, busy, too-many-imports",
            labels=["reason"],
        )
        for reason, count in sorted(scrape.refused.items()):
            refused.add_metric([reason], count)
        yield refused
        connections = GaugeMetricFamily(
            "timeline_db_pool_connections",
            "Connections of this process's database pool, by state",
            labels=["state"],
        )
        connections.add_metric(["in_use"], scrape.pool_size - scrape.pool_idle)
        connections.add_metric(["idle"], scrape.pool_idle)
        yield connections
        yield GaugeMetricFamily(
            "timeline_db_pool_max_connections",
            "The most connections this process's database pool opens",
            value=scrape.pool_max,
        )


def _read_database_families(scrape: Scrape) -> Iterable[Metric]:
    yield GaugeMetricFamily(
        "timeline_read_database_up",
        "1 if the standby this process reads its views from answered this scrape, else 0",
        value=0 if scrape.read_log_position is None else 1,
    )
    if scrape.read_log_position is not None and scrape.statuses:
        # The primary was asked first: a standby that caught up meanwhile shows 0, not less.
        behind = max(scrape.statuses[0].log_position - scrape.read_log_position, 0)
        yield GaugeMetricFamily(
            "timeline_read_database_lag_events",
            "Events of the primary's log the standby this process reads from has yet to replay",
            value=behind,
        )


def _view_families(statuses: Sequence[ViewStatus]) -> Iterable[Metric]:
    log_position = GaugeMetricFamily(
        "timeline_log_position", "The newest event's position in the log"
    )
    log_position.add_metric([], statuses[0].log_position if statuses else 0)
    yield log_position
    events = GaugeMetricFamily(
        "timeline_projection_lag_events",
        "Events of the log a view has yet to fold",
        labels=["view"],
    )
    seconds = GaugeMetricFamily(
        "timeline_projection_lag_seconds",
        "How long the oldest event a view has yet to fold has waited (0 when caught up)",
        labels=["view"],
    )
    quarantined = GaugeMetricFamily(
        "timeline_quarantined_events",
        "Events a view skipped, or reports a row leaves out, not yet resolved",
        labels=["view"],
    )
    for status in statuses:
        events.add_metric([status.view], status.lag)
        seconds.add_metric([status.view], status.lag_seconds)
        quarantined.add_metric([status.view], status.quarantined)
    yield from (events, seconds, quarantined)


class ServiceMetrics:
    """One app's metrics and the registry they are written from."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "timeline_http_request_duration_seconds",
            "Time to answer a request, by method, route template and status",
            ["method", "route", "status"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.events_appended = Counter(
            "timeline_events_appended",
            "Events this process appended to the log (a replayed idempotent write adds none)",
            registry=self.registry,
        )
        self.append_seconds = Histogram(
            "timeline_append_duration_seconds",
            "Time of one append to the log, by outcome: appended, replayed, conflict, failed",
            ["outcome"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        # A request's series, found again by a dict lookup rather than `labels()` each time:
        # a read from memory takes tens of microseconds, and `labels()` took one or two.
        self._request_series: dict[tuple[str, str, int], Any] = {}
        ProcessCollector(registry=self.registry)
        self._moment = _ScrapeCollector()
        self.registry.register(self._moment)

    def request_answered(self, method: str, route: str, status: int, seconds: float) -> None:
        series = self._request_series.get((method, route, status))
        if series is None:
            series = self.request_seconds.labels(method, route, str(status))
            self._request_series[(method, route, status)] = series
        series.observe(seconds)

    def exposition(self, scrape: Scrape) -> bytes:
        # No await between handing over the moment and writing it out: two scrapes at once
        # cannot mix their moments.
        self._moment.scrape = scrape
        return generate_latest(self.registry)


class MeteredEventStore(EventStore):
    """The event store, its appends counted and timed."""

    def __init__(self, pool: asyncpg.Pool, metrics: ServiceMetrics) -> None:
        super().__init__(pool)
        self._metrics = metrics

    async def append(
        self, events: Sequence[DomainEvent], *, idempotency: Idempotency | None = None
    ) -> AppendResult:
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await super().append(events, idempotency=idempotency)
        except VersionConflict:
            outcome = "conflict"
            raise
        else:
            outcome = "replayed" if result.replayed else "appended"
            if not result.replayed:
                self._metrics.events_appended.inc(len(result.events))
            return result
        finally:
            self._metrics.append_seconds.labels(outcome).observe(time.perf_counter() - started)


def allowed_address(host: str | None, networks: Iterable[Any]) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:  # not an address (a unix socket, a test client): not allowed
        return False
    return any(address in network for network in networks)


async def may_scrape(
    connection: ASGIConnection[Any, Any, Any, Any], route: BaseRouteHandler
) -> None:
    """An allowed address, or an admin key from anywhere."""
    client = connection.client
    if allowed_address(
        client.host if client else None, services_of(connection.app).settings.metrics_allow
    ):
        return
    if presented_key(connection) is None:
        raise PermissionDeniedException(
            detail="metrics are served without a key only to the addresses in "
            "TIMELINE_METRICS_ALLOW, and this address is not one; send an admin key"
        )
    checked = requires_admin(connection, route)
    if checked is not None:
        await checked


@get(
    "/metrics",
    operation_id="getMetrics",
    summary="Metrics in the Prometheus text format",
    description="Requests by route template and status, appends, each view's lag in events "
    "and seconds, quarantined events, open streams, refusals by the limits, the database "
    "pool. Without a key only from the addresses in TIMELINE_METRICS_ALLOW (this machine by "
    "default); with an admin key from anywhere.",
    tags=["service"],
    guards=[may_scrape],
    media_type=CONTENT_TYPE_PLAIN_0_0_4,
    security=[{}, {"bearer": []}, {"apiKey": []}],
    responses={
        401: problem("An API key was sent that is unknown or revoked"),
        403: problem("Neither an allowed address nor an admin key"),
    },
)
async def metrics(
    services: NamedDependency[Services],
    limits: NamedDependency[Limits],
    service_metrics: NamedDependency[ServiceMetrics],
) -> Response[bytes]:
    pool = services.pool
    try:
        statuses: Sequence[ViewStatus] | None = await view_statuses(pool, list(VIEWS))
    except DATABASE_ERRORS:
        statuses = None
    read_pool = services.read_pool
    read_log_position = None
    if read_pool is not pool:
        with contextlib.suppress(*DATABASE_ERRORS):
            read_log_position = await EventStore(read_pool).position()
    scrape = Scrape(
        statuses=statuses,
        pool_size=pool.get_size(),
        pool_idle=pool.get_idle_size(),
        pool_max=pool.get_max_size(),
        open_streams=limits.streams.in_all,
        refused=dict(limits.refusals),
        read_log_position=read_log_position,
        read_database=read_pool is not pool,
    )
    body = service_metrics.exposition(scrape)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
