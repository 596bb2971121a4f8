"""Audit throughput: verify, export and restore a log of 1,000,000 events.

Usage: `python bench/verify.py` (no arguments). Uses TIMELINE_DATABASE_URL when set, else a
throwaway embedded PostgreSQL; either way the run gets a fresh database, dropped at the end.

The log is bench/rebuild.py's (bench/_generated_war.py, loaded the same way by COPY, not
measured), linked by the database as it is loaded.

Figures, on the same database, medians over interleaved rounds, each after a CHECKPOINT:
  read      the log's rows as verify reads them (store/chain.py, read_chain), not hashed:
            what verify could at best reach
  verify    `verify_chain`: the same rows, every link recomputed in Python
  export    `export_log` to a file in a temporary folder
  restore   `restore_log` of that file into the emptied store: read, decode, recompute
            every link, COPY
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

import asyncpg

from bench._database import Settle, fresh_database, open_pool
from bench._generated_war import EVENTS, load_log
from store.chain import chain_head, read_chain, verify_chain
from store.export import export_log, restore_log

ROUNDS = 3
VERIFY_TARGET = 0.5
RESTORE_TARGET = 50_000
READ_CHUNK = 1 << 20


class Bench:
    def __init__(self, pool: asyncpg.Pool, folder: Path) -> None:
        self.pool = pool
        self.log_file = folder / "log.ndjson"
        self.head_hash: str | None = None
        self._settle = Settle(pool)

    async def read(self) -> float:
        await self._settle()
        count = 0
        started = time.perf_counter()
        async for rows in read_chain(self.pool, EVENTS):
            count += len(rows)
        elapsed = time.perf_counter() - started
        if count != EVENTS:
            raise AssertionError(f"read {count} events of {EVENTS}")
        return count / elapsed

    async def verify(self) -> float:
        await self._settle()
        started = time.perf_counter()
        result = await verify_chain(self.pool)
        elapsed = time.perf_counter() - started
        if not result.intact or result.events != EVENTS:
            raise AssertionError(f"verify found {result.describe()}")
        self.head_hash = result.head_hash
        return EVENTS / elapsed

    async def export(self) -> float:
        await self._settle()
        started = time.perf_counter()
        with self.log_file.open("wb") as out:
            summary = await export_log(self.pool, out)
        elapsed = time.perf_counter() - started
        if summary.events != EVENTS:
            raise AssertionError(f"exported {summary.events} events of {EVENTS}")
        return EVENTS / elapsed

    async def restore(self) -> float:
        await self.pool.execute("TRUNCATE timeline_events, timeline_idempotency_keys")
        await self._settle()
        started = time.perf_counter()
        with self.log_file.open("rb") as source:
            result = await restore_log(self.pool, iter(partial(source.read, READ_CHUNK), b""))
        elapsed = time.perf_counter() - started
        head = await chain_head(self.pool)
        if result.events != EVENTS or head.head_hash != self.head_hash:
            raise AssertionError(f"restored {result.describe()}, head {head}")
        return EVENTS / elapsed


async def _measure(url: str, folder: Path) -> dict[str, float]:
    await load_log(url)
    pool = await open_pool(url)
    try:
        bench = Bench(pool, folder)
        samples: dict[str, list[float]] = {"read": [], "verify": [], "export": [], "restore": []}
        for _ in range(ROUNDS):
            samples["read"].append(await bench.read())
            samples["verify"].append(await bench.verify())
            samples["export"].append(await bench.export())
            samples["restore"].append(await bench.restore())
        return {name: statistics.median(values) for name, values in samples.items()}
    finally:
        await pool.close()


def main() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="eventsourcing")
    with (
        fresh_database("timeline_bench_verify") as url,
        tempfile.TemporaryDirectory(prefix="timeline-bench-") as folder,
    ):
        figures = asyncio.run(_measure(url, Path(folder)))
    for name, value in figures.items():
        print(f"{name}: {value:.0f} events/s")
    verify = figures["verify"] / figures["read"]
    restore = figures["restore"] / RESTORE_TARGET
    print(f"ratio verify_vs_read: {verify:.2f} (target >= {VERIFY_TARGET:g})")
    print(f"ratio restore_per_50k: {restore:.2f} (target >= 1)")


if __name__ == "__main__":
    main()
