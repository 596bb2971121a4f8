"""The canonical log as newline-delimited JSON, and back into an empty store.

One event per line, in log order:

    {"position":4,"recorded_at":"2026-11-28T04:19:46.362428Z","report_id":"acef43f9-...",
     "version":1,"type":"report-filed","state":{...the stored state...},"chain_hash":"9f2c..."}

`state` is the stored bytes themselves, byte for byte (stored states are one-line JSON
objects; export refuses any other), so a restore writes back exactly what was exported and
every chain hash still follows. A restore recomputes the chain as it reads (store/chain.py)
and writes inside one transaction, into an empty store only: a file that does not verify, or
a store that already holds events, is refused with nothing written. Idempotency keys are not
part of the log and are not exported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, BinaryIO
from uuid import UUID

import asyncpg
import msgspec

from domain.errors import Conflict, Invalid
from store.chain import ChainRow, ChainVerification, ChainWalk, chain_head, read_chain

Progress = Callable[[int, int], None]  # told (position reached, position to reach) per page


class ExportedEvent(msgspec.Struct, frozen=True):
    position: int
    recorded_at: Annotated[datetime, msgspec.Meta(tz=True)]
    report_id: UUID
    version: int
    type: str
    state: msgspec.Raw
    chain_hash: str | None  # hex


class ExportRefused(Conflict):
    """The log holds what an export cannot write as it must."""


class RestoreRefused(Invalid):
    """The file is not an export to restore, or the store is not empty to restore it into."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    events: int
    through: int  # the position exported up to


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ExportedEvent)

# In the order of a ChainRow.
RESTORED_COLUMNS = (
    "notification_id",
    "originator_id",
    "originator_version",
    "topic",
    "recorded_at",
    "state",
    "chain_hash",
)


def _exported(row: asyncpg.Record) -> ExportedEvent:
    position, report_id, version, topic, recorded_at, state, chain_hash = row
    if not (state.startswith(b"{") and state.endswith(b"}")) or b"\n" in state:
        raise ExportRefused(f"the state at position {position} is not a one-line JSON object")
    return ExportedEvent(
        position,
        recorded_at,
        report_id,
        version,
        topic,
        msgspec.Raw(state),
        None if chain_hash is None else chain_hash.hex(),
    )


async def export_log(
    pool: asyncpg.Pool,
    out: BinaryIO,
    *,
    through: int | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the log up to position `through` (default: the head when called) to `out`."""
    head = (await chain_head(pool)).position
    through = head if through is None else min(through, head)
    events = 0
    async for rows in read_chain(pool, through):
        out.write(_encoder.encode_lines([_exported(row) for row in rows]))
        events += len(rows)
        if progress is not None:
            progress(rows[-1][0], through)
    return ExportSummary(events=events, through=through)


async def restore_log(pool: asyncpg.Pool, chunks: Iterable[bytes]) -> ChainVerification:
    """Write an exported log, read as `chunks` of bytes, into an empty store; the chain as
    restored. RestoreRefused, with nothing written, for a store that holds events or a file
    that is not an export or whose chain does not verify."""
    walk = ChainWalk()

    def records() -> Iterator[ChainRow]:
        for events in _decoded(chunks):
            rows = [_row(event) for event in events]
            if not walk.feed(rows):
                raise RestoreRefused(
                    f"the file's chain does not verify: {walk.result().describe()}"
                )
            yield from rows

    async with pool.acquire() as connection, connection.transaction():
        # Under the appenders' lock: nothing is appended between the check and the COPY.
        await connection.execute("LOCK TABLE timeline_events IN EXCLUSIVE MODE")
        if await connection.fetchval("SELECT EXISTS (SELECT 1 FROM timeline_events)"):
            raise RestoreRefused("the store already holds events: restore into an empty one")
        await connection.copy_records_to_table(
            "timeline_events", records=records(), columns=RESTORED_COLUMNS
        )
        if walk.events:
            await connection.execute(
                "SELECT setval('timeline_events_notification_id_seq', $1)", walk.position
            )
    return walk.result()


def _row(event: ExportedEvent) -> ChainRow:
    try:
        chain_hash = None if event.chain_hash is None else bytes.fromhex(event.chain_hash)
    except ValueError:
        raise RestoreRefused(f"the chain hash at position {event.position} is not hex") from None
    return (
        event.position,
        event.report_id,
        event.version,
        event.type,
        event.recorded_at,
        bytes(event.state),
        chain_hash,
    )


def _decoded(chunks: Iterable[bytes]) -> Iterable[list[ExportedEvent]]:
    """The events of a file read in chunks of any size, a list per chunk."""
    pending = b""
    line = 1
    for chunk in chunks:
        pending += chunk
        cut = pending.rfind(b"\n") + 1
        if cut:
            yield _decode_lines(pending[:cut], line)
            line += pending.count(b"\n", 0, cut)
            pending = pending[cut:]
    if pending.strip():
        yield _decode_lines(pending, line)


def _decode_lines(text: bytes, first_line: int) -> list[ExportedEvent]:
    try:
        return _decoder.decode_lines(text)
    except msgspec.DecodeError:
        pass
    for number, line in enumerate(text.splitlines(), start=first_line):
        try:
            _decoder.decode(line)
        except msgspec.DecodeError as error:
            raise RestoreRefused(f"line {number} is not an exported event: {error}") from None
    raise AssertionError("decode_lines failed, but every line decodes")  # pragma: no cover
