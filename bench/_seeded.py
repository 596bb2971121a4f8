"""The log bench/http.py and bench/abuse.py serve: the first 5,000 events of the generated
war, then the seed article's reports filed through the service's own use cases; a reader's
and an editor's key; and what one writer gets appending the POST's filing without HTTP."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass
from uuid import uuid4

import asyncpg
import msgspec

from application.commands import FileReport
from application.decoding import decode_command
from application.reports import ReportService, decide_filing
from bench._database import open_pool, views_reach
from bench._generated_war import SEED, copy_into_log, generated_log
from bench._service import START_TIMEOUT
from seed.demo import load_demo
from seed.kursk_article import demo_reports
from store.api_keys import Role, create_key
from store.event_store import EventStore, Idempotency

GENERATED_EVENTS = 5_000
SINGLE_APPENDS = 1_000  # per round
SINGLE_WARMUP = 200
SINGLE_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Seeded:
    position: int
    reader_key: str
    editor_key: str
    single_appends_per_second: float


async def seed(url: str) -> Seeded:
    """The generated war's first events by COPY, then the seed article through the service's
    own use cases, then a reader's and an editor's key."""
    connection = await asyncpg.connect(url)
    try:
        first = next(generated_log(random.Random(SEED), chunk=GENERATED_EVENTS))
        await copy_into_log(connection, [first])
    finally:
        await connection.close()
    pool = await open_pool(url, size=2)
    try:
        store = EventStore(pool)
        await load_demo(ReportService(store))
        reader = await create_key(pool, "bench reader", Role.READER)
        editor = await create_key(pool, "bench editor", Role.EDITOR)
    finally:
        await pool.close()
    single = await _single_appends(url)
    return Seeded(await _position(url), reader.secret, editor.secret, single)


async def _position(url: str) -> int:
    pool = await open_pool(url)
    try:
        return await EventStore(pool).position()
    finally:
        await pool.close()


async def _single_appends(url: str) -> float:
    """Appends per second of the POST's filing, one after another through the store on one
    connection (each a new report with its own key): the median over a few rounds."""
    pool = await open_pool(url)
    store = EventStore(pool)
    command = decode_command(FileReport, filing())

    async def appends(count: int) -> float:
        work = [(decide_filing(command), f"bench-single-{uuid4()}") for _ in range(count)]
        started = time.perf_counter()
        for event, key in work:
            await store.append([event], idempotency=Idempotency(key, key.encode()))
        return count / (time.perf_counter() - started)

    try:
        await appends(SINGLE_WARMUP)
        return statistics.median([await appends(SINGLE_APPENDS) for _ in range(SINGLE_ROUNDS)])
    finally:
        await pool.close()


def filing() -> bytes:
    """A new report each time it is posted: the seed's "Ukraine holds about 800 km²"."""
    demo = next(d for d in demo_reports() if "800" in msgspec.json.encode(d.filing).decode())
    return msgspec.json.encode(msgspec.structs.replace(demo.filing, report_id=None))


async def views_at(url: str, position: int) -> None:
    """Until every view serves `position`: the service has folded the seeded log."""
    connection = await asyncpg.connect(url)
    try:
        async with asyncio.timeout(START_TIMEOUT):
            await views_reach(connection, position, every=0.05)
    finally:
        await connection.close()
