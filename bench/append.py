"""Append throughput: our EventStore against the eventsourcing library's own recorder.

Usage: `python bench/append.py` or `make bench` (no arguments). Uses TIMELINE_DATABASE_URL
when set, else a throwaway embedded PostgreSQL; either way the run gets a fresh database,
dropped at the end.

Figures, on the same database, one connection per client, sequential appends:
  single_append          our EventStore, one report per transaction, each with its own
                         idempotency key
  library_single_append  PostgresApplicationRecorder.insert_events, one event per call
  single_append_asyncpg_default_reset
                         single_append again on a pool left at asyncpg's default reset
                         (for information; not in the ratios)
  batch_append           our EventStore, 1,000 reports per transaction, one key per batch
  library_batch_append   PostgresApplicationRecorder.insert_events, 1,000 events per call
Both paths encode the same pre-built domain events inside the timed loop (our mapper), and
both go one writer at a time (the library by its EXCLUSIVE table lock, ours by the appenders'
advisory lock, migration 0019); ours also checks the key and version gaps.

Like for like, our pool returns connections as the library's psycopg_pool does: a leftover
transaction is rolled back, but no session-reset query is sent. asyncpg's default sends one
(advisory unlock, CLOSE ALL, UNLISTEN *, RESET ALL) after every pooled call, one more round
trip per append; the third figure shows what that costs.

Each measurement starts from an empty log after a CHECKPOINT (skipped on servers that do not
allow it), so neither client pays for writing out the other's pages, and ends by checking
that the log holds exactly what was appended. Each figure is the median over interleaved
rounds. On a log that has outgrown shared_buffers, or right after a checkpoint on a big
table, both clients pay the same extra I/O per event, so the ratios shrink.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import statistics
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, date, datetime
from uuid import uuid4

import asyncpg
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from bench._database import Settle, fresh_database, library_recorder, open_pool
from domain.attribution import Attribution, Caveat, Side, Stance
from domain.claims import (
    DamageTally,
    ForceStrength,
    FrontAdvance,
    Place,
    Strike,
    StrikeEffects,
    TerritoryControl,
    TroopDeployment,
)
from domain.events import DomainEvent
from domain.occurrence import Day, Instant, Interval, Month
from domain.quantities import Qualifier, Quantity, Unit, about
from domain.report import file_report
from store.event_store import EventStore, Idempotency
from store.mapper import MsgspecMapper

ROUNDS = 5
SINGLE_APPENDS = 1_000  # per round and path
BATCH_SIZE = 1_000
BATCHES = 25  # per round and path
WARMUP_SINGLE = 200
WARMUP_BATCHES = 2

SEND_BUFFER_BYTES = 4 << 20  # see _enlarge_send_buffer
SINGLE_TARGET = 1.8
BATCH_TARGET = 4.0

REPORTED = Day(on=date(2024, 11, 23))
REUTERS_GENERAL_STAFF = Attribution(
    source="Ukrainian General Staff source", side=Side.UKRAINE, outlet="Reuters"
)
NOT_VERIFIED = (Caveat(party="Reuters", stance=Stance.COULD_NOT_VERIFY),)


def _seed_report(index: int) -> DomainEvent:
    """A filing like those in the seed article, cycling through its kinds of claim."""
    match index % 6:
        case 0:
            return file_report(
                claim=TerritoryControl(
                    actor="Ukraine",
                    region="Kursk Oblast",
                    country="RU",
                    area=about(800, Unit.KM2),
                    share_lost_from_peak=Quantity(
                        unit=Unit.PERCENT, low=40, qualifier=Qualifier.MORE_THAN
                    ),
                ),
                attribution=REUTERS_GENERAL_STAFF,
                occurred=REPORTED,
                reported=REPORTED,
                caveats=NOT_VERIFIED,
            )
        case 1:
            return file_report(
                claim=TroopDeployment(
                    actor="North Korea",
                    theatre="Kursk Oblast",
                    country="RU",
                    troops=about(11_000, Unit.TROOPS),
                    in_support_of="Russia",
                ),
                attribution=REUTERS_GENERAL_STAFF,
                occurred=Interval(start=Month(year=2024, month=10)),
                reported=REPORTED,
                caveats=(
                    Caveat(party="Kremlin", stance=Stance.NEITHER_CONFIRMED_NOR_DENIED),
                    *NOT_VERIFIED,
                ),
            )
        case 2:
            return file_report(
                claim=ForceStrength(
                    actor="Russia",
                    theatre="Ukraine",
                    troops=about(575_000, Unit.TROOPS),
                    target=about(690_000, Unit.TROOPS),
                ),
                attribution=REUTERS_GENERAL_STAFF,
                occurred=REPORTED,
                reported=REPORTED,
            )
        case 3:
            return file_report(
                claim=FrontAdvance(
                    actor="Russia",
                    direction="Kurakhove",
                    region="Donetsk Oblast",
                    country="UA",
                    rate=Quantity(
                        unit=Unit.METRES_PER_DAY, low=200, high=300, qualifier=Qualifier.BETWEEN
                    ),
                ),
                attribution=REUTERS_GENERAL_STAFF,
                occurred=REPORTED,
                reported=REPORTED,
            )
        case 4:
            return file_report(
                claim=DamageTally(
                    category="port infrastructure facilities",
                    count=Quantity(unit=Unit.FACILITIES, value=321),
                    responsible="Russia",
                    country="UA",
                ),
                attribution=Attribution(
                    source="President Volodymyr Zelenskiy", side=Side.UKRAINE, outlet="Reuters"
                ),
                occurred=Interval(start=Month(year=2023, month=7)),
                reported=REPORTED,
            )
        case _:
            return file_report(
                claim=Strike(
                    attacker="Ukraine",
                    target="port of Berdiansk",
                    place=Place(name="Berdiansk", region="Zaporizhzhia Oblast", country="UA"),
                    weapon="guided missile",
                    effects=StrikeEffects(
                        injured=Quantity(unit=Unit.PEOPLE, value=0),
                        operations_affected=False,
                        fires="extinguished",
                    ),
                ),
                attribution=Attribution(
                    source="Kremlin-installed governor of Zaporizhzhia",
                    side=Side.RUSSIA,
                    outlet="Reuters",
                ),
                occurred=Instant(at=datetime(2024, 11, 22, 20, 50, tzinfo=UTC)),
                reported=REPORTED,
            )


def _reports(count: int) -> list[DomainEvent]:
    return [_seed_report(index) for index in range(count)]


def _idempotency(events: Sequence[DomainEvent]) -> Idempotency:
    """A unique key per append, with a fingerprint of what was asked (as callers do)."""
    digest = hashlib.sha256()
    for event in events:
        digest.update(event.originator_id.bytes)
    return Idempotency(key=f"bench-{uuid4()}", fingerprint=digest.digest())


def _library_recorder(url: str) -> PostgresApplicationRecorder:
    recorder = library_recorder(url)
    _enlarge_send_buffer(recorder.datastore)
    return recorder


def _enlarge_send_buffer(datastore: PostgresDatastore) -> None:
    """Let the library's one pooled connection hand a whole batch to the kernel at once.

    The recorder inserts through psycopg's pipeline mode, and psycopg (3.3) stops flushing
    once its command queue is empty even if libpq still holds unsent bytes; it then waits
    for a reply the server cannot send, for the server is still waiting for the rest of the
    query. A batch of 1,000 of our events (~1.2 MB as a composite array) does not fit the
    default 208 KiB send buffer of a Unix socket, so the embedded server deadlocks it. With
    a send buffer larger than a batch the final flush always completes. Over TCP (Linux
    autotunes the buffer up to 4 MiB) nothing changes.
    """
    with (
        datastore.get_connection() as connection,
        socket.socket(fileno=os.dup(connection.fileno())) as sock,
    ):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)


class Bench:
    """Each measurement starts from an empty log with no dirty buffers left by the one
    before, so neither client pays for the other's writes; each ends by checking that the
    log holds exactly what was appended."""

    def __init__(self, pool: asyncpg.Pool, recorder: PostgresApplicationRecorder) -> None:
        self.pool = pool
        self.recorder = recorder
        self.mapper = MsgspecMapper(transcoder=JSONTranscoder())
        self._settle = Settle(pool)

    async def _empty_log(self) -> None:
        await self.pool.execute(
            "TRUNCATE timeline_events, timeline_idempotency_keys RESTART IDENTITY"
        )
        await self._settle()

    async def _check_log_holds(self, count: int) -> None:
        stored = await self.pool.fetchval("SELECT count(*) FROM timeline_events")
        if stored != count:
            raise AssertionError(f"appended {count} events but the log holds {stored}")

    async def ours_single(self, store: EventStore, count: int) -> float:
        await self._empty_log()
        work = [(event, _idempotency([event])) for event in _reports(count)]
        started = time.perf_counter()
        for event, idempotency in work:
            await store.append([event], idempotency=idempotency)
        elapsed = time.perf_counter() - started
        await self._check_log_holds(count)
        return count / elapsed

    async def ours_batch(self, store: EventStore, batches: int) -> float:
        await self._empty_log()
        work = [
            (batch, _idempotency(batch)) for batch in (_reports(BATCH_SIZE) for _ in range(batches))
        ]
        started = time.perf_counter()
        for batch, idempotency in work:
            await store.append(batch, idempotency=idempotency)
        elapsed = time.perf_counter() - started
        await self._check_log_holds(batches * BATCH_SIZE)
        return batches * BATCH_SIZE / elapsed

    async def library_single(self, count: int) -> float:
        await self._empty_log()
        events = _reports(count)
        to_stored, insert = self.mapper.to_stored_event, self.recorder.insert_events
        started = time.perf_counter()
        for event in events:
            insert([to_stored(event)])
        elapsed = time.perf_counter() - started
        await self._check_log_holds(count)
        return count / elapsed

    async def library_batch(self, batches: int) -> float:
        await self._empty_log()
        work = [_reports(BATCH_SIZE) for _ in range(batches)]
        to_stored, insert = self.mapper.to_stored_event, self.recorder.insert_events
        started = time.perf_counter()
        for batch in work:
            insert([to_stored(event) for event in batch])
        elapsed = time.perf_counter() - started
        await self._check_log_holds(batches * BATCH_SIZE)
        return batches * BATCH_SIZE / elapsed


async def _measure(url: str) -> dict[str, float]:
    pool = await open_pool(url)
    default_pool = await open_pool(url, server_reset=True)
    recorder = _library_recorder(url)
    try:
        store, default_store = EventStore(pool), EventStore(default_pool)
        bench = Bench(pool, recorder)
        await bench.ours_single(store, WARMUP_SINGLE)
        await bench.ours_single(default_store, WARMUP_SINGLE)
        await bench.library_single(WARMUP_SINGLE)
        await bench.ours_batch(store, WARMUP_BATCHES)
        await bench.library_batch(WARMUP_BATCHES)

        samples: dict[str, list[float]] = {
            "single_append": [],
            "library_single_append": [],
            "single_append_asyncpg_default_reset": [],
            "batch_append": [],
            "library_batch_append": [],
        }
        for _ in range(ROUNDS):
            samples["single_append"].append(await bench.ours_single(store, SINGLE_APPENDS))
            samples["library_single_append"].append(await bench.library_single(SINGLE_APPENDS))
            samples["single_append_asyncpg_default_reset"].append(
                await bench.ours_single(default_store, SINGLE_APPENDS)
            )
            samples["batch_append"].append(await bench.ours_batch(store, BATCHES))
            samples["library_batch_append"].append(await bench.library_batch(BATCHES))
        return {name: statistics.median(values) for name, values in samples.items()}
    finally:
        recorder.datastore.close()
        await pool.close()
        await default_pool.close()


def main() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="eventsourcing")
    with fresh_database("timeline_bench_append") as url:
        figures = asyncio.run(_measure(url))
    for name, value in figures.items():
        print(f"{name}: {value:.0f} events/s")
    single = figures["single_append"] / figures["library_single_append"]
    batch = figures["batch_append"] / figures["library_batch_append"]
    print(f"ratio single_vs_library: {single:.2f} (target >= {SINGLE_TARGET:g})")
    print(f"ratio batch_vs_library: {batch:.2f} (target >= {BATCH_TARGET:g})")


if __name__ == "__main__":
    main()
