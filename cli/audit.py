"""`timeline verify`, `timeline export` and `timeline restore`: auditing the log."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import BinaryIO, TextIO

import asyncpg
import msgspec

from cli.commands import UsageError, log_position
from cli.progress import REDRAW_SECONDS, bar
from store.chain import verify_chain
from store.database import create_pool, resolve_database
from store.export import RestoreRefused, export_log, restore_log

# Without a terminal, progress is shown only for logs this long (a line per tenth).
LONG_LOG = 100_000
READ_CHUNK = 1 << 20


class ExportProgress:
    """How far an export has come, on stderr: on a terminal a bar redrawn in place; elsewhere,
    for a long log, a line per tenth of it; otherwise nothing."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.terminal = stream.isatty()
        self.drawn = False
        self.last_tenth = 0
        self.last_drawn = 0.0

    def __call__(self, position: int, through: int) -> None:
        if not (self.terminal or through >= LONG_LOG):
            return
        share = position / through
        if self.terminal:
            now = time.monotonic()
            if now - self.last_drawn >= REDRAW_SECONDS or position >= through:
                self.last_drawn, self.drawn = now, True
                self.stream.write(f"\r{bar(share)} {share:4.0%}  position {position:,}/{through:,}")
                self.stream.flush()
        elif (tenth := int(share * 10)) > self.last_tenth:
            self.last_tenth = tenth
            print(f"timeline export: {share:.0%}, position {position:,}", file=self.stream)

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify_parser = sub.add_parser(
        "verify",
        help="recompute the log's chain of hashes and report the first break",
        description="Recompute every event's chain hash from its stored content and the "
        "previous event's hash, in log order. Prints 'intact up to position N, head hash H' "
        "(exit status 0) or the first position where the chain breaks and why (exit status "
        "1): an event changed or deleted after it was recorded. Keep the head hash elsewhere "
        "to also show later that the log was not cut short or rewritten whole.",
    )
    verify_parser.add_argument(
        "--until-position", type=int, metavar="N", help="verify only up to position N"
    )
    verify_parser.add_argument("--json", action="store_true", help="the result as JSON")

    export_parser = sub.add_parser(
        "export",
        help="write the log, with its chain hashes, as newline-delimited JSON",
        description="Write the canonical log to standard output, one JSON object per event in "
        "log order: position, recorded_at, report_id, version, type, state (the stored event, "
        "byte for byte) and chain_hash. Progress goes to standard error. Restore the file "
        "into an empty store with `timeline restore`.",
    )
    export_parser.add_argument(
        "--until-position", type=int, metavar="N", help="export only up to position N"
    )

    restore_parser = sub.add_parser(
        "restore",
        help="load an exported log into an empty store",
        description="Load a file written by `timeline export` into an empty store: the same "
        "events at the same positions with the same chain hashes. The file's chain is "
        "verified as it is read; a file that does not verify, or a store that already holds "
        "events, is refused and nothing is written. The views then fill as the runners catch "
        "up, or with `timeline rebuild --all`.",
    )
    restore_parser.add_argument("file", help="the exported log ('-' for standard input)")


async def verify(args: argparse.Namespace) -> int:
    log_position(args.until_position, "--until-position")
    pool = await create_pool(resolve_database(), min_size=1, max_size=1)
    try:
        result = await verify_chain(pool, through=args.until_position)
    finally:
        await pool.close()
    if args.json:
        sys.stdout.buffer.write(msgspec.json.encode(result) + b"\n")
    else:
        print(f"timeline: {result.describe()}")
    return 0 if result.intact else 1


async def export(args: argparse.Namespace) -> int:
    log_position(args.until_position, "--until-position")
    pool = await create_pool(resolve_database(), min_size=1, max_size=1)
    try:
        progress = ExportProgress(sys.stderr)
        try:
            summary = await export_log(
                pool, sys.stdout.buffer, through=args.until_position, progress=progress
            )
        finally:
            progress.close()
    finally:
        await pool.close()
    sys.stdout.buffer.flush()
    print(
        f"timeline: exported {summary.events} events, up to position {summary.through}",
        file=sys.stderr,
    )
    return 0


def restore(args: argparse.Namespace) -> int:
    if args.file == "-":
        return asyncio.run(_restore(sys.stdin.buffer))
    try:
        source = Path(args.file).open("rb")  # noqa: SIM115  (closed below, after the run)
    except OSError as error:
        raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
    with source:
        return asyncio.run(_restore(source))


async def _restore(source: BinaryIO) -> int:
    # Restoring writes events with their recorded positions and chain hashes, which
    # timeline_append (the service role's only way in) never does: the owner restores.
    pool = await create_pool(resolve_database().as_owner(), min_size=1, max_size=1)
    try:
        result = await restore_log(pool, _chunks(source))
    except asyncpg.InsufficientPrivilegeError:
        raise RestoreRefused(
            "only the schema's owner may restore (it writes events with their recorded "
            "positions and chain hashes): set TIMELINE_OWNER_DATABASE_URL to the owner's URL"
        ) from None
    finally:
        await pool.close()
    print(
        f"timeline: restored {result.events} events, {result.describe()}; the views fill as "
        "the runners catch up (`timeline serve` or `timeline project`), or `timeline rebuild --all`"
    )
    return 0


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    return iter(partial(source.read, READ_CHUNK), b"")
