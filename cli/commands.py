"""What each `timeline` subcommand does."""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import sys
import time
from datetime import UTC, date, datetime

import msgspec
from litestar import Litestar

from api.app import create_app
from api.settings import ApiSettings
from application.reports import ReportService
from cli import logs, servers
from domain.errors import Invalid
from domain.events import DomainEvent
from domain.recorded import RecordedEvent
from domain.summaries import event_summary
from projections.quarantine import open_counts
from projections.rebuild_processes import rebuild_in_processes
from projections.registry import VIEWS
from projections.replay import encode_answer
from projections.replay import replay as replay_view
from projections.status import view_statuses
from projections.workers import run_views
from seed.demo import load_demo
from store import migrate as migrations
from store import roles
from store.database import Database, DatabaseUnavailable, create_pool, resolve_database
from store.event_store import MAX_POSITION, EventStore
from store.mapper import stored_topic
from store.settings import append_group_max

LOG_PAGE = 1000


class UsageError(Invalid, ValueError):
    """The command line asks for something that cannot be done as written."""


class LogLine(msgspec.Struct, frozen=True):
    position: int
    recorded_at: str
    type: str
    report_id: str
    version: int
    summary: str
    event: DomainEvent


def serve(args: argparse.Namespace) -> int:
    server = servers.AsgiServer(args.server)
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if server is servers.AsgiServer.UVICORN and args.workers != 1:
        raise UsageError("uvicorn serves with one worker here; use --server granian for more")
    log_format = _log_format()
    try:  # a mistyped variable fails here, in one line, not in every worker
        ApiSettings.from_environment()
    except ValueError as error:
        raise UsageError(str(error)) from None
    append_group_max()  # a bad TIMELINE_APPEND_GROUP_MAX: one line now, not in each worker
    database = resolve_database()
    # Fail with one line before the server starts, not with a lifespan traceback.
    asyncio.run(_check_ready(database, require_migrated=True))
    reads = ""
    if database.read_url is not None:
        asyncio.run(_check_ready(database.for_reads(), require_migrated=True))
        reads = f", views read from {database.for_reads().described}"
    workers = "1 worker" if args.workers == 1 else f"{args.workers} workers"
    print(
        f"timeline: serving on http://{args.host}:{args.port} using {database.described}"
        f"{reads} ({server.value}, {workers})",
        flush=True,
    )
    try:
        # Each worker builds its own app from the database found here: with the embedded
        # server, this process started it, keeps it running and stops it on the way out.
        servers.run(
            functools.partial(service_app, database, args.projections),
            server=server,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=logs.server_log_config(log_format),
        )
    except servers.ServerFailed:
        return 2  # the server has logged why
    return 0


def service_app(database: Database, run_projections: bool) -> Litestar:
    """The app one worker serves (a module-level function, so a spawned worker can load it)."""
    logs.configure_logging(logs.log_format_from_environment())
    return create_app(database, run_projections=run_projections, freeze_heap=True)


def _log_format() -> logs.LogFormat:
    try:
        return logs.log_format_from_environment()
    except ValueError as error:
        raise UsageError(str(error)) from None


async def _check_ready(database: Database, *, require_migrated: bool) -> None:
    pool = await create_pool(database, min_size=1, max_size=1, require_migrated=require_migrated)
    await pool.close()


def migrate(args: argparse.Namespace) -> int:
    database = resolve_database()
    owner = database.as_owner()
    if not args.down:
        for warning in asyncio.run(_make_roles(database)):
            print(f"timeline migrate: warning: {warning}", file=sys.stderr)
    asyncio.run(_check_ready(owner, require_migrated=False))
    try:
        if args.down:
            migrations.downgrade(owner.url, args.down)
            print(f"timeline: downgraded {owner.described} to {args.down}")
            return 0
        migrations.upgrade(owner.url)
    except OSError as error:
        raise DatabaseUnavailable(f"cannot reach {owner.described}: {error}") from None
    # The service's own URL logs in now, so a wrong password shows here, not at serve.
    asyncio.run(_check_ready(database, require_migrated=True))
    print(f"timeline: {owner.described} is at {migrations.head_revision()}")
    return 0


async def _make_roles(database: Database) -> tuple[str, ...]:
    """Create the service role (and the service URL's login role) if missing and possible;
    RolesNeeded, with the statements, if not. Returns warnings to show."""
    pool = await create_pool(database.as_owner(), min_size=1, max_size=1, require_migrated=False)
    try:
        async with pool.acquire() as connection:
            plan = await roles.plan_roles(connection, database.url)
            await roles.make_roles(connection, plan)
    finally:
        await pool.close()
    return plan.warnings


async def demo(_: argparse.Namespace) -> int:
    pool = await create_pool(resolve_database())
    try:
        added = await load_demo(ReportService(EventStore(pool)))
    finally:
        await pool.close()
    print(
        f"timeline: demo loaded, {added} events added" if added else "timeline: demo already loaded"
    )
    return 0


async def log(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    log_position(args.from_position, "--from")
    pool = await create_pool(resolve_database(), min_size=1, max_size=1)
    store = EventStore(pool)
    encoder = msgspec.json.Encoder()
    remaining = args.limit
    after = args.from_position
    try:
        while remaining is None or remaining > 0:
            page = await store.read_log(after=after, limit=min(LOG_PAGE, remaining or LOG_PAGE))
            if not page:
                break
            for recorded in page:
                line = _line(recorded)
                if args.json:
                    sys.stdout.buffer.write(encoder.encode(line) + b"\n")
                else:
                    print(
                        f"{line.position:>8}  {line.recorded_at}  {line.type:<20}  "
                        f"{line.report_id}  {line.summary}"
                    )
            after = page[-1].position
            if remaining is not None:
                remaining -= len(page)
    finally:
        await pool.close()
    return 0


def _line(recorded: RecordedEvent) -> LogLine:
    event = recorded.event
    return LogLine(
        position=recorded.position,
        recorded_at=recorded.recorded_at.isoformat(),
        type=stored_topic(type(event)),
        report_id=str(event.originator_id),
        version=event.originator_version,
        summary=event_summary(event),
        event=event,
    )


async def project(args: argparse.Namespace) -> int:
    log_format = _log_format()
    database = resolve_database()
    pool = await create_pool(database)
    views = [VIEWS[name] for name in (args.view or VIEWS)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(
        f"timeline: projecting {', '.join(v.name for v in views)} from {database.described}",
        flush=True,
    )
    logs.configure_logging(log_format)
    try:
        await run_views(views, pool, database.url, stop)
    finally:
        await pool.close()
    return 0


async def status(args: argparse.Namespace) -> int:
    pool = await create_pool(resolve_database(), min_size=1, max_size=1)
    try:
        statuses = await view_statuses(pool, VIEWS)
    finally:
        await pool.close()
    encoder = msgspec.json.Encoder()
    width = max([len("view"), *(len(row.view) for row in statuses)])
    if not args.json:
        print(
            f"{'view':<{width}} {'generation':>10} {'position':>9} {'lag':>7} "
            f"{'quarantined':>11}  state"
        )
    for row in statuses:
        if args.json:
            sys.stdout.buffer.write(encoder.encode(row) + b"\n")
        else:
            generation = "-" if row.generation is None else str(row.generation)
            print(
                f"{row.view:<{width}} {generation:>10} {row.position:>9} {row.lag:>7} "
                f"{row.quarantined:>11}  {row.state}"
            )
    return 0


async def rebuild(args: argparse.Namespace) -> int:
    names = list(VIEWS) if args.all else args.views
    if not names:
        raise UsageError(f"name the views to rebuild ({', '.join(VIEWS)}) or give --all")
    unknown = [name for name in names if name not in VIEWS]
    if unknown:
        raise UsageError(f"no view named {', '.join(unknown)}; views: {', '.join(VIEWS)}")
    database = resolve_database()
    pool = await create_pool(database, min_size=2, max_size=4)
    try:
        started = time.perf_counter()
        views = [VIEWS[name] for name in names]
        generations = await rebuild_in_processes(pool, database.url, views)
        seconds = time.perf_counter() - started
        quarantined = await open_counts(pool)
    finally:
        await pool.close()
    for generation in generations:
        skipped = quarantined.get(generation.view, 0)
        print(
            f"timeline: {generation.view} now serves generation {generation.generation} "
            f"at position {generation.position}"
            + (f" ({skipped} quarantined: timeline quarantine list)" if skipped else "")
        )
    print(f"timeline: rebuilt {len(generations)} views in {seconds:.1f} s")
    return 0


def moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
        if when.utcoffset() is not None:
            when.astimezone(UTC)  # a real moment in UTC too (not 0001-01-01T00:00+01:00)
    except (ValueError, OverflowError) as error:
        reason = str(error).split(": '", 1)[0]
        raise UsageError(
            f"{option} expects an ISO 8601 time in the years 0001 to 9999, e.g. "
            f"2024-11-24T00:00:00Z, got {text[:40]!r}: {reason}"
        ) from None
    return when


def log_position(value: int | None, option: str) -> int | None:
    """`value` when it is a log position PostgreSQL can hold (0 to 2^63 - 1)."""
    if value is not None and value < 0:
        raise UsageError(f"{option} must not be negative")
    if value is not None and value > MAX_POSITION:
        raise UsageError(f"{option} must be at most {MAX_POSITION}, the largest log position")
    return value


def day_or_moment(text: str | None, option: str = "--as-of") -> date | datetime | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return moment(text, option)


async def replay(args: argparse.Namespace) -> int:
    known_at = moment(args.known_at, "--known-at")
    as_of = day_or_moment(args.as_of)
    pool = await create_pool(resolve_database(), min_size=1, max_size=2)
    try:
        answer = await replay_view(
            pool,
            args.view,
            known_at=known_at,
            position=log_position(args.position, "--position"),
            as_of=as_of,
            reported_by=day_or_moment(args.reported_by, "--reported-by"),
        )
    finally:
        await pool.close()
    sys.stdout.buffer.write(encode_answer(answer) + b"\n")
    return 0
