"""The event store on asyncpg: append with optimistic concurrency and idempotency keys,
read one report's events, read the global log in pages (up to a position, for replays).

Where its SQL lives. The reads are the statements below, on `timeline_events` (the
eventsourcing library's table with our recorded-at column: migrations/versions/0001_event_store.py,
its chain hash from 0004_audit_chain.py). Every append goes through store/group_commit.py to
one of two PL/pgSQL functions that exist only in migrations: `timeline_append`
(migrations/versions/0020_one_time_for_an_append_in_parts.py; first 0008_idempotency_scope.py,
run with its owner's rights since 0009_least_privilege.py, its lock from
0019_append_lock_beside_vacuum.py), which checks versions and the idempotency key, takes the
appenders' lock (ROW EXCLUSIVE on the table, then an advisory lock held to the commit: one
appender at a time, and autovacuum never in the way), links the chain, inserts and NOTIFYs,
all at one recorded time (the clock's, or the one a large append's first part was given);
and `timeline_append_group`
(migrations/versions/0019_append_lock_beside_vacuum.py; first 0017_group_append.py), which
runs it for many appends in one transaction. A migration that replaces either function
names itself here:
tests/unit/test_store_sql_pointers.py fails while a pointer names an older definition.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from domain.errors import Invalid, Unavailable, VersionConflict
from domain.events import DomainEvent
from domain.recorded import LogEntry, RecordedEvent, UnreadableEvent
from store.append_parts import APPEND_PART, Encoded, PartsAppend, Refused, appending_in_parts
from store.group_commit import AppendAnswer, AppendCall, CallLost, GroupCommitter, GroupFigures
from store.import_rows import ImportRows
from store.mapper import decode_event, encode_event
from store.settings import append_group_max

# Positions and versions are PostgreSQL bigints: a larger one cannot even be asked about.
MAX_POSITION = 2**63 - 1

READ_REPORT = """
SELECT notification_id, recorded_at, topic, state FROM timeline_events
WHERE originator_id = $1 ORDER BY originator_version
"""
# The position of the last event in the log; 0 for an empty log.
HEAD = "SELECT coalesce(max(notification_id), 0) FROM timeline_events"
READ_LOG = """
SELECT notification_id, recorded_at, topic, state FROM timeline_events
WHERE notification_id > $1 ORDER BY notification_id LIMIT $2
"""
READ_LOG_THROUGH = """
SELECT notification_id, recorded_at, topic, state FROM timeline_events
WHERE notification_id > $1 AND notification_id <= $2 ORDER BY notification_id LIMIT $3
"""
# recorded_at never goes backwards along the log (timeline_append), so the newest event
# recorded by then is the last in (recorded_at, notification_id) order, one step of that
# index (migration 0011) whatever the time, and the log up to it is exactly what had been
# recorded by then.
POSITION_AT = """
SELECT notification_id FROM timeline_events WHERE recorded_at <= $1
ORDER BY recorded_at DESC, notification_id DESC LIMIT 1
"""
REPLAY = """
SELECT k.fingerprint, e.notification_id, e.originator_id, e.originator_version, e.recorded_at
FROM timeline_idempotency_keys k
JOIN timeline_events e ON e.notification_id BETWEEN k.first_position AND k.last_position
WHERE k.key = $2 AND k.scope IN ($1, '*') ORDER BY e.notification_id
"""
# The primary key's index, walked over one range of report ids: an importer's reports share
# the first bytes of their ids (application/imports/identity.py).
READ_ID_RANGE = """
SELECT notification_id, recorded_at, topic, state FROM timeline_events
WHERE originator_id BETWEEN $1 AND $2 ORDER BY originator_id, originator_version
"""
READ_REPORTS = """
SELECT notification_id, recorded_at, topic, state FROM timeline_events
WHERE originator_id = ANY($1::uuid[]) ORDER BY originator_id, originator_version
"""
CURRENT_VERSIONS = """
SELECT originator_id, max(originator_version) AS version FROM timeline_events
WHERE originator_id = ANY($1::uuid[]) GROUP BY originator_id
"""


# timeline_append's refusal of a key used before with other content (since migration 0004).
TL422 = "TL422"


class MalformedAppend(Invalid, ValueError):
    """The events handed to one append do not tell a report's story in order."""


def _encoded(events: Sequence[DomainEvent]) -> Encoded:
    topics, states = [], []
    for event in events:
        topic, state = encode_event(event)
        topics.append(topic)
        states.append(state)
    return Encoded(topics, states)


def _first_versions(events: Sequence[DomainEvent]) -> dict[UUID, int]:
    """Each report's first version in an append."""
    first: dict[UUID, int] = {}
    for event in events:
        first.setdefault(event.originator_id, event.originator_version)
    return first


def _fresh(answer: AppendAnswer, ids: list[UUID], versions: list[int]) -> AppendResult:
    """A fresh append's result: its events got the contiguous positions first, first + 1,
    ... in the order given, all at one recorded time."""
    first = answer.first_position
    stored = zip(range(first, first + len(ids)), ids, versions, strict=True)
    return AppendResult(
        events=tuple(
            Appended(position, report_id, version, answer.recorded_at)
            for position, report_id, version in stored
        ),
        replayed=False,
    )


class Appending:
    """The parts of one large append (EventStore.appending), each checked as one append's
    events are (a report's versions go up one by one, across parts too)."""

    def __init__(self, parts: PartsAppend) -> None:
        self._parts = parts
        self._ids: list[UUID] = []
        self._versions: list[int] = []
        self._last_version: dict[UUID, int] = {}
        self.first_versions: dict[UUID, int] = {}  # each report's first, for a refusal
        self.answer: AppendAnswer | None = None

    async def add(self, events: Sequence[DomainEvent]) -> None:
        """Send `events` as the append's next part; raises VersionConflict when a part
        before was refused (then nothing is written)."""
        ids, versions = [], []
        for event in events:
            report_id, version = event.originator_id, event.originator_version
            previous = self._last_version.get(report_id)
            _check_follows(event, previous)
            if previous is None:
                self.first_versions[report_id] = version
            self._last_version[report_id] = version
            ids.append(report_id)
            versions.append(version)
        self._ids += ids
        self._versions += versions
        await self._parts.send(ids, versions, functools.partial(_encoded, events))

    def abandon(self) -> None:
        """Write none of the append (its transaction is rolled back when the block ends)."""
        self._parts.abandon()

    @property
    def result(self) -> AppendResult:
        """The append's result, once committed."""
        if self.answer is None:
            raise RuntimeError("the append was not committed")
        return _fresh(self.answer, self._ids, self._versions)


def _check_follows(event: DomainEvent, previous: int | None) -> None:
    """Within one append, a report's versions start at 1 or more and go up one by one; how
    the first one follows what is stored is the database's check, under the lock."""
    version = event.originator_version
    if version > MAX_POSITION:
        raise MalformedAppend(f"report {event.originator_id}: version {version} is too large")
    if previous is None and version < 1:
        raise MalformedAppend(f"report {event.originator_id}: versions start at 1, got {version}")
    if previous is not None and version != previous + 1:
        raise MalformedAppend(
            f"report {event.originator_id}: version {version} cannot follow {previous} "
            "in the same append"
        )


class IdempotencyKeyReused(Invalid):
    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used with different content")
        self.key = key


# The scope of keys sent from this machine (the CLI, the demo, importers); an API key's
# scope is its id (api/writes.py), so no HTTP caller shares it.
LOCAL_SCOPE = "local"


class WriteOutcomeUnknown(Unavailable):
    """The connection went down while an append was under way: the events may have been
    recorded (the commit can land after the connection is gone) or not."""

    def __init__(self, *, keyed: bool) -> None:
        retry = (
            "retry with the same Idempotency-Key: if the write was recorded, the retry gets "
            "its answer (Idempotent-Replayed: true) and records nothing more"
            if keyed
            else "this write had no Idempotency-Key, so a retry may record it twice: check "
            "whether it was recorded first, and send an Idempotency-Key with every write"
        )
        super().__init__(
            "the connection to the database was lost during the write, which may or may not "
            f"have been recorded; {retry}"
        )
        self.keyed = keyed


@dataclass(frozen=True, slots=True)
class Idempotency:
    """A caller's retry key and a fingerprint of what the caller asked for. A key means
    something only to the caller that sent it: it is looked up within its `scope`."""

    key: str
    fingerprint: bytes
    scope: str = LOCAL_SCOPE


@dataclass(frozen=True, slots=True)
class Appended:
    position: int
    report_id: UUID
    version: int
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class AppendResult:
    events: tuple[Appended, ...]
    replayed: bool  # True when an idempotent retry returned the first answer

    @property
    def last_position(self) -> int:
        return self.events[-1].position


def recorded_from_row(row: asyncpg.Record) -> RecordedEvent:
    """A (notification_id, recorded_at, topic, state) row, decoded."""
    return RecordedEvent(row[0], row[1], decode_event(row[2], row[3]))


def entry_from_row(row: asyncpg.Record) -> LogEntry:
    """`recorded_from_row`, or an UnreadableEvent when the row cannot be decoded, whatever
    the reason (an unknown topic, a state that is not the event's shape, a failed upcast)."""
    try:
        return RecordedEvent(row[0], row[1], decode_event(row[2], row[3]))
    except Exception as error:  # whatever fails to decode it is the event's own doing
        return UnreadableEvent(row[0], row[1], row[2], f"{type(error).__name__}: {error}")


class EventStore:
    def __init__(self, pool: asyncpg.Pool, *, max_append_group: int | None = None) -> None:
        """`max_append_group`: the most appends one transaction holds (store/group_commit.py);
        by default TIMELINE_APPEND_GROUP_MAX, else 64."""
        self._pool = pool
        self._groups = GroupCommitter(
            pool,
            max_group=append_group_max() if max_append_group is None else max_append_group,
        )
        self.import_rows = ImportRows(pool)  # the importer's cache beside the log

    async def append(
        self, events: Sequence[DomainEvent], *, idempotency: Idempotency | None = None
    ) -> AppendResult:
        """Append all events in one transaction, or none of them. Appends made at the same
        time share that transaction (store/group_commit.py), each with its own checks and
        answer: another append's refusal is not this one's. An append of more than
        APPEND_PART events with no idempotency key goes in parts, in one transaction of its
        own (store/append_parts.py)."""
        if not events:
            raise ValueError("nothing to append")
        if idempotency is None and len(events) > APPEND_PART:
            async with self.appending() as appending:
                for start in range(0, len(events), APPEND_PART):
                    await appending.add(events[start : start + APPEND_PART])
            return appending.result
        ids, versions = [], []
        last_version: dict[UUID, int] = {}
        for event in events:
            _check_follows(event, last_version.get(event.originator_id))
            last_version[event.originator_id] = event.originator_version
            ids.append(event.originator_id)
            versions.append(event.originator_version)
        topics, states = _encoded(events)
        call = (
            AppendCall(ids, versions, topics, states)
            if idempotency is None
            else AppendCall(
                ids,
                versions,
                topics,
                states,
                scope=idempotency.scope,
                key=idempotency.key,
                fingerprint=idempotency.fingerprint,
            )
        )
        try:
            answer = await self._groups.append(call)
        except CallLost as lost:
            raise WriteOutcomeUnknown(keyed=idempotency is not None) from lost.__cause__
        if answer.refused == TL422 and idempotency is not None:
            raise IdempotencyKeyReused(idempotency.key)
        if answer.refused is not None:  # a stale or skipping version, or a report filed before
            raise await self._conflict(_first_versions(events))
        # A fresh append's events got the contiguous positions first, first + 1, ... in the
        # order given; a replay carries the first append's positions, report ids and
        # versions (a retry may bring fresh ids).
        if answer.replayed and answer.positions and answer.report_ids and answer.versions:
            stored = zip(answer.positions, answer.report_ids, answer.versions, strict=True)
            return AppendResult(
                events=tuple(
                    Appended(position, report_id, version, answer.recorded_at)
                    for position, report_id, version in stored
                ),
                replayed=True,
            )
        return _fresh(answer, ids, versions)

    @asynccontextmanager
    async def appending(self) -> AsyncIterator[Appending]:
        """One large append with no idempotency key whose events are handed in parts as
        they come (`Appending.add`), stored in one transaction as they come
        (store/append_parts.py): committed when the block ends, when its answer is
        `Appending.result`; unless the block raised or called `Appending.abandon`, and then
        nothing of it is written. A refusal raises VersionConflict."""
        appending: Appending | None = None
        try:
            async with appending_in_parts(self._pool) as parts:
                appending = Appending(parts)
                yield appending
                if not parts.abandoned:
                    appending.answer = await parts.finish()
        except Refused:
            assert appending is not None
            raise await self._conflict(appending.first_versions) from None
        except CallLost as lost:
            raise WriteOutcomeUnknown(keyed=False) from lost.__cause__

    @property
    def append_groups(self) -> GroupFigures:
        """How many transactions this store's appends took, and how many appends they held."""
        return self._groups.figures

    async def replay(self, idempotency: Idempotency) -> AppendResult | None:
        """The first answer given for this key, None if the key is new; raises if the key
        was used for other content. Appends check keys themselves: this is for callers that
        must answer a retry before they can even build the events."""
        rows = await self._pool.fetch(REPLAY, idempotency.scope, idempotency.key)
        if not rows:
            return None
        if bytes(rows[0][0]) != idempotency.fingerprint:
            raise IdempotencyKeyReused(idempotency.key)
        return AppendResult(
            events=tuple(Appended(row[1], row[2], row[3], row[4]) for row in rows), replayed=True
        )

    async def _conflict(self, first_versions: dict[UUID, int]) -> VersionConflict:
        """Why an append was refused: the first of its reports whose first version in it
        (`first_versions`) does not follow the stored one."""
        rows = await self._pool.fetch(CURRENT_VERSIONS, list(first_versions))
        current = {row["originator_id"]: row["version"] for row in rows}
        for report_id, first in first_versions.items():
            actual = current.get(report_id, 0)
            if actual != first - 1:
                return VersionConflict(report_id, expected=first - 1, actual=actual)
        report_id, first = next(iter(first_versions.items()))
        return VersionConflict(report_id, expected=first - 1, actual=current.get(report_id, 0))

    async def read_report(self, report_id: UUID) -> list[RecordedEvent]:
        rows = await self._pool.fetch(READ_REPORT, report_id)
        return [recorded_from_row(row) for row in rows]

    async def read_id_range(self, first: UUID, last: UUID) -> list[RecordedEvent]:
        """The events of every report whose id lies between `first` and `last` (both
        included), report by report, each report's in version order."""
        rows = await self._pool.fetch(READ_ID_RANGE, first, last)
        return [recorded_from_row(row) for row in rows]

    async def read_reports(self, report_ids: Sequence[UUID]) -> list[RecordedEvent]:
        """The events of the reports `report_ids`, report by report, each report's in
        version order."""
        rows = await self._pool.fetch(READ_REPORTS, list(report_ids))
        return [recorded_from_row(row) for row in rows]

    async def read_log(self, after: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with positions after `after`, in log order, at most `limit` of them."""
        rows = await self._pool.fetch(READ_LOG, after, limit)
        return [recorded_from_row(row) for row in rows]

    async def read_entries(self, after: int = 0, limit: int = 1000) -> list[LogEntry]:
        """`read_log`, with an UnreadableEvent in place of each event that cannot be decoded."""
        rows = await self._pool.fetch(READ_LOG, after, limit)
        return [entry_from_row(row) for row in rows]

    async def read_entries_through(
        self, through: int, after: int = 0, limit: int = 1000
    ) -> list[LogEntry]:
        """`read_log_through`, with an UnreadableEvent in place of each event that cannot be
        decoded."""
        rows = await self._pool.fetch(READ_LOG_THROUGH, after, through, limit)
        return [entry_from_row(row) for row in rows]

    async def read_log_through(
        self, through: int, after: int = 0, limit: int = 1000
    ) -> list[RecordedEvent]:
        """Events with positions after `after` and at most `through`, in log order, at most
        `limit` of them."""
        rows = await self._pool.fetch(READ_LOG_THROUGH, after, through, limit)
        return [recorded_from_row(row) for row in rows]

    async def position(self) -> int:
        return int(await self._pool.fetchval(HEAD))

    async def position_at(self, moment: datetime) -> int:
        """The position of the last event recorded at or before `moment`; 0 if none was."""
        value = await self._pool.fetchval(POSITION_AT, moment)
        return int(value or 0)

    async def clock(self) -> datetime:
        """The database's clock, the one that stamps `recorded_at`."""
        now: datetime = await self._pool.fetchval("SELECT clock_timestamp()")
        return now
