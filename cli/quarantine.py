"""`timeline quarantine list|retry`: the events each view skipped, and trying them again."""

from __future__ import annotations

import argparse
import sys

import asyncpg
import msgspec

from projections import quarantine
from projections.rebuild import rebuild_views
from projections.registry import VIEWS
from store.database import create_pool, resolve_database

_encoder = msgspec.json.Encoder()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "quarantine",
        help="events a view skipped, and trying them again",
        description="A view skips an event it cannot take (it cannot be decoded, its report "
        "cannot be folded, a row key cannot be stored, a row cannot be drawn with it) and "
        "goes on; each is recorded with its position, report and error. `list` shows those "
        "not resolved; `retry` rebuilds the views concerned (after a fix of the code: restart "
        "the service first), which marks resolved every event they now take.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listed = actions.add_parser("list", help="what each view skipped and why")
    listed.add_argument("--view", choices=sorted(VIEWS), help="only this view")
    listed.add_argument("--all", action="store_true", help="resolved entries too")
    listed.add_argument("--json", action="store_true", help="one JSON object per line")
    retried = actions.add_parser("retry", help="rebuild the views with quarantined events")
    retried.add_argument("--view", choices=sorted(VIEWS), help="only this view")


async def run(args: argparse.Namespace) -> int:
    pool = await create_pool(resolve_database(), min_size=1, max_size=4)
    try:
        if args.action == "list":
            return await _list(pool, args)
        return await _retry(pool, args.view)
    finally:
        await pool.close()


async def _list(pool: asyncpg.Pool, args: argparse.Namespace) -> int:
    entries = await quarantine.listed(pool, args.view, resolved=args.all)
    for entry in entries:
        if args.json:
            sys.stdout.buffer.write(_encoder.encode(entry) + b"\n")
            continue
        row = f"row {entry.key}, " if entry.key else ""
        state = f"  [resolved: {entry.resolution}]" if entry.resolved_at else ""
        print(
            f"{entry.view:<16} {entry.position:>9}  {row}report {entry.report_id}: "
            f"{entry.error}{state}"
        )
    if not entries and not args.json:
        print("timeline: nothing is quarantined")
    return 0


async def _retry(pool: asyncpg.Pool, view: str | None) -> int:
    before = await quarantine.open_counts(pool)
    names = [view] if view is not None else sorted(before)
    if not names:
        print("timeline: nothing is quarantined")
        return 0
    await rebuild_views(pool, [VIEWS[name] for name in names])
    after = await quarantine.open_counts(pool)
    for name in names:
        left = after.get(name, 0)
        taken = max(before.get(name, 0) - left, 0)
        print(f"timeline: {name}: {taken} taken now, {left} still quarantined")
    return 0
