"""The composition root of the web service: `create_app()` wires the pool and the routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from api.health import HealthController
from projections.registry import VIEWS
from projections.workers import run_views
from store.database import Database, create_pool
from store.event_store import EventStore

PROJECTIONS_SHUTDOWN_SECONDS = 10.0


def create_app(database: Database, *, run_projections: bool = True) -> Litestar:
    """The app for `database`; nothing connects until the app starts. With
    `run_projections`, the views are kept up to date inside this process (one runner per
    view across all processes, whichever takes each view first)."""

    @asynccontextmanager
    async def open_pool(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(database)
        app.state.pool = pool
        app.state.store = EventStore(pool)
        try:
            yield
        finally:
            await pool.close()

    @asynccontextmanager
    async def keep_views(app: Litestar) -> AsyncIterator[None]:
        stop = asyncio.Event()
        workers = asyncio.create_task(
            run_views(list(VIEWS.values()), app.state.pool, database.url, stop)
        )
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(workers, timeout=PROJECTIONS_SHUTDOWN_SECONDS)

    lifespan = [open_pool, keep_views] if run_projections else [open_pool]
    return Litestar(route_handlers=[HealthController], lifespan=lifespan, debug=False)
