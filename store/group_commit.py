"""Group commit: the appends that concurrent requests wait on, committed together.

Every append of an EventStore goes through its GroupCommitter, but one of more than
APPEND_PART events with no idempotency key (an import's), which goes in parts in a
transaction of its own (store/append_parts.py). An append that arrives when no
group is in the database is sent at once, alone: nothing waits on a timer. Appends that
arrive while a group is in the database wait for it; then they go together, up to
`max_group` of them in one call of `timeline_append_group`: one lock, one transaction, one
commit for all of them. In that call each append keeps its own checks (its
idempotency key, its versions) and its own answer: a refused append is undone alone and the
others commit. Positions follow the order the appends arrived in.

Every append of a group learns its fate together: its answer once the group has committed,
its refusal, or the group's failure. A group the database refuses as a whole (an error that
is not one append's refusal) has written nothing, so each of its appends is tried again
alone, and the error reaches only the one that causes it. A group whose connection is lost
once sent may have committed: each of its appends is told so (CallLost), and none is retried.

The two functions called here exist only in migrations: `timeline_append`
(migrations/versions/0020_one_time_for_an_append_in_parts.py) and `timeline_append_group`
(migrations/versions/0019_append_lock_beside_vacuum.py). A migration that replaces either
names itself here: tests/unit/test_store_sql_pointers.py fails while a pointer names an
older definition.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from store.settings import DEFAULT_APPEND_GROUP_MAX

# One append: what every append of a group goes through, and what a group of one calls
# directly (no subtransaction, no slicing of arrays: a lone append costs what it did before
# groups).
APPEND = """
SELECT * FROM timeline_append($1::uuid[], $2::int8[], $3::text[], $4::bytea[], $5, $6, $7)
"""
APPEND_GROUP = """
SELECT * FROM timeline_append_group($1::int4[], $2::uuid[], $3::int8[], $4::text[],
    $5::bytea[], $6::text[], $7::text[], $8::bytea[])
"""

# Losing the connection once the call was sent: the socket fails, asyncpg finds the
# connection gone, or the server ends the session (terminated, or restarting after a crash)
# perhaps after the commit. A statement the server refused, or a cancel it obeyed, is an
# error of its own (a PostgresError): then the transaction certainly rolled back.
LOST_DURING_CALL = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


@dataclass(frozen=True, slots=True)
class AppendCall:
    """One append's events, encoded, and its idempotency key (None: no key)."""

    ids: list[UUID]
    versions: list[int]
    topics: list[str]
    states: list[bytes]
    scope: str | None = None
    key: str | None = None
    fingerprint: bytes | None = None


# What timeline_append refuses, for one append alone: a report already at that version, a
# version that does not follow the stored one, a key reused with other content.
REFUSALS = frozenset({"23505", "TL409", "TL422"})


class AppendAnswer(NamedTuple):
    """timeline_append's answer to one append, or NULLs and the SQLSTATE that refused it."""

    first_position: int
    recorded_at: datetime
    replayed: bool
    positions: list[int] | None  # a replay's: the first append's positions, ids and versions
    report_ids: list[UUID] | None
    versions: list[int] | None
    refused: str | None

    @classmethod
    def refusal(cls, sqlstate: str) -> AppendAnswer:
        return cls(0, datetime.min, False, None, None, None, sqlstate)


class CallLost(Exception):
    """The connection was lost once the group's call was sent: it may have committed."""


class _GroupRefused(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(slots=True)
class GroupFigures:
    """What a committer has done since it started (for tests and metrics)."""

    groups: int = 0  # calls of timeline_append_group that committed: one transaction each
    appends: int = 0  # the appends those calls answered, refused ones included
    largest: int = 0  # the most appends one group held
    waiting: int = 0  # appends waiting now for the group in the database to be done

    def record(self, size: int) -> None:
        self.groups += 1
        self.appends += size
        self.largest = max(self.largest, size)


_Waiting = tuple[AppendCall, "asyncio.Future[AppendAnswer]"]


class GroupCommitter:
    def __init__(self, pool: asyncpg.Pool, *, max_group: int = DEFAULT_APPEND_GROUP_MAX) -> None:
        if max_group < 1:
            raise ValueError(f"a group holds at least one append, not {max_group}")
        self._pool = pool
        self._max_group = max_group
        self._waiting: deque[_Waiting] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self.figures = GroupFigures()

    async def append(self, call: AppendCall) -> AppendAnswer:
        """Its answer once its group has committed, a refusal included. Raises what the pool
        raised when no connection could be had (nothing was sent), CallLost, or the
        database's error for this append alone."""
        future: asyncio.Future[AppendAnswer] = asyncio.get_running_loop().create_future()
        self._waiting.append((call, future))
        self.figures.waiting = len(self._waiting)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain(), name="timeline append groups")
        return await future

    async def _drain(self) -> None:
        """Send what is waiting, a group at a time, until nothing is; then stop (the next
        append starts another drainer)."""
        group: list[_Waiting] = []
        try:
            while self._waiting:
                group = []
                while self._waiting and len(group) < self._max_group:
                    waiting = self._waiting.popleft()
                    if not waiting[1].done():  # its caller has gone: nothing was sent for it
                        group.append(waiting)
                self.figures.waiting = len(self._waiting)
                if group:
                    await self._commit(group)
        except asyncio.CancelledError:
            for _, future in (*group, *self._waiting):
                future.cancel()
            self._waiting.clear()
            self.figures.waiting = 0
            raise
        finally:
            self._drainer = None

    async def _commit(self, group: list[_Waiting]) -> None:
        try:
            answers = await self._call([call for call, _ in group])
        except _GroupRefused as refused:
            if len(group) == 1:
                _fail(group, refused.error)
                return
            for waiting in group:  # nothing was written: find whose error it is
                await self._commit([waiting])
            return
        except BaseException as error:
            _fail(group, error)
            _reraise_unless_exception(error)
            return
        self.figures.record(len(group))
        for (_, future), answer in zip(group, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    async def _call(self, calls: list[AppendCall]) -> list[AppendAnswer]:
        # An error while acquiring goes up as it is: nothing was sent.
        async with self._pool.acquire() as connection:
            try:
                if len(calls) == 1:
                    return [await _append_alone(connection, calls[0])]
                rows = await connection.fetch(APPEND_GROUP, *_arguments(calls))
            except asyncpg.DataError as error:  # an argument asyncpg cannot encode: not sent
                raise _GroupRefused(error) from error
            except LOST_DURING_CALL as error:
                raise CallLost from error
            except asyncpg.PostgresError as error:
                raise _GroupRefused(error) from error
        return [AppendAnswer(*row) for row in rows]


async def _append_alone(connection: asyncpg.Connection, call: AppendCall) -> AppendAnswer:
    """One call of timeline_append: one statement, so a transaction of its own, which commits
    when the server has run it, before the answer comes back."""
    try:
        row = await connection.fetchrow(
            APPEND,
            call.ids,
            call.versions,
            call.topics,
            call.states,
            call.scope,
            call.key,
            call.fingerprint,
        )
    except asyncpg.PostgresError as error:
        if error.sqlstate in REFUSALS:
            return AppendAnswer.refusal(error.sqlstate)
        raise
    return AppendAnswer(row[0], row[1], row[2], row[3], row[4], row[5], None)


def _reraise_unless_exception(error: BaseException) -> None:
    if not isinstance(error, Exception):  # CancelledError, KeyboardInterrupt, SystemExit
        raise error


def _fail(group: list[_Waiting], error: BaseException) -> None:
    for _, future in group:
        if future.done():
            continue
        if isinstance(error, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(error)


def _arguments(calls: list[AppendCall]) -> tuple[object, ...]:
    sizes, ids, versions, topics, states = [], [], [], [], []
    scopes, keys, fingerprints = [], [], []
    for call in calls:
        sizes.append(len(call.ids))
        ids.extend(call.ids)
        versions.extend(call.versions)
        topics.extend(call.topics)
        states.extend(call.states)
        scopes.append(call.scope)
        keys.append(call.key)
        fingerprints.append(call.fingerprint)
    return (sizes, ids, versions, topics, states, scopes, keys, fingerprints)
