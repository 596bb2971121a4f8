"""The keys of a view's rows, and the day rows of a view's history.

A key is made from human names (`slug`), stored as PostgreSQL text (`check_key`), and for an
aggregate view's history, one row per key and day beside the aggregate row (`daily_key`),
put together from what each report gives its day (`DayPiece`, `day_row`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar

import msgspec

from domain.report import Report
from projections.tracked import Source, Tracked, occurred_date

# PostgreSQL text cannot hold NUL, and a key longer than this could overflow the primary
# key's index entry (at most 2,704 bytes, 4 bytes a character at worst).
MAX_KEY_CHARACTERS = 600


class UnstorableKey(ValueError):
    """A row key the database could not store."""


def check_key(key: str) -> str:
    if "\x00" in key:
        raise UnstorableKey(f"row key {key!r} holds a NUL character (PostgreSQL text cannot)")
    if len(key) > MAX_KEY_CHARACTERS:
        raise UnstorableKey(f"a row key of {len(key)} characters (at most {MAX_KEY_CHARACTERS})")
    return key


def day_of(report: Report) -> str:
    """The day a report sits in on a time axis, in UTC: "2024-08-06". Aggregate views keep
    their history one row per key and day, so that a row stays small however long the war
    lasts and however many reports a month brings (a month of a busy series at 10^6 events
    held 2,900 reports, 670 kB rewritten by every batch that touched it), and a batch
    rewrites only the days it touched."""
    return occurred_date(report)[:10]


def daily_key(key: str, report: Report) -> str:
    """The key of `report`'s day row beside an aggregate row: "kursk-oblast/ukraine/2024-08-06"."""
    return f"{key}/{day_of(report)}"


def day_in(key: str) -> str:
    return key.rsplit("/", 1)[1]


@lru_cache(maxsize=1 << 14)  # a few thousand names, over and over
def slug(*parts: str) -> str:
    """A stable row key from human names: ("Kursk Oblast", "Ukraine") -> "kursk-oblast/ukraine"."""
    return "/".join("-".join(part.lower().split()) for part in parts)


_P = TypeVar("_P")

# The most points a history's day row lists: its latest reports of the day, in the fold's
# order. A day of a real conflict brings a handful of reports per series; a flood of
# filings on one day (a script, a bulk import, a benchmark) would otherwise make a row
# that grows with every report, rewritten whole by every batch that touches it (50,000
# filings of one claim made a 5 MB row, and each batch slower than the one before).
DAY_POINTS = 500


class DayPiece(msgspec.Struct, Generic[_P], frozen=True, kw_only=True, gc=False):
    """What one report gives its day row in a history, worked out from that report alone:
    the names it gives the row's subject, and its point when it stands (else its source, as
    a withdrawn report). A day row is its reports' pieces put together (`day_row`), so
    a runner can keep each report's piece with its version (projections/history.py,
    `Pieced`) and put a row together again without folding the day's reports."""

    names: tuple[str, ...]
    point: _P | None = None  # the report stands: its point on the chart
    withdrawn: Source | None = None  # the report was withdrawn: kept for auditors


class DayRow(NamedTuple, Generic[_P]):
    """A day row of a history, from the pieces of the latest reports feeding it, in order."""

    day: str
    names: tuple[str, ...]  # the latest standing report's (else the latest's)
    points: tuple[_P, ...]  # one per standing report
    retracted: tuple[Source, ...]  # withdrawn, kept for auditors, never plotted
    earlier_reports: bool  # the day has reports before these, not listed (explain has all)


def day_piece(tracked: Tracked, names: tuple[str, ...], point: Callable[[], _P]) -> DayPiece[_P]:
    """The piece of `tracked`'s report: `point()` when it stands."""
    if tracked.report.is_retracted:
        return DayPiece(names=names, withdrawn=tracked.source)
    return DayPiece(names=names, point=point())


def day_row(key: str, pieces: Sequence[DayPiece[_P]], most: int = DAY_POINTS) -> DayRow[_P]:
    """The row of the latest `most` pieces of the day: what `most + 1` pieces decide (the
    last of the day's reports, and whether there were more), so a runner reads no more."""
    shown = pieces[-most:]
    points = tuple(piece.point for piece in shown if piece.point is not None)
    named = next((piece for piece in reversed(shown) if piece.point is not None), shown[-1])
    return DayRow(
        day=day_in(key),
        names=named.names,
        points=points,
        retracted=tuple(piece.withdrawn for piece in shown if piece.withdrawn is not None),
        earlier_reports=len(pieces) > most,
    )
