"""A report as a view sees it, and where it sits on the time axis.

`Tracked` is what the engine (projections/core.py) hands a view's `render` for each report
feeding a row: the report as it stands, where in the log it was filed and last changed, its
`Source` for auditors, and what the view already derived from it alone. Its `sort_key` (when
it happened, then when it was reported, then its place in the log) is the one order every
view, page and explanation uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from functools import lru_cache
from typing import TypeVar, cast
from uuid import UUID

import msgspec

from domain.occurrence import Interval, Occurrence
from domain.report import Report


def anchor(when: Occurrence) -> datetime:
    """The moment a claim is placed at on a time axis: its start, or, when the source gave
    only an end ("had arrived by Saturday"), the start of that end."""
    start = when.earliest()
    if start is not None:
        return start
    assert isinstance(when, Interval)
    assert when.end is not None  # an interval always has a start or an end
    return when.end.earliest()


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC, as msgspec writes a row's other times ("2024-11-22T00:00:00Z")."""
    # Rows repeat the same days over and over, and a rebuild renders hundreds of thousands
    # of rows. Only fixed offsets are remembered: equal times then are the same instant.
    if type(moment.tzinfo) is timezone:
        return _iso_remembered(moment)
    return _iso(moment)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_iso_remembered = lru_cache(maxsize=1 << 16)(_iso)


def occurred_date(report: Report) -> str:
    """Where a report sits on a time axis, as an ISO instant in UTC."""
    return iso(anchor(report.occurred))


class Source(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Where a row's figure came from: enough for a reader to judge it and an auditor to
    find it in the log."""

    report_id: UUID
    filed_at_position: int
    last_changed_at_position: int
    recorded_at: datetime


_T = TypeVar("_T")


@dataclass(slots=True, eq=False)
class Tracked:
    """A report as a view sees it: its current state and where in the log it stands.

    It also remembers what a view derives from the report alone (`derived`), so that a row
    fed by thousands of reports re-renders from pieces already made: only the reports that
    changed since are worked out again. `update` forgets them when the report changes."""

    report: Report
    filed_at_position: int
    last_position: int
    filed_recorded_at: datetime
    keys: tuple[str, ...]
    _order: tuple[datetime, datetime, int] | None = field(init=False, default=None, repr=False)
    _derived: dict[Callable[[Tracked], object], object] | None = field(
        init=False, default=None, repr=False
    )
    _source: Source | None = field(init=False, default=None, repr=False)

    def update(self, report: Report, position: int, order: tuple[datetime, datetime, int]) -> bool:
        """The report after an event at `position`, with its `sort_key` (worked out by the
        caller before anything changed, as it may fail); returns whether its order changed."""
        self.report = report
        self.last_position = position
        self._derived = None
        self._source = None
        before, self._order = self._order, order
        return before is not None and order != before

    def placed(self, order: tuple[datetime, datetime, int]) -> None:
        """Its `sort_key`, worked out by the caller (before anything changed: it may fail)."""
        self._order = order

    @property
    def order(self) -> tuple[datetime, datetime, int]:
        """`sort_key()`, remembered: sorting a row's reports is the engine's most repeated
        work, and most reports never change."""
        order = self._order
        if order is None:
            order = self._order = self.sort_key()
        return order

    @property
    def source(self) -> Source:
        source = self._source
        if source is None:
            source = self._source = Source(
                report_id=self.report.id,
                filed_at_position=self.filed_at_position,
                last_changed_at_position=self.last_position,
                recorded_at=self.filed_recorded_at,
            )
        return source

    def derived(self, make: Callable[[Tracked], _T]) -> _T:
        """`make(self)`, made once until the report changes. `make` must depend on this
        entry alone (its report and positions), like a row's point for one report."""
        remembered = self._derived
        if remembered is None:
            remembered = self._derived = {}
        elif make in remembered:
            return cast(_T, remembered[make])
        value = remembered[make] = make(self)
        return value

    def sort_key(self) -> tuple[datetime, datetime, int]:
        """Order of occurrence, then of reporting, then of the log: a stable total order."""
        return sort_key(self.report, self.filed_at_position)


def sort_key(report: Report, filed_at_position: int) -> tuple[datetime, datetime, int]:
    """`Tracked.sort_key` of `report` filed at `filed_at_position`."""
    return anchor(report.occurred), anchor(report.reported), filed_at_position
