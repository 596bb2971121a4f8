"""What the steps of bench/scale.py share at one log size: the log's shape, a reader's key,
the run's deadline and the figures, and a synchronous way into the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from bench._figures import Figures

LEAST_CAP = 10.0
TEARDOWN = 30.0  # stopping both processes, dropping the database
_T = TypeVar("_T")


def label(size: int) -> str:
    """1m, 100k, 2k: how a size is named in the figures."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


class Sql:
    """One connection, and an event loop to run the service's own coroutines on."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop = asyncio.new_event_loop()
        self._connection = self.run(asyncpg.connect(url))

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return self._loop.run_until_complete(coroutine)

    def value(self, query: str, *args: object) -> Any:
        return self.run(self._connection.fetchval(query, *args))

    def close(self) -> None:
        self.run(self._connection.close())
        self._loop.close()


@dataclass(frozen=True, slots=True)
class LogShape:
    head: int
    first_recorded: datetime
    last_recorded: datetime


@dataclass(frozen=True, slots=True)
class SizeRun:
    """What the steps at one size share."""

    size: int
    url: str
    sql: Sql
    secret: str  # a reader's API key
    shape: LogShape
    folder: Path  # the processes' logs
    end: float  # the whole run's deadline, on time.monotonic()
    figures: Figures

    @property
    def name(self) -> str:
        return label(self.size)

    def left(self) -> float:
        return self.end - time.monotonic()

    def cap(self, most: float, *, keep: float) -> float:
        """Seconds for a step: `most`, or less so that `keep` is left for the steps after it;
        never under LEAST_CAP, so that every step is tried."""
        return max(LEAST_CAP, min(most, self.left() - keep))
