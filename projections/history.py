"""The reports behind the aggregate views, versioned in time: what their past is read from.

A past-tense question ("holdings as known at T", "as of 1 September", "at position N") used
to fold the whole log in the request. An aggregate row, though, needs few of the reports that
feed it: a holding shows its latest "current" claim, its latest claimed peak (or the highest
current figure) and names from the latest standing claim; a running total shows each
source's latest tally. So every version of every report such a view follows is kept in
`report_versions` (migration 0011), as bitemporal databases keep versions of a row: the log
positions between which it held (transaction time), its place in the fold's order and the
valid time from which it counts, and how the view classes it. A past answer then picks, for
each row key, the few versions the view's `render` needs at that position and date, by
index (`Indexed`'s classes; `history_recording.relevant_ids` says the rule in Python,
projections/version_picks.py in SQL), folds those reports' own events again and renders:
the same fold and the same `render` as a replay, over a handful of reports instead of the
log.

The rule a view must keep, property-tested for each one: `render` of a key's reports gives
the same row as `render` of the versions its classes pick, for any position and date.

A history's day row needs the latest reports of its day (up to `row_keys.DAY_POINTS`; a
handful on a real day): such a view (`Pieced`) keeps with each version the report's piece
of its row (migration 0012), and its rows, live or past, are put together from the pieces
of the versions holding, without a fold.

Versions are recorded by the fold itself (`ViewState.history`, told by projections/core.py
of each version as it is made: projections/history_recording.py), so the live runner, a
rebuild and its catch-up record exactly the versions the view's state went through, skipped
events included; projections/history_writes.py writes them. This module holds what a view
declares of its past: how it classes a version (`Relevance`, the ranks), which kind of past
it keeps (`Indexed`, `Pieced`, `keeps_versions`, `keeps_replaced`).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, ClassVar, NamedTuple, Protocol, TypeGuard

import msgspec

from domain.report import Report
from projections.core import View
from projections.row_keys import DAY_POINTS
from projections.tracked import Tracked

log = logging.getLogger("timeline.projections")

# The class of a version the view could not class (its `relevance` failed): picked by every
# answer, since a row drawn from more of its reports than it needs is the same row.
ALWAYS = -1
_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


class Relevance(NamedTuple):
    """How a view classes one version of a report, for its past answers."""

    kind: int  # the view's class of the report (1, 2, ...): which of its picks it enters
    group: str = ""  # classes kept apart per group (a running total's source)
    rank: bytes | None = None  # for a class picked by its highest: bytes compared as such
    counts_from: datetime | None = None  # the earliest `as_of` it counts at; None: occurred


class EveryReportOfItsDay:
    """The pasts of a history whose day row shows every report of its day: one class of
    relevance, every report of it kept (the histories by day: holdings-series,
    forces-history, front-series)."""

    latest_classes: ClassVar[tuple[int, ...]] = ()
    top_classes: ClassVar[tuple[int, ...]] = ()
    all_classes: ClassVar[tuple[int, ...]] = (1,)

    def relevance(self, report: Report, filed_at_position: int) -> Relevance:
        return Relevance(kind=1)


class LatestOfItsDay(EveryReportOfItsDay):
    """The pasts of a history of points by day (holdings-series, forces-history,
    front-series), whose day row lists its latest `day_points` reports
    (`row_keys.day_row`): a runner reads the pieces of the latest `day_points + 1` versions
    of a row (`pieces_read`), and `render` draws it from as many reports. The fold's order
    is (occurred, reported, filed) within one class and group, the only ones such a view
    has, so the latest are found by index, however busy the day."""

    day_points: ClassVar[int] = DAY_POINTS

    def latest_of_day(self, reports: Sequence[Tracked]) -> Sequence[Tracked]:
        return reports[-(self.day_points + 1) :]


def pieces_read(view: View) -> int | None:
    """How many of a row's latest pieces a runner reads to put it together; None: all."""
    return view.day_points + 1 if isinstance(view, LatestOfItsDay) else None


class Indexed(View, Protocol):
    """A view whose past answers are read from its reports' versions.

    For every row key, group and class, a past answer at position N and valid time D picks,
    among the versions holding at N that had occurred by D and count by D:
    - for each class in `latest_classes`, the latest in the fold's order;
    - for each class in `top_classes`, the one of highest `rank` (the latest among equals);
    - for each class in `all_classes`, every one.
    Class 0 is picked by none of them: a version the rows never need (a withdrawn claim),
    kept so that an explanation lists every report behind a row. A version the view could
    not class (`ALWAYS`) is picked by every answer."""

    latest_classes: ClassVar[tuple[int, ...]]
    top_classes: ClassVar[tuple[int, ...]]
    all_classes: ClassVar[tuple[int, ...]]

    def relevance(self, report: Report, filed_at_position: int) -> Relevance: ...


class Pieced(Indexed, Protocol):
    """An indexed view whose row is its reports' pieces put together: a day of a history,
    which shows every report of its day (`row_keys.DayPiece`).

    `render(key, reports, as_of)` must be `assemble(key, [piece(t) for t in reports])`. Each
    version then keeps its report's piece (`report_versions.piece`), and a runner's batch puts
    a touched row together from the pieces of the versions holding, read in the fold's order
    by index, without folding the reports of a busy day again."""

    piece_type: ClassVar[type]  # what a piece decodes to

    def piece(self, tracked: Tracked) -> msgspec.Struct: ...

    def assemble(self, key: str, pieces: Sequence[Any]) -> msgspec.Struct | None: ...


def pieced(view: View) -> Pieced | None:
    """`view` if its rows are put together from pieces kept with its reports' versions."""
    return view if _is_pieced(view) else None


def _is_pieced(view: View) -> TypeGuard[Pieced]:
    return _is_indexed(view) and hasattr(view, "assemble")


def piece_of(view: Pieced, tracked: Tracked) -> bytes | None:
    """The piece of `tracked`'s report as kept with its version; None when the view cannot
    make it (the row is then drawn by folding its reports, which notes why)."""
    try:
        return _ENCODER.encode(tracked.derived(view.piece))
    except Exception:  # the fold's render meets the same failure, and quarantines it
        return None


_ENCODER = msgspec.json.Encoder()


@cache  # one per view
def piece_decoder(piece_type: type) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(piece_type)


def put_together(view: Pieced, key: str, pieces: Sequence[bytes | None]) -> msgspec.Struct | None:
    """The row of `key` put together from its reports' kept pieces, in the fold's order;
    None when it cannot be (a piece the view could not make, or pieces it cannot put
    together): the row is then drawn by folding its reports, which finds and notes why. Of a
    history of points by day, only the latest pieces its row needs are looked at, as a
    runner reads them (`pieces_read`): a past answer about a flooded day decodes no more."""
    most = pieces_read(view)
    if most is not None:
        pieces = pieces[-most:]
    if None in pieces:
        return None
    decode = piece_decoder(view.piece_type).decode
    try:
        return view.assemble(key, [decode(piece) for piece in pieces if piece is not None])
    except Exception:
        log.debug("%s: row %s drawn by folding", view.name, key, exc_info=True)
        return None


def indexed(view: View) -> Indexed | None:
    """`view` if it keeps its reports' versions, else None."""
    return view if _is_indexed(view) else None


def _is_indexed(view: View) -> TypeGuard[Indexed]:
    return hasattr(view, "relevance")


def picks_few(view: Indexed) -> bool:
    """Whether a row needs a few of its reports (the view picks latest or highest ones): its
    past answers fold the few reports the versions pick. A view whose rows need every
    report of theirs (a day of a history) is `Pieced`: its rows are put together from the
    pieces its versions keep."""
    return bool(view.latest_classes or view.top_classes)


def one_report_per_key(view: View) -> bool:
    """Whether each row of `view` is drawn from its own report alone (the timeline's, the
    strikes'): a batch redraws its rows from the batch's own reports, no versions needed."""
    return bool(getattr(view, "one_report_per_key", False))


def stateless(view: View) -> bool:
    """Whether a runner keeps `view` with nothing held between batches
    (projections/versioned_batches.py) rather than folding the whole log into memory."""
    return indexed(view) is not None or one_report_per_key(view)


def keeps_versions(view: View) -> bool:
    """Whether `view` keeps its reports' versions (`HistoryLog`): an indexed view, for the
    few its rows need; the strikes, whose rows are each one report's, so that a past page is
    found by index and only its own reports are folded (projections/past_pages.py)."""
    return indexed(view) is not None or (one_report_per_key(view) and not keeps_replaced(view))


def keeps_replaced(view: View) -> bool:
    """Whether `view` keeps the rows it replaced instead (`ReplacedRows`): the timeline, whose
    past pages are read as its live ones are, from rows with their filters as columns."""
    return bool(getattr(view, "keeps_replaced_rows", False))


# --- ranks: bytes that sort as the values do ---------------------------------------------


def float_rank(value: float) -> bytes:
    """IEEE 754 bits, reordered so that bytes compare as the numbers do (-0.0 as 0.0, which
    it equals)."""
    (bits,) = struct.unpack(">Q", struct.pack(">d", value + 0.0))
    bits = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | 1 << 63
    return struct.pack(">Q", bits)


def moment_rank(moment: datetime) -> bytes:
    """Microseconds since year 1, UTC."""
    delta = moment - _EPOCH
    return struct.pack(">Q", (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def day_rank(day: date) -> bytes:
    return struct.pack(">I", day.toordinal())


def position_rank(position: int) -> bytes:
    return struct.pack(">Q", position)
