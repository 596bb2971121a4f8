"""GET /health: is the database answering, and how far has the log come."""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from store.event_store import EventStore


class Health(msgspec.Struct, frozen=True):
    status: str
    database: str
    position: int | None


class HealthController(Controller):
    path = "/health"

    @get(operation_id="getHealth", summary="Service and database health")
    async def health(self, state: State) -> Response[Health]:
        store: EventStore = state.store
        try:
            position = await store.position()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return Response(
                Health(status="degraded", database="unreachable", position=None),
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(
            Health(status="ok", database="ok", position=position), status_code=HTTP_200_OK
        )
