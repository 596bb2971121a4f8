# ruff: noqa: N999  (the module is named after the command it measures, `timeline import`)
"""Import throughput: `timeline import acled` on 200,000 generated rows in ACLED's layout.

Usage: `python bench/import.py` (no arguments; BENCH_IMPORT_ROWS sets another size for a
quick look). Uses TIMELINE_DATABASE_URL when set, else a throwaway embedded PostgreSQL;
either way the run gets a fresh database, dropped at the end.

Figures, in one run on one database, each measured after a checkpoint:
  batch_append      the store's own append of pre-built events, 1,000 reports per
                    transaction (the ceiling an importer can hope for)
  import            `import_files` (what POST /v1/imports runs; `timeline import` runs the
                    same importer once it has read the file): the file read, every row
                    checked and filed, in one append
  reimport          the same file again: every row split into fields and its fingerprint
                    compared with the one kept beside its report, nothing written
  revised_import    a copy with 1% of the rows' fatalities changed: corrections
ratio import_vs_batch_append: import's rows/s over batch_append's events/s
ratio reimport_speedup: the first import's time over the unchanged re-import's
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from application.imports import Format, read_format
from application.imports.importer import ImportAnswer
from application.imports.importing import import_files
from application.imports.rows import SourceFile
from application.reports import decide_filing
from bench._database import Settle, fresh_database, open_pool
from store.event_store import EventStore

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "200000"))
BATCH = 1_000
APPEND_TARGET = 0.5
REIMPORT_TARGET = 5.0
PLACES = (
    ("Kursk", "Sudzhanskiy", "Sudzha", 51.1903, 35.2717),
    ("Kursk", "Sudzhanskiy", "Plekhovo", 51.1892, 35.1469),
    ("Donetsk", "Pokrovskyi", "Kurakhove", 47.9839, 37.2817),
    ("Zaporizhia", "Berdianskyi", "Berdiansk", 46.7553, 36.7886),
    ("Kharkiv", "Kupianskyi", "Kupiansk", 49.7106, 37.6156),
)
EVENTS = (
    ("Battles", "Armed clash", ""),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack", ""),
    ("Explosions/Remote violence", "Air/drone strike", "Civilian targeting"),
    ("Violence against civilians", "Attack", "Civilian targeting"),
    ("Battles", "Government regains territory", ""),
    ("Strategic developments", "Looting/property destruction", ""),
)
ACLED_HEADER = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,"
    "source,source_scale,notes,fatalities,tags,timestamp"
)
UA = "Military Forces of Ukraine (2019-)"
RU = "Military Forces of Russia (2000-)"


def _row(number: int, fatalities: int, rng: random.Random) -> str:
    admin1, admin2, location, latitude, longitude = rng.choice(PLACES)
    event_type, sub_event_type, targeting = rng.choice(EVENTS)
    actor1, actor2 = (RU, UA) if number % 2 else (UA, RU)
    if event_type == "Violence against civilians" or targeting:
        actor2 = "Civilians (Ukraine)"
    day = 1 + number % 28
    notes = f'"On {day} November 2024, shelling near {location}, ""{number}"", reported."'
    return (
        f"UKR{number},2024-11-{day:02},2024,{1 + number % 3},Political violence,{event_type},"
        f'{sub_event_type},"{actor1}",,State forces,"{actor2}",,State forces,,{targeting},'
        f"804,Europe,Ukraine,{admin1},{admin2},,{location},{latitude},{longitude},"
        f"{1 + number % 3},Ukrainska Pravda; Telegram,National,{notes},{fatalities},,1733205720"
    )


def _write(path: Path, changed: frozenset[int]) -> None:
    rng = random.Random(13)
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(ACLED_HEADER + "\r\n")
        for number in range(ROWS):
            fatalities = number % 7 + (1 if number in changed else 0)
            file.write(_row(number, fatalities, rng) + "\r\n")


@dataclass(frozen=True, slots=True)
class Timed:
    seconds: float
    answer: ImportAnswer


async def _import(store: EventStore, path: Path) -> Timed:
    """What `timeline import acled FILE` and `POST /v1/imports` do, from the file's bytes."""
    started = time.perf_counter()
    answer = await import_files(store, Format.ACLED, [SourceFile.read(path)])
    return Timed(time.perf_counter() - started, answer)


async def _batch_append(store: EventStore, path: Path, rows: int) -> float:
    """The store's own throughput on the same kind of events, built beforehand, under ids
    no import uses."""
    dataset = read_format(Format.ACLED, [path], None)[0]
    events = [
        decide_filing(row.command)  # random ids: no import's range
        for row in dataset.rows[:rows]
    ]
    started = time.perf_counter()
    for first in range(0, len(events), BATCH):
        await store.append(events[first : first + BATCH])
    return len(events) / (time.perf_counter() - started)


async def _measure(url: str, folder: Path) -> None:
    original, revised = folder / "acled.csv", folder / "acled-revised.csv"
    changed = frozenset(random.Random(1).sample(range(ROWS), ROWS // 100))
    _write(original, frozenset())
    _write(revised, changed)
    pool = await open_pool(url, size=2)
    try:
        store = EventStore(pool)
        settle = Settle(pool)  # no measurement pays for the writes of the one before
        await settle()
        append_rate = await _batch_append(store, original, min(ROWS, 50_000))
        await settle()
        first = await _import(store, original)
        await settle()
        again = await _import(store, original)
        await settle()
        revision = await _import(store, revised)
    finally:
        await pool.close()
    assert first.answer.counts["added"] == ROWS, first.answer.counts
    assert again.answer.counts["unchanged"] == ROWS, again.answer.counts
    assert not again.answer.written
    assert revision.answer.counts["corrected"] == len(changed), revision.answer.counts
    import_rate = ROWS / first.seconds
    print(f"rows: {ROWS} rows")
    print(f"batch_append: {append_rate:,.0f} events/s")
    print(f"import: {import_rate:,.0f} rows/s ({first.seconds:.1f} s)")
    print(f"reimport: {ROWS / again.seconds:,.0f} rows/s ({again.seconds:.1f} s)")
    revised_rate = ROWS / revision.seconds
    print(f"revised_import: {revised_rate:,.0f} rows/s ({revision.seconds:.1f} s)")
    ratio = import_rate / append_rate
    print(f"ratio import_vs_batch_append: {ratio:.2f} (target >= {APPEND_TARGET:g})")
    print(
        f"ratio reimport_speedup: {first.seconds / again.seconds:.2f} "
        f"(target >= {REIMPORT_TARGET:g})"
    )


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="timeline-import-") as folder,
        fresh_database("timeline_bench_import") as url,
    ):
        asyncio.run(_measure(url, Path(folder)))


if __name__ == "__main__":
    main()
