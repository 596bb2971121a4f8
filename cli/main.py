"""`timeline`: run the service, migrate the database, load the demo, read the log."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence

from cli import audit, commands, explain, imports, keys, quarantine, servers
from domain.errors import TimelineError
from projections.registry import VIEWS

DESCRIPTION = """\
Conflict Timeline: every reported development in a war, kept as an immutable event with its
source, qualifiers and times.

With no TIMELINE_DATABASE_URL set, each command starts a private embedded PostgreSQL whose
data lives in ./.timeline (or TIMELINE_DATA_DIR); with it set, that server is used and
nothing is started. TIMELINE_DATABASE_URL logs in as the service role, which reads the log
and appends to it only through its append function; `migrate` and `restore` log in with
TIMELINE_OWNER_DATABASE_URL, the schema's owner (default: TIMELINE_DATABASE_URL).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timeline",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="serve the HTTP API",
        description="Serve the HTTP API under /v1 (OpenAPI at /schema/openapi.json, an "
        "interactive page at /schema/swagger; GET /health shows the database status and log "
        "position) and keep the projection views up to date in the same process. Requests "
        "need an API key (`timeline keys create` or `timeline keys local`) unless "
        "TIMELINE_PUBLIC_READS=1 makes reads public. The database must be migrated first "
        "(`timeline migrate`). Ctrl-C stops it cleanly.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--no-projections",
        dest="projections",
        action="store_false",
        help="do not run the projection runners here (run `timeline project` elsewhere)",
    )
    serve.add_argument(
        "--server",
        choices=[server.value for server in servers.AsgiServer],
        default=servers.DEFAULT_SERVER.value,
        help="the ASGI server (default: %(default)s, the faster one here: bench/http.py)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes, each with its own pool and in-memory views (granian only; "
        "default: %(default)s)",
    )

    migrate = sub.add_parser(
        "migrate",
        help="apply the database migrations",
        description="Upgrade the database schema to the newest migration, or with --down "
        "downgrade it to the given alembic revision ('base' removes every table). Runs as "
        "the owner (TIMELINE_OWNER_DATABASE_URL). First it creates the service role "
        "timeline_service (and the role TIMELINE_DATABASE_URL logs in as, a member of it) "
        "if they are missing; if the owner may not create roles, it prints the statements "
        "to run as a role that may, and exits with status 2 having migrated nothing.",
    )
    migrate.add_argument("--down", metavar="REVISION", help="downgrade to REVISION instead")

    sub.add_parser(
        "demo",
        help="load the demo reports from the seed article",
        description="Record the claims of the seed article (Reuters, 23 November 2024, on the "
        "Kursk incursion) as reports. Running it again adds nothing.",
    )

    log = sub.add_parser(
        "log",
        help="print the global event log",
        description="Print the event log in order: position, recorded-at, type, report id and a "
        "summary; with --json, one JSON object per event per line.",
    )
    log.add_argument(
        "--from",
        dest="from_position",
        type=int,
        default=0,
        metavar="POSITION",
        help="print events after this log position (default: from the start)",
    )
    log.add_argument("--limit", type=int, default=None, metavar="N", help="print at most N events")
    log.add_argument("--json", action="store_true", help="one JSON object per line")

    project = sub.add_parser(
        "project",
        help="keep the projection views up to date (a worker)",
        description="Run the projection runners until Ctrl-C: each view is folded from the log "
        f"and kept up to date as events are recorded. Views: {', '.join(VIEWS)}. Any number of "
        "workers may run; one runner per view is active at a time, the others wait to take over.",
    )
    project.add_argument(
        "--view", action="append", choices=sorted(VIEWS), help="only this view (repeatable)"
    )

    status = sub.add_parser(
        "status",
        help="show each view's position, lag and state",
        description="Show each projection view's serving generation, its position in the log, "
        "how many events it lags behind, and whether a runner is working on it.",
    )
    status.add_argument("--json", action="store_true", help="one JSON object per view per line")

    rebuild = sub.add_parser(
        "rebuild",
        help="rebuild views from the whole log under a new generation",
        description="Fold the whole log anew into a new generation of each named view while the "
        "current one keeps serving, then switch to it in one transaction. Use after a change "
        "to a view's code.",
    )
    rebuild.add_argument("views", nargs="*", metavar="VIEW", help=f"views: {', '.join(VIEWS)}")
    rebuild.add_argument("--all", action="store_true", help="rebuild every view")

    replay = sub.add_parser(
        "replay",
        help="a view as known at a time or log position, as it was on a date",
        description="Rebuild one view in memory from the log as it stood when it held only the "
        "events recorded at or before --known-at (transaction time) or --position, and show it "
        "as it was on --as-of (valid time: what had happened by then), from what its sources "
        "had published by --reported-by (a report counts from its reported time; a dataset's "
        "later release corrects it from that release's date). The same question gives "
        "byte-identical output every time.",
    )
    replay.add_argument("--view", required=True, choices=sorted(VIEWS), help="the view")
    replay.add_argument(
        "--known-at", metavar="TIME", help="e.g. 2024-11-24T00:00:00Z (with a time zone)"
    )
    replay.add_argument("--position", type=int, metavar="N", help="a log position")
    replay.add_argument("--as-of", metavar="DATE", help="e.g. 2024-09-01 or a time with a zone")
    replay.add_argument(
        "--reported-by", metavar="DATE", help="e.g. 2024-11-23 or a time with a zone"
    )
    replay.add_argument("--json", action="store_true", help="canonical JSON (the default)")

    explain.add_parser(sub)
    imports.add_parser(sub)
    keys.add_parser(sub)
    quarantine.add_parser(sub)
    audit.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: dict[str, Callable[[argparse.Namespace], int]] = {
        "serve": commands.serve,
        "migrate": commands.migrate,
        "demo": lambda a: asyncio.run(commands.demo(a)),
        "log": lambda a: asyncio.run(commands.log(a)),
        "project": lambda a: asyncio.run(commands.project(a)),
        "status": lambda a: asyncio.run(commands.status(a)),
        "rebuild": lambda a: asyncio.run(commands.rebuild(a)),
        "replay": lambda a: asyncio.run(commands.replay(a)),
        "explain": lambda a: asyncio.run(explain.explain(a)),
        "import": lambda a: asyncio.run(imports.run(a)),
        "keys": lambda a: asyncio.run(keys.run(a)),
        "quarantine": lambda a: asyncio.run(quarantine.run(a)),
        "verify": lambda a: asyncio.run(audit.verify(a)),
        "export": lambda a: asyncio.run(audit.export(a)),
        "restore": audit.restore,
    }
    try:
        return run[args.command](args)
    except TimelineError as error:  # every category: its message, in one line
        print(f"timeline {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`timeline log | head`): stop quietly, as `cat` does. Point
        # stdout at /dev/null so that the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
