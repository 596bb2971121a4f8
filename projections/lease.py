"""A view's lock as a lease: held only while its runner shows it is alive.

A runner holds its view by a session advisory lock on a connection of its own
(projections/runner.py). When its process dies, or its host goes, PostgreSQL ends the
session and the lock goes with it. A process that is frozen (SIGSTOP, a debugger, a VM
paused) dies of neither: its kernel still answers TCP keepalives, and it would keep its
views, and no other worker could take them, for as long as it stays frozen.

So the lock's session is ended by PostgreSQL itself when it stays idle for LEASE_SECONDS
(`idle_session_timeout`), and a live runner keeps it busy with a trivial statement every
RENEW_SECONDS. Frozen, it renews nothing: the session ends, the lock with it, and a waiting
runner takes the view. Thawed, the runner finds its connection gone (`lost`) and starts
again as a standby; whatever batch it was writing fails, since a batch moves the view's
position only from where it found it (projections/persistence.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

log = logging.getLogger("timeline.projections")

# How long a runner may show no sign of life before its views go to another: well above the
# longest the event loop is held at once (a page of a fold, a collection), well below what an
# operator would wait for a frozen worker's views.
LEASE_SECONDS = 15
RENEW_SECONDS = 3
# The settings of the connection that holds the lock: PostgreSQL ends it once idle so long.
LEASE_SETTINGS = {"idle_session_timeout": str(LEASE_SECONDS * 1000)}


class Lease:
    """Renews the lock's session every RENEW_SECONDS while `kept`; every other use of the
    connection takes `busy` first (an asyncpg connection runs one statement at a time)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.busy = asyncio.Lock()
        self.lost = False

    @contextlib.asynccontextmanager
    async def kept(self) -> AsyncIterator[Lease]:
        renewing = asyncio.create_task(self._renew())
        try:
            yield self
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                async with self.busy:
                    await self.connection.execute("SELECT 1")
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                # Ended by PostgreSQL (the lease ran out while the process stood still) or
                # lost: the runner sees `lost` and starts again.
                log.warning("the session holding a view's lock was lost: %s", error)
                self.lost = True
                return
