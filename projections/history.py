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
index (`Indexed`'s classes; `relevant_ids` says the rule in Python, projections/
past_answers.py in SQL), folds those reports' own events again and renders: the same fold
and the same `render` as a replay, over a handful of reports instead of the log.

The rule a view must keep, property-tested for each one: `render` of a key's reports gives
the same row as `render` of the versions its classes pick, for any position and date.

A history's day row needs every report of its day, dozens at 10^6 events: such a view
(`Pieced`) keeps with each version the report's piece of its row (migration 0012), and its
rows, live or past, are put together from the pieces of the versions holding, without a fold.

Versions are recorded by the fold itself (`ViewState.history`, told by projections/core.py
of each version as it is made, `HistoryLog`), so the live runner, a rebuild and its catch-up
record exactly the versions the view's state went through, skipped events included.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, ClassVar, NamedTuple, Protocol, TypeGuard
from uuid import UUID

import asyncpg
import msgspec

from domain.report import Report
from projections.core import View, ViewState
from projections.timeline_entries import copy_superseded, write_superseded
from projections.tracked import Tracked

log = logging.getLogger("timeline.projections")

# A version that still holds: up to the largest position PostgreSQL's bigint can hold.
STILL_HOLDS = 2**63 - 1
# The class of every version of a view whose rows are each one report's.
OWN_ROW = 1
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
    together): the row is then drawn by folding its reports, which finds and notes why."""
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


def recorder(view: View) -> HistoryLog | ReplacedRows | None:
    """What records the versions `view` keeps, for its state; None if it keeps none."""
    if (picking := indexed(view)) is not None:
        return HistoryLog(picking, picking.relevance)
    if keeps_replaced(view):
        return ReplacedRows(view)
    if one_report_per_key(view):
        return HistoryLog(view, _own_row)
    return None


def _own_row(report: Report, filed_at_position: int) -> Relevance:
    """A row drawn from its own report alone: every version is its row's, grouped by the
    claim's kind (which a correction keeps), so that a past page of some kinds only walks
    theirs."""
    return Relevance(kind=OWN_ROW, group=report.kind)


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


# --- recording ----------------------------------------------------------------------------


class Version(NamedTuple):
    """One row of `report_versions`, without its view and generation (`COLUMNS` order)."""

    key: str
    group: str
    kind: int
    occurred_at: datetime
    reported_at: datetime
    filed_position: int
    report_id: UUID
    from_position: int
    to_position: int
    counts_from: datetime
    rank: bytes | None
    piece: bytes | None  # a `Pieced` view's piece of the report at this version


COLUMNS = (
    "view",
    "generation",
    "key",
    "grp",
    "class",
    "occurred_at",
    "reported_at",
    "filed_position",
    "report_id",
    "from_position",
    "to_position",
    "counts_from",
    "rank",
    "piece",
)


class Closed(NamedTuple):
    """A version written earlier that stopped holding at `to_position`."""

    report_id: UUID
    key: str
    from_position: int
    to_position: int


@dataclass(slots=True)
class HistoryBatch:
    """What a batch adds to a view's history: new versions (complete, or still holding) and
    the end of versions already written; or the rows it replaced, each with the position it
    stopped holding at (`ReplacedRows`)."""

    versions: list[Version] = field(default_factory=list)
    closed: list[Closed] = field(default_factory=list)
    replaced: list[tuple[msgspec.Struct, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.versions or self.closed or self.replaced)


class HistoryLog:
    """`ViewState.history` for an indexed view: the versions the fold makes, until taken.

    A version made and replaced within the same batch is written once, complete; one written
    in an earlier batch is closed (`Closed`)."""

    __slots__ = ("_classed", "_closed", "_open", "_pieced", "view")

    def __init__(self, view: View, classed: Callable[[Report, int], Relevance]) -> None:
        self.view = view
        self._classed = classed
        self._pieced = pieced(view)
        self._open: dict[tuple[UUID, str, int], Version] = {}
        self._closed: list[Closed] = []

    def opened(self, tracked: Tracked) -> None:
        report = tracked.report
        try:
            relevance = self._classed(report, tracked.filed_at_position)
        except Exception:  # the fold took the report: every past answer must have it too
            log.exception("%s: no class for report %s", self.view.name, report.id)
            relevance = Relevance(kind=ALWAYS)
        occurred, reported, filed = tracked.order
        counts_from = relevance.counts_from or occurred
        piece = None if self._pieced is None else piece_of(self._pieced, tracked)
        for key in tracked.keys:
            self._open[(report.id, key, tracked.last_position)] = Version(
                key,
                relevance.group,
                relevance.kind,
                occurred,
                reported,
                filed,
                report.id,
                tracked.last_position,
                STILL_HOLDS,
                counts_from,
                relevance.rank,
                piece,
            )

    def closing(self, tracked: Tracked, position: int) -> None:
        report_id, since = tracked.report.id, tracked.last_position
        for key in tracked.keys:
            version = self._open.pop((report_id, key, since), None)
            if version is None:
                self._closed.append(Closed(report_id, key, since, position))
            else:
                self._open[(report_id, key, since)] = version._replace(to_position=position)

    def take(self) -> HistoryBatch:
        """What was recorded since the last call."""
        batch = HistoryBatch(list(self._open.values()), self._closed)
        self._open, self._closed = {}, []
        return batch


class ReplacedRows:
    """`ViewState.history` for a view whose rows are each one report's and that keeps the
    rows it replaced (the timeline): told that a report's version is closing, before the
    report changes, it renders the row that version showed, which held from the version's
    position up to `position`. Every version but the last of each report is thus kept, the
    ones made and replaced within one batch included, as a past answer at any position
    needs them."""

    __slots__ = ("_replaced", "view")

    def __init__(self, view: View) -> None:
        self.view = view
        self._replaced: list[tuple[msgspec.Struct, int]] = []

    def opened(self, tracked: Tracked) -> None:
        pass  # the row it shows is written with the view's rows (or replaced later)

    def closing(self, tracked: Tracked, position: int) -> None:
        for key in tracked.keys:
            try:
                row = self.view.render(key, [tracked], None)
            except Exception:  # the fold's render met the same failure: no row was shown
                log.debug("%s: no row for %s before %d", self.view.name, key, position)
                continue
            if row is not None:
                self._replaced.append((row, position))

    def take(self) -> HistoryBatch:
        batch = HistoryBatch(replaced=self._replaced)
        self._replaced = []
        return batch


def taken(state: ViewState) -> HistoryBatch | None:
    """What `state`'s history recorded since last taken; None when it keeps none."""
    history = state.history
    return history.take() if isinstance(history, HistoryLog | ReplacedRows) else None


# --- which versions a past answer needs: the rule, in Python -------------------------------


def relevant_ids(
    view: Indexed, versions: Iterable[Version], position: int, valid_time: datetime | None
) -> set[UUID]:
    """The reports whose versions a past answer at `position` and `valid_time` picks (the
    rule of `Indexed`; projections/past_answers.py asks PostgreSQL the same)."""
    latest: dict[tuple[str, str, int], Version] = {}
    top: dict[tuple[str, str, int], Version] = {}
    chosen: set[UUID] = set()
    for version in versions:
        if not version.from_position <= position < version.to_position:
            continue
        if valid_time is not None and (
            version.occurred_at > valid_time or version.counts_from > valid_time
        ):
            continue
        where = (version.key, version.group, version.kind)
        order = _order(version)
        if version.kind in view.latest_classes:
            best = latest.get(where)
            if best is None or order > _order(best):
                latest[where] = version
        if version.kind in view.top_classes and version.rank is not None:
            best = top.get(where)
            if best is None or (version.rank, order) > (best.rank or b"", _order(best)):
                top[where] = version
        if version.kind in view.all_classes or version.kind == ALWAYS:
            chosen.add(version.report_id)
    chosen.update(version.report_id for version in latest.values())
    chosen.update(version.report_id for version in top.values())
    return chosen


def _order(version: Version) -> tuple[datetime, datetime, int]:
    return version.occurred_at, version.reported_at, version.filed_position


# --- writing --------------------------------------------------------------------------------

# A runner's batches, of one view or several: the versions they ended ($1 to $6: view,
# generation, report, key, from and to position) and the ones they made, in one statement
# (a bulk load of a rebuild goes by COPY, `copy_history`).
CLOSE = """
UPDATE report_versions v SET to_position = c.to_position
FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int8[], $6::int8[])
    AS c(view, generation, report_id, key, from_position, to_position)
WHERE v.view = c.view AND v.generation = c.generation AND v.report_id = c.report_id
    AND v.key = c.key AND v.from_position = c.from_position
"""
CLOSE_AND_ADD = f"""
WITH closed AS ({CLOSE})
INSERT INTO report_versions ({", ".join(COLUMNS)})
SELECT * FROM unnest(
    $7::text[], $8::int[], $9::text[], $10::text[], $11::int2[], $12::timestamptz[],
    $13::timestamptz[], $14::int8[], $15::uuid[], $16::int8[], $17::int8[],
    $18::timestamptz[], $19::bytea[], $20::bytea[]
) AS a
"""
DELETE_GENERATION = "DELETE FROM report_versions WHERE view = $1 AND generation = $2"


async def write_history(
    connection: asyncpg.Connection, view: str, generation: int, batch: HistoryBatch
) -> None:
    """A batch's versions, inside the caller's transaction (the one that moves the view's
    position, so the history always holds exactly the events up to it): one round trip."""
    await write_histories(connection, [(view, generation, batch)])


async def write_histories(
    connection: asyncpg.Connection, batches: Sequence[tuple[str, int, HistoryBatch]]
) -> None:
    """Several views' batches of versions (view, generation, batch), in one round trip."""
    for _, generation, batch in batches:
        if batch.replaced:
            await write_superseded(connection, generation, batch.replaced)
    closed = [
        (view, generation, *ended) for view, generation, batch in batches for ended in batch.closed
    ]
    added = [
        (view, generation, *version)
        for view, generation, batch in batches
        for version in batch.versions
    ]
    if not (closed or added):
        return
    await connection.execute(
        CLOSE_AND_ADD,
        *(list(column) for column in zip(*closed, strict=True)) if closed else ([],) * 6,
        *(list(column) for column in zip(*added, strict=True)) if added else ([],) * 14,
    )


async def copy_history(
    connection: asyncpg.Connection, view: str, generation: int, batch: HistoryBatch
) -> None:
    """A rebuild's versions, by COPY inside the caller's transaction, in the order of the
    index a row's versions are read by (key, group, class, then the fold's order): a busy
    series' thousands of versions then lie in a few pages each, not one page each."""
    if batch.closed:  # a rebuild's fold starts from nothing: it closes nothing written
        raise ValueError("a rebuild's history closes no version written before it")
    if batch.replaced:
        await copy_superseded(connection, generation, batch.replaced)
    if not batch.versions:
        return
    await connection.copy_records_to_table(
        "report_versions",
        records=[(view, generation, *version) for version in sorted(batch.versions, key=_placed)],
        columns=COLUMNS,
    )


def _placed(version: Version) -> tuple[str, str, int, datetime, datetime, int]:
    return (
        version.key,
        version.group,
        version.kind,
        version.occurred_at,
        version.reported_at,
        version.filed_position,
    )


async def delete_generation_history(
    connection: asyncpg.Pool | asyncpg.Connection, view: str, generation: int
) -> None:
    await connection.execute(DELETE_GENERATION, view, generation)
