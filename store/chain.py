"""The tamper-evident chain over the event log, defined here and nowhere else.

Every event carries a chain hash, linked when it is appended (in the append's transaction):

    chain_hash(event) = SHA-256(chain_hash(previous event) || canonical_bytes(event))

The previous event is the one before it in log order (positions may skip a number, where an
append rolled back); before the first event stands GENESIS, 32 zero bytes. An event's
canonical bytes, integers big-endian and signed:

    position      8 bytes
    report id     16 bytes, the UUID's bytes
    version       8 bytes
    type          4-byte length, then the stored topic in UTF-8 (`report-filed`)
    recorded at   8 bytes: microseconds since 2000-01-01T00:00:00Z (PostgreSQL's binary
                  timestamptz)
    state         32 bytes: the SHA-256 of the stored state bytes

The state goes in by its digest, which commits to it as firmly as its bytes would: whoever
holds the state can hash it, so an appending client could one day hand the digests to the
database (PostgreSQL's own sha256() is slow where it is built without OpenSSL, as the
embedded server is) without any stored hash changing. The database's `timeline_chain_bytes`
(migrations/versions/0004_audit_chain.py) computes the same bytes; a test holds the two
together.

What the chain shows: an event changed or deleted after it was linked breaks the chain at
that event, and `verify_chain` names the position. What it cannot show on its own: a log cut
short at its head, or rewritten whole with fresh hashes by someone who may write the table.
For those, compare the head hash with one kept elsewhere (`chain_head`).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

GENESIS = bytes(32)
PAGE_SIZE = 10_000

_FIXED = struct.Struct(">q16sqi")  # position, report id, version, length of the type
_MICROSECONDS = struct.Struct(">q")
_TIME_ZERO = datetime(2000, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_sha256 = hashlib.sha256

READ_CHAIN = """
SELECT notification_id, originator_id, originator_version, topic, recorded_at, state, chain_hash
FROM timeline_events WHERE notification_id > $1 AND notification_id <= $2
ORDER BY notification_id LIMIT $3
"""
HEAD = """
SELECT notification_id, chain_hash FROM timeline_events ORDER BY notification_id DESC LIMIT 1
"""
# A row as READ_CHAIN reads it, and as a restore writes it.
ChainRow = tuple[int, UUID, int, str, datetime, bytes, bytes | None]


def canonical_bytes(
    *,
    position: int,
    report_id: UUID,
    version: int,
    topic: str,
    recorded_at: datetime,
    state: bytes,
) -> bytes:
    """The bytes of one event that its chain hash covers (see the module's docstring)."""
    return _canonical(position, report_id, version, topic, recorded_at, state)


def _canonical(  # noqa: PLR0917  (called positionally, once per event, by the walk)
    position: int, report_id: UUID, version: int, topic: str, recorded_at: datetime, state: bytes
) -> bytes:
    encoded_topic = topic.encode()
    return b"".join(
        (
            _FIXED.pack(position, report_id.bytes, version, len(encoded_topic)),
            encoded_topic,
            _MICROSECONDS.pack((recorded_at - _TIME_ZERO) // _ONE_MICROSECOND),
            _sha256(state).digest(),
        )
    )


def link(previous: bytes, canonical: bytes) -> bytes:
    """The chain hash of an event with these canonical bytes, after `previous`."""
    return _sha256(previous + canonical).digest()


class ChainHead(msgspec.Struct, frozen=True, kw_only=True):
    """The newest event's position and chain hash (hex): what to keep elsewhere, to show
    later that the log was neither cut short nor rewritten. GENESIS's for an empty log."""

    position: int
    head_hash: str | None  # None: the newest event has no chain hash (see verify)


class ChainVerification(msgspec.Struct, frozen=True, kw_only=True):
    """A log's links recomputed in order: intact through `position` (the newest event
    checked when intact; the last good one before `broken_at` when not)."""

    intact: bool
    position: int
    head_hash: str  # the chain hash at `position`, hex; GENESIS's when it is 0
    events: int  # events found linked
    broken_at: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        intact = f"intact up to position {self.position}, head hash {self.head_hash}"
        if self.intact:
            return intact
        return f"broken at position {self.broken_at}: {self.reason}; {intact}"


class ChainWalk:
    """Recomputes a log's links event by event, in log order, each from the previous
    event's stored hash, so a change shows at the event changed and nowhere after it."""

    __slots__ = ("broken_at", "events", "head", "position", "reason")

    def __init__(self) -> None:
        self.position = 0
        self.head = GENESIS
        self.events = 0
        self.broken_at: int | None = None
        self.reason: str | None = None

    def feed(self, rows: Iterable[ChainRow]) -> bool:
        """Check the next events, in log order; at the first break, record where and why and
        return False."""
        # verify's and restore's inner loop: locals only, one call and two hashes per event
        head, position_before, events = self.head, self.position, self.events
        for row in rows:
            position, report_id, version, topic, recorded_at, state, chain_hash = row
            if (
                position <= position_before
                or chain_hash is None
                or chain_hash
                != _sha256(
                    head + _canonical(position, report_id, version, topic, recorded_at, state)
                ).digest()
            ):
                self.head, self.position, self.events = head, position_before, events
                return self._diagnose(position, chain_hash)
            head, position_before = chain_hash, position
            events += 1
        self.head, self.position, self.events = head, position_before, events
        return True

    def _diagnose(self, position: int, chain_hash: bytes | None) -> bool:
        if position <= self.position:
            return self._break(position, f"it comes after position {self.position}")
        if chain_hash is None:
            return self._break(position, "it has no chain hash")
        if position > self.position + 1:
            return self._missing(position)
        return self._break(position, "its content or chain hash changed after it was linked")

    def _missing(self, position: int) -> bool:
        first, last = self.position + 1, position - 1
        missing = f"position {first}" if first == last else f"positions {first} to {last}"
        return self._break(
            first,
            f"{missing} missing: the chain hash of position {position} does not follow from "
            f"position {self.position}'s (deleted, or position {position} changed)",
        )

    def _break(self, position: int, reason: str) -> bool:
        self.broken_at, self.reason = position, reason
        return False

    def result(self) -> ChainVerification:
        return ChainVerification(
            intact=self.broken_at is None,
            position=self.position,
            head_hash=self.head.hex(),
            events=self.events,
            broken_at=self.broken_at,
            reason=self.reason,
        )


async def read_chain(
    pool: asyncpg.Pool, through: int, *, page_size: int = PAGE_SIZE
) -> AsyncIterator[list[asyncpg.Record]]:
    """The log's rows up to position `through` in pages, in log order: (position, report
    id, version, topic, recorded at, state, chain hash)."""
    after = 0
    while rows := await pool.fetch(READ_CHAIN, after, through, page_size):
        yield rows
        after = rows[-1][0]


async def chain_head(pool: asyncpg.Pool) -> ChainHead:
    """The log's current position and head hash (GET /v1/audit/head)."""
    row = await pool.fetchrow(HEAD)
    if row is None:
        return ChainHead(position=0, head_hash=GENESIS.hex())
    return ChainHead(position=row[0], head_hash=None if row[1] is None else bytes(row[1]).hex())


async def verify_chain(pool: asyncpg.Pool, *, through: int | None = None) -> ChainVerification:
    """Recompute every link up to `through` (default: the head when called) and report the
    first break (GET /v1/audit/verify)."""
    if through is None:
        through = (await chain_head(pool)).position
    walk = ChainWalk()
    async for rows in read_chain(pool, through):
        if not walk.feed(rows):
            break
    return walk.result()
