"""The counters behind the limits (api/limits.py): token buckets per key or address, slots
for open streams, turns for questions about the past, and the growing waits after wrong keys.
Each is pure bookkeeping, told the time by its caller's clock."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass

# Entries kept per table before the idle ones are forgotten (a table of addresses must not
# grow with every address that ever called).
MAX_ENTRIES = 100_000
FORGET_FAILURES_SECONDS = 900.0
PAST_WAIT_SECONDS = 30.0  # the longest a question about the past waits for its turn

Partition = tuple[str, Hashable]  # ("key", key id) or ("address", client address)


@dataclass(frozen=True, slots=True)
class Quota:
    """Where a partition stands after a request: what is left now, when all of it is back,
    and, when the request was refused, when to try again."""

    remaining: int
    full_in: int  # seconds
    retry_after: int | None = None


class TokenBuckets:
    """A token bucket per partition: `burst` tokens, refilled at `rate` a second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self._clock = clock
        self._buckets: dict[Partition, tuple[float, float]] = {}  # tokens, when

    @property
    def window(self) -> int:
        """Seconds an empty bucket takes to fill: the policy's `w`."""
        return max(1, math.ceil(self.burst / self.rate))

    def take(self, partition: Partition, cost: int = 1) -> Quota:
        """Take `cost` tokens (at most a burst's worth) if there are as many."""
        cost = min(cost, self.burst)
        now = self._clock()
        tokens, then = self._buckets.get(partition, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens < cost:
            self._buckets[partition] = (tokens, now)
            wait = max(1, math.ceil((cost - tokens) / self.rate))
            return Quota(remaining=int(tokens), full_in=wait, retry_after=wait)
        tokens -= cost
        if partition not in self._buckets and len(self._buckets) >= MAX_ENTRIES:
            self._forget_full(now)
        self._buckets[partition] = (tokens, now)
        return Quota(remaining=int(tokens), full_in=math.ceil((self.burst - tokens) / self.rate))

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have filled up again (forgetting them changes nothing);
        if every one is still in use, start afresh rather than grow."""
        full = [
            partition
            for partition, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.burst
        ]
        for partition in full:
            del self._buckets[partition]
        if len(self._buckets) >= MAX_ENTRIES:
            self._buckets.clear()


class OverLimit(Exception):
    """A slot was refused: `in_all` when the whole process is full, else the partition."""

    def __init__(self, *, in_all: bool) -> None:
        super().__init__("in all" if in_all else "per partition")
        self.in_all = in_all


class Slots:
    """Things held open (streams), counted per partition and in all."""

    def __init__(self, per_partition: int, total: int) -> None:
        self.per_partition = per_partition
        self.total = total
        self._held: dict[Partition, int] = {}
        self._in_all = 0

    @property
    def in_all(self) -> int:
        """How many are held open now."""
        return self._in_all

    @asynccontextmanager
    async def held(self, partition: Partition) -> AsyncIterator[None]:
        if self.per_partition and self._held.get(partition, 0) >= self.per_partition:
            raise OverLimit(in_all=False)
        if self.total and self._in_all >= self.total:
            raise OverLimit(in_all=True)
        self._held[partition] = self._held.get(partition, 0) + 1
        self._in_all += 1
        try:
            yield
        finally:
            self._in_all -= 1
            left = self._held[partition] - 1
            if left:
                self._held[partition] = left
            else:
                del self._held[partition]


class Turns:
    """At most `running` at once and `waiting` more in line; the rest are refused."""

    def __init__(self, running: int, waiting: int) -> None:
        self.running = running
        self.waiting = waiting
        self._admitted = 0
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def admitted(self) -> int:
        """How many are running or waiting."""
        return self._admitted

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.running <= 0:
            yield
            return
        if self._admitted >= self.running + self.waiting:
            raise OverLimit(in_all=True)
        if self._semaphore is None:  # made in the loop that uses it
            self._semaphore = asyncio.Semaphore(self.running)
        self._admitted += 1
        try:
            try:
                async with asyncio.timeout(PAST_WAIT_SECONDS):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise OverLimit(in_all=True) from None
            try:
                yield
            finally:
                self._semaphore.release()
        finally:
            self._admitted -= 1


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    blocked_until: float


class FailedKeys:
    """Wrong keys per client address, and how long each address must wait."""

    def __init__(self, allowed: int, max_wait: float, clock: Callable[[], float]) -> None:
        self.allowed = allowed
        self.max_wait = max_wait
        self._clock = clock
        self._by_address: dict[str, _Failures] = {}

    def wait(self, address: str) -> float:
        """Seconds before `address` may present an unknown key again (0: now)."""
        failures = self._by_address.get(address)
        return 0.0 if failures is None else max(0.0, failures.blocked_until - self._clock())

    def failed(self, address: str) -> None:
        now = self._clock()
        failures = self._by_address.get(address)
        if failures is None or now - failures.last > FORGET_FAILURES_SECONDS:
            if len(self._by_address) >= MAX_ENTRIES:
                self._forget_idle(now)
            failures = self._by_address[address] = _Failures(0, now, now)
        failures.count += 1
        failures.last = now
        beyond = failures.count - self.allowed
        if self.allowed > 0 and beyond > 0:
            failures.blocked_until = now + min(self.max_wait, 2.0 ** min(beyond - 1, 32))

    def succeeded(self, address: str) -> None:
        self._by_address.pop(address, None)

    def _forget_idle(self, now: float) -> None:
        idle = [
            address
            for address, failures in self._by_address.items()
            if now - failures.last > FORGET_FAILURES_SECONDS and failures.blocked_until <= now
        ]
        for address in idle:
            del self._by_address[address]
        if len(self._by_address) >= MAX_ENTRIES:
            self._by_address.clear()
