"""The composition root of the web service: `create_app()` wires the pool and the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from api.health import HealthController
from store.database import Database, create_pool
from store.event_store import EventStore


def create_app(database: Database) -> Litestar:
    """The app for `database`; nothing connects until the app starts."""

    @asynccontextmanager
    async def open_pool(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(database)
        app.state.pool = pool
        app.state.store = EventStore(pool)
        try:
            yield
        finally:
            await pool.close()

    return Litestar(route_handlers=[HealthController], lifespan=[open_pool], debug=False)
