"""An append in parts: one large append with no idempotency key (an import's), sent as calls
of `timeline_append` of up to APPEND_PART events each, one after another in one transaction
on a connection of its own, outside the groups (store/group_commit.py: a group would wait on
it whole anyway). So all of it is written or none.

Each part is one call of `timeline_append`
(migrations/versions/0020_one_time_for_an_append_in_parts.py), and every part is recorded
at the first part's time (its `p_recorded_at`); its positions follow the part before's (the
appenders' lock the first call takes is held to the commit): one append, one answer, as if
made in one call, so that no question about a past moment sees a part of it without the
rest.

Parts may be handed in as their events come (an importer sends them while it still checks
the rows after them): each is encoded in a thread while the part before is being stored, so
the server never waits for the encoding.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import NamedTuple
from uuid import UUID

import asyncpg

from store.group_commit import LOST_DURING_CALL, REFUSALS, AppendAnswer, CallLost
from store.transactions import committed_if

# A part, recorded at the time given ($5; NULL: now).
APPEND_AT = """
SELECT * FROM timeline_append($1::uuid[], $2::int8[], $3::text[], $4::bytea[], NULL, NULL, NULL,
    $5::timestamptz)
"""
# An append of more events than this, with no idempotency key (an import's), goes in calls of
# this many. One call of timeline_append with 100,000 events stored 22,700 a second, half the
# rate of the same events in calls of 1,000 or 5,000 (47,500 a second in one transaction):
# its arrays of hundreds of megabytes are walked and copied whole.
APPEND_PART = 5_000


class Encoded(NamedTuple):
    """Some events of an append, encoded: their stored topics and states."""

    topics: list[str]
    states: list[bytes]


class Refused(Exception):
    """The database refused a part (a stale version, a report filed before): nothing of the
    append is written."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class PartsAppend:
    """The parts of one append, handed in order (`send`); `finish` waits for the last."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self._storing: asyncio.Future[asyncpg.Record | None] | None = None
        self._first: AppendAnswer | None = None
        self._count = 0  # events sent so far
        self._sent_from = 0  # where the part under way starts among them
        self.abandoned = False

    async def send(
        self, ids: list[UUID], versions: list[int], encode: Callable[[], Encoded]
    ) -> None:
        """Encode a part (`encode()`, in a thread, while the part before is being stored),
        then send it once the part before is stored. Raises Refused, or what the database
        raised, when a part before was refused."""
        if self.abandoned:
            raise RuntimeError("a part sent once the append was abandoned")
        encoded = await asyncio.to_thread(encode)
        await self._stored()
        self._storing = asyncio.ensure_future(
            self._connection.fetchrow(
                APPEND_AT,
                ids,
                versions,
                encoded.topics,
                encoded.states,
                None if self._first is None else self._first.recorded_at,
            )
        )
        self._sent_from, self._count = self._count, self._count + len(ids)

    def abandon(self) -> None:
        """Write none of it: the transaction is rolled back when the block ends (and no
        part is sent after this)."""
        self.abandoned = True

    async def finish(self) -> AppendAnswer:
        """The append's answer, once its last part is stored: the first part's position and
        time."""
        await self._stored()
        if self._first is None:
            raise ValueError("nothing to append")
        return self._first

    async def settle(self) -> None:
        """Once the part under way has been answered, whatever the answer (before the
        transaction is rolled back)."""
        if self._storing is not None:
            storing, self._storing = self._storing, None
            await asyncio.gather(storing, return_exceptions=True)

    async def _stored(self) -> None:
        if self._storing is None:
            return
        storing, self._storing = self._storing, None
        try:
            row = await storing
        except asyncpg.PostgresError as error:
            if error.sqlstate in REFUSALS:
                raise Refused(error.sqlstate) from error
            raise
        assert row is not None
        answer = AppendAnswer(row[0], row[1], row[2], None, None, None, None)
        if self._first is None:
            self._first = answer
        elif (answer.first_position, answer.recorded_at) != (
            self._first.first_position + self._sent_from,
            self._first.recorded_at,
        ):  # never, under the lock; if ever, nothing of it is committed
            raise RuntimeError(f"the part from event {self._sent_from} did not follow on")


@asynccontextmanager
async def appending_in_parts(pool: asyncpg.Pool) -> AsyncIterator[PartsAppend]:
    """An append in parts, committed when the block ends (once its last part is stored),
    unless the block raised or called `PartsAppend.abandon`: then rolled back, and nothing
    of it is written. A connection lost once a part was sent raises CallLost, as a group's
    does (the commit may or may not have happened)."""
    async with pool.acquire() as connection:
        parts = PartsAppend(connection)
        try:
            async with committed_if(connection, lambda: not parts.abandoned, parts.settle):
                yield parts
                if not parts.abandoned:
                    await parts.finish()
        except asyncpg.DataError:  # an InterfaceError asyncpg raises before sending: not lost
            raise
        except LOST_DURING_CALL as error:
            raise CallLost from error
