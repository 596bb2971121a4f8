"""Health for people and for orchestrators.

- `GET /health`: is the database answering, and how far has the log come.
- `GET /health/live`: the process is running and serving; asks nothing of the database, so
  an orchestrator does not restart a healthy process because the database is slow.
- `GET /health/ready`: the database answers and every view is within `ready_max_lag` events
  of the log (`TIMELINE_READY_MAX_LAG`), from the same status `timeline status` shows; 503
  naming the views behind otherwise, so a load balancer sends reads elsewhere meanwhile.
  With a standby for reads (TIMELINE_READ_DATABASE_URL) it must answer too: this process
  serves its views from there.
"""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from api.services import Services
from projections.registry import VIEWS
from projections.status import view_statuses
from store.event_store import EventStore

DATABASE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Health(msgspec.Struct, frozen=True):
    status: str
    database: str
    position: int | None


class Liveness(msgspec.Struct, frozen=True):
    status: str  # always "ok": a process that answers is alive


class LaggingView(msgspec.Struct, frozen=True, kw_only=True):
    view: str
    lag: int  # events of the log it has yet to fold
    lag_seconds: float  # how long the oldest of them has waited
    state: str  # as `timeline status` says: running, building, stopped or new


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: str  # "ready" or "not_ready"
    database: str  # "ok" or "unreachable"
    max_lag: int  # the most events a view may be behind for the process to be ready
    lagging: tuple[LaggingView, ...] = ()  # the views further behind than that
    # "ok" or "unreachable": the standby the views are read from; absent without one.
    read_database: str | msgspec.UnsetType = msgspec.UNSET


class HealthController(Controller):
    path = "/health"

    @get(operation_id="getHealth", summary="Service and database health")
    async def health(self, store: NamedDependency[EventStore]) -> Response[Health]:
        try:
            position = await store.position()
        except DATABASE_ERRORS:
            return Response(
                Health(status="degraded", database="unreachable", position=None),
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(
            Health(status="ok", database="ok", position=position), status_code=HTTP_200_OK
        )

    @get(
        "/live",
        operation_id="getLiveness",
        tags=["service"],
        summary="The process is running (asks nothing of the database)",
    )
    async def live(self) -> Liveness:
        return Liveness(status="ok")

    @get(
        "/ready",
        operation_id="getReadiness",
        tags=["service"],
        summary="The database answers and every view is within the allowed lag",
        description="200 when the database answers and no view is more than `max_lag` events "
        "(TIMELINE_READY_MAX_LAG) behind the log; 503 otherwise, naming the views behind.",
        responses={
            503: ResponseSpec(
                Readiness,
                description="The database does not answer, or views are too far behind",
                generate_examples=False,
            )
        },
    )
    async def ready(self, services: NamedDependency[Services]) -> Response[Readiness]:
        max_lag = services.settings.ready_max_lag
        try:
            statuses = await view_statuses(services.pool, list(VIEWS))
        except DATABASE_ERRORS:
            return Response(
                Readiness(status="not_ready", database="unreachable", max_lag=max_lag),
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        lagging = tuple(
            LaggingView(view=s.view, lag=s.lag, lag_seconds=s.lag_seconds, state=s.state)
            for s in statuses
            if s.lag > max_lag
        )
        read_database = await _read_database(services)
        ready = not lagging and read_database in ("ok", msgspec.UNSET)
        return Response(
            Readiness(
                status="ready" if ready else "not_ready",
                database="ok",
                max_lag=max_lag,
                lagging=lagging,
                read_database=read_database,
            ),
            status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
        )


async def _read_database(services: Services) -> str | msgspec.UnsetType:
    """Whether the standby this process reads its views from answers (UNSET: none)."""
    if services.read_pool is services.pool:
        return msgspec.UNSET
    try:
        await EventStore(services.read_pool).position()
    except DATABASE_ERRORS:
        return "unreachable"
    return "ok"
