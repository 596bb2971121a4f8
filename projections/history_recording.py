"""A view's history as its fold makes it: each version of a report, from the event that made
it to the one that replaced it (`HistoryLog`), or the rows a view replaced (`ReplacedRows`),
taken by each batch (`taken`) for projections/history_writes.py to write; and the rule by
which a past answer picks versions, in Python (`relevant_ids`; projections/version_picks.py
asks PostgreSQL the same).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import msgspec

from domain.report import Report
from projections.core import View, ViewState
from projections.history import (
    ALWAYS,
    Indexed,
    Relevance,
    indexed,
    keeps_replaced,
    one_report_per_key,
    piece_of,
    pieced,
)
from projections.tracked import Tracked

log = logging.getLogger("timeline.projections")

# A version that still holds: up to the largest position PostgreSQL's bigint can hold.
STILL_HOLDS = 2**63 - 1
# The class of every version of a view whose rows are each one report's.
OWN_ROW = 1


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


class Version(NamedTuple):
    """One row of `report_versions`, without its view and generation (in the order of
    `history_writes.COLUMNS`)."""

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


def relevant_ids(
    view: Indexed, versions: Iterable[Version], position: int, valid_time: datetime | None
) -> set[UUID]:
    """The reports whose versions a past answer at `position` and `valid_time` picks (the
    rule of `Indexed`; projections/version_picks.py asks PostgreSQL the same)."""
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
