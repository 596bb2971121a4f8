"""Hearing that an API key was created or revoked (NOTIFY on `store.api_keys.KEYS_CHANNEL`)
on a connection of its own, for as long as the process runs.

Without it, a revoked key still works for up to a minute in this process (api/auth.py). The
connection is opened again, with back-off, whenever it is lost; the cache is emptied each
time it is (re)opened, since a change may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from api.auth import KeyCache
from store.api_keys import KEYS_CHANNEL
from store.backoff import Backoff, close_quietly

log = logging.getLogger("timeline.api.keys")


async def follow_key_changes(
    database_url: str, cache: KeyCache, stop: asyncio.Event, backoff: Backoff | None = None
) -> None:
    """Empty `cache` on every key change until `stop` is set."""
    backoff = backoff or Backoff("api keys: listening for changes", log)
    while not stop.is_set():
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(database_url)
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _, lost=lost: lost.set())
            await connection.add_listener(KEYS_CHANNEL, cache.clear)
            cache.clear()
            backoff.succeeded()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
            try:
                await asyncio.wait(waiters, return_when="FIRST_COMPLETED")
            finally:
                for waiter in waiters:
                    waiter.cancel()
        except Exception as error:  # whatever the database or the driver raised
            await backoff.wait(error, stop)
        finally:
            await close_quietly(connection)
