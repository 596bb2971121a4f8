"""Rebuilding views in several processes at once, each view in one of them.

A rebuild in one process (projections/rebuild.py) folds, renders and encodes every view on
one core, while PostgreSQL's side of it (parsing the COPYs, keeping the indexes) mostly
waits for it, and then it waits for PostgreSQL. Views are independent of one another: each
has its own generations, rows, versions and switch. So `rebuild_in_processes` splits the
views into groups of about equal work (`WORK`) and rebuilds each group with `rebuild_views`
in a process of its own (`python -m projections.rebuild_processes VIEW...`), all at once,
one folding while another's rows are loaded. Each process reads and
decodes the log itself, and evolves the reports its views follow: about a third more CPU in
all, worth it only where cores are free (`configured_processes`).

The calling process takes every view's rebuild lock first, failing at once with
RebuildInProgress as `rebuild_views` does, and holds them until the last process has
ended; the processes rebuild under them (`locks_held`). A process that fails fails the
call, after the others have ended; its views keep the generation they served (a rebuild
switches each view on its own, in one transaction). If the caller is cancelled it kills
its processes; if it dies, its processes see their standard input close and stop, and
PostgreSQL rolls back what they had not committed.

A small log is rebuilt in the calling process (`PROCESSES_FROM_EVENTS`): starting a process
(its imports) costs about a second, more than such a rebuild.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Sequence

import asyncpg
import msgspec

from domain.errors import TimelineError, Unavailable
from projections.core import View
from projections.rebuild import COPY_STREAMS, rebuild_locks, rebuild_views
from projections.registry import VIEWS
from projections.row_stores import Generation
from store.database import create_pool, resolve_database
from store.event_store import HEAD
from store.settings import DATABASE_URL_VARIABLE, InvalidSetting

log = logging.getLogger("timeline.projections")

PROCESSES_VARIABLE = "TIMELINE_REBUILD_PROCESSES"
# Below this many events in the log, a rebuild runs in the calling process.
PROCESSES_FROM_EVENTS = 100_000

# Each view's share of a rebuild's work: seconds to rebuild it alone from bench/rebuild.py's
# generated war of 200,000 events, less the reading and decoding every rebuild does (2-core
# machine). The timeline renders a row per report and keeps every row it replaced; the
# histories keep a version per report, with its piece.
WORK = {
    "holdings": 1,
    "damage": 1,
    "forces": 1,
    "front": 1,
    "strikes": 3,
    "timeline": 13,
    "holdings-series": 3,
    "forces-history": 6,
    "front-series": 6,
    "incidents": 5,
    "tallies": 1,
    "tallies-series": 1,
}
UNMEASURED_WORK = 3


class RebuildFailed(Unavailable):
    """A process rebuilding some of the views ended without rebuilding them."""


def configured_processes() -> int:
    """TIMELINE_REBUILD_PROCESSES if set (1: always in the calling process), else one per
    two cores: each rebuild process keeps about a core of PostgreSQL busy beside its own (the
    COPYs' parsing and index upkeep). On two cores, two processes took as long as one
    (bench/rebuild.py at 10^6 events: 11,431 against 11,346 events/s) for about a third more
    CPU, each reading and folding the log itself."""
    text = os.environ.get(PROCESSES_VARIABLE, "").strip()
    if not text:
        return max(1, (os.cpu_count() or 1) // 2)
    if not text.isdigit() or int(text) < 1:
        raise InvalidSetting(f"{PROCESSES_VARIABLE} must be a whole number from 1, not {text!r}")
    return int(text)


def groups_of(views: Sequence[View], processes: int) -> list[list[View]]:
    """`views` split into at most `processes` groups of about equal work: the heaviest view
    first, each to the group with the least work so far. Each group keeps the views' order."""
    groups: list[list[View]] = [[] for _ in range(max(1, min(processes, len(views))))]
    work = [0] * len(groups)
    for view in sorted(views, key=lambda view: -WORK.get(view.name, UNMEASURED_WORK)):
        lightest = work.index(min(work))
        groups[lightest].append(view)
        work[lightest] += WORK.get(view.name, UNMEASURED_WORK)
    order = {view.name: n for n, view in enumerate(views)}
    return [sorted(group, key=lambda view: order[view.name]) for group in groups if group]


async def rebuild_in_processes(
    pool: asyncpg.Pool,
    database_url: str,
    views: Sequence[View],
    *,
    processes: int | None = None,
    from_events: int | None = None,
) -> list[Generation]:
    """`rebuild_views` of `views`, split over up to `processes` processes (default
    `configured_processes()`) when the log holds `from_events` events or more (default
    `PROCESSES_FROM_EVENTS`); each process connects to `database_url`. Returns the serving
    generations, in the order of `views`. Views not in the registry are rebuilt here."""
    groups = groups_of(views, configured_processes() if processes is None else processes)
    registered = all(VIEWS.get(view.name) is view for view in views)
    least = PROCESSES_FROM_EVENTS if from_events is None else from_events
    if len(groups) < 2 or not registered or await pool.fetchval(HEAD) < least:
        return await rebuild_views(pool, views)
    async with rebuild_locks(pool, [view.name for view in views]):
        tasks = [asyncio.ensure_future(_rebuild_group(database_url, group)) for group in groups]
        try:
            await asyncio.wait(tasks)
        finally:
            for task in tasks:
                task.cancel()
    for task in tasks:
        if (error := task.exception()) is not None:
            raise error
    rebuilt = {generation.view: generation for task in tasks for generation in task.result()}
    return [rebuilt[view.name] for view in views]


async def _rebuild_group(database_url: str, group: Sequence[View]) -> list[Generation]:
    names = [view.name for view in group]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "projections.rebuild_processes",
        *names,
        stdin=asyncio.subprocess.PIPE,  # never written: its end tells the process we died
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, DATABASE_URL_VARIABLE: database_url, PROCESSES_VARIABLE: "1"},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        # Not `communicate`, which would close the process's standard input at once.
        out, err = await asyncio.gather(process.stdout.read(), process.stderr.read())
        await process.wait()
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    finally:
        if process.stdin is not None:
            process.stdin.close()
    said = err.decode(errors="replace").strip()
    if process.returncode != 0:
        last = said.splitlines()[-1] if said else f"exit code {process.returncode}"
        log.warning("rebuild of %s in a process of its own failed:\n%s", ", ".join(names), said)
        raise RebuildFailed(f"the rebuild of {', '.join(names)} failed: {last}")
    if said:
        log.info("rebuild of %s: %s", ", ".join(names), said)
    # The process's answer: a line of JSON per view it rebuilt (`main`).
    return list(map(msgspec.json.Decoder(Generation).decode, out.splitlines()))


# --- the process's side -----------------------------------------------------------------


async def _rebuild_here(names: Sequence[str]) -> list[Generation]:
    pool = await create_pool(resolve_database(), min_size=1, max_size=1 + COPY_STREAMS)
    try:
        return await rebuild_views(pool, [VIEWS[name] for name in names], locks_held=True)
    finally:
        await pool.close()


def _stop_when_orphaned() -> None:
    """Exit as soon as standard input ends: the process that started this one is gone."""
    # The file descriptor itself: a buffered reader's lock, held by this daemon thread,
    # would stop the interpreter's shutdown.
    while os.read(0, 4096):
        pass
    os._exit(3)


def main(names: Sequence[str]) -> int:
    unknown = [name for name in names if name not in VIEWS]
    if not names or unknown:
        print(f"name views to rebuild from {', '.join(VIEWS)}", file=sys.stderr)
        return 2
    threading.Thread(target=_stop_when_orphaned, daemon=True).start()
    started = time.perf_counter()
    try:
        generations = asyncio.run(_rebuild_here(names))
    except TimelineError as error:  # its message says what to do
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except Exception:  # for the log of the process that started this one
        traceback.print_exc()
        return 1
    print(f"rebuilt in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for generation in generations:
        sys.stdout.buffer.write(msgspec.json.encode(generation) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
