"""Back-off for every loop that reconnects to PostgreSQL (the stream's tailer, the LISTEN
connections, the projection runners' supervisor).

While the database is down, a loop that retries at a fixed pace (or, worse, at once, when a
wake-up flag stays set) floods the server and the log the moment it comes back. Each failure
in a row doubles the wait, from `first` up to `cap`, with jitter (each wait is drawn between
half and all of it) so that many processes do not retry in step; a success starts again from
`first`. The loop says so once when the connection is lost and once when it is restored, not
on every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

import asyncpg

FIRST_SECONDS = 0.1
CAP_SECONDS = 30.0


class Backoff:
    def __init__(
        self,
        what: str,
        log: logging.Logger,
        *,
        first: float = FIRST_SECONDS,
        cap: float = CAP_SECONDS,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.what = what
        self._log = log
        self._first = first
        self._cap = cap
        self._jitter = jitter
        self.failures = 0  # in a row, since the last success
        self.attempts = 0  # failed attempts in all, for tests and metrics

    @property
    def lost(self) -> bool:
        return self.failures > 0

    def delay(self) -> float:
        """How long to wait before the next attempt, after `failures` failures in a row."""
        ceiling = min(self._cap, self._first * 2.0 ** min(self.failures - 1, 32))
        return ceiling * (0.5 + self._jitter() / 2)

    def failed(self, error: BaseException) -> float:
        """Note a failed attempt; returns how long to wait before the next one."""
        if self.failures == 0:
            self._log.warning(
                "%s: lost (%s); retrying with back-off (at most every %g s)",
                self.what,
                error,
                self._cap,
            )
        self.failures += 1
        self.attempts += 1
        return self.delay()

    def succeeded(self) -> None:
        """Note a success; the next failure waits `first` again."""
        if self.failures:
            self._log.warning("%s: restored after %d failed attempts", self.what, self.failures)
        self.failures = 0

    async def wait(self, error: BaseException, stop: asyncio.Event) -> None:
        """`failed`, then wait before the next attempt, or until `stop` is set."""
        delay = self.failed(error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)


async def stopped(task: asyncio.Task[Any], seconds: float, name: str) -> None:
    """Wait for a reconnecting loop told to stop; if it has not within `seconds` (stuck
    connecting to a database that does not answer), cancel it and say so. Shutting down never
    fails because the database is away."""
    try:
        await asyncio.wait_for(task, timeout=seconds)
    except TimeoutError:  # wait_for has cancelled it
        logging.getLogger("timeline").warning(
            "%s did not stop within %s s; cancelled", name, seconds
        )


async def close_quietly(connection: asyncpg.Connection | None) -> None:
    """Close a loop's own connection, whatever state the database left it in: the loop goes
    on (or stops) either way."""
    if connection is not None:
        with contextlib.suppress(Exception):
            await connection.close()
