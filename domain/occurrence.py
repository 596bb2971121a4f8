"""When something happened, at the precision the source gave it.

"Shortly before midnight on Friday" is an instant, "on Saturday" a day, "in August" a month,
"since July last year" an interval open at its end.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import msgspec

from domain.errors import InvalidReport
from domain.limits import FIRST_YEAR, LAST_YEAR, YEAR, Range
from domain.passed import once_per_value


class Instant(
    msgspec.Struct, frozen=True, kw_only=True, gc=False, tag="instant", tag_field="precision"
):
    at: datetime

    def earliest(self) -> datetime:
        return self.at

    def latest(self) -> datetime:
        return self.at


class Day(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
    tag="day",
    tag_field="precision",
):
    on: date

    def earliest(self) -> datetime:
        return datetime.combine(self.on, time.min, tzinfo=UTC)

    def latest(self) -> datetime:
        return datetime.combine(self.on + timedelta(days=1), time.min, tzinfo=UTC)


class Month(
    msgspec.Struct, frozen=True, kw_only=True, gc=False, tag="month", tag_field="precision"
):
    year: Annotated[int, YEAR]
    month: Annotated[int, Range(1, 12)]

    def earliest(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    def latest(self) -> datetime:
        days = calendar.monthrange(self.year, self.month)[1]
        return self.earliest() + timedelta(days=days)


Bound = Instant | Day | Month


class Interval(
    msgspec.Struct, frozen=True, kw_only=True, gc=False, tag="interval", tag_field="precision"
):
    """A span; either end may be open ("since July 2023" has no end)."""

    start: Bound | None = None
    end: Bound | None = None

    def earliest(self) -> datetime | None:
        return None if self.start is None else self.start.earliest()

    def latest(self) -> datetime | None:
        return None if self.end is None else self.end.latest()


Occurrence = Instant | Day | Month | Interval


def _ends_before(end: Bound, start: Bound) -> bool:
    # A day's or a month's latest() is the first moment after it; an instant's is itself.
    finish = end.latest()
    return finish < start.earliest() if isinstance(end, Instant) else finish <= start.earliest()


def _within_calendar(when: Instant | Day | Month, field: str) -> None:
    # Each time must be a real moment, in UTC too, and so must the first moment after it
    # (a day's or a month's end): the folds compare and order them.
    try:
        if isinstance(when, Instant):
            when.at.astimezone(UTC)
        when.latest()
    except (OverflowError, ValueError):
        raise InvalidReport(
            field,
            f"must fall between {FIRST_YEAR:04}-01-01 and {LAST_YEAR}-12-31 in UTC, "
            "and end before the calendar does",
        ) from None


@once_per_value
def validate_occurrence(when: Occurrence, field: str) -> None:
    """Check the rules msgspec's types cannot express."""
    if isinstance(when, Instant) and when.at.tzinfo is None:
        raise InvalidReport(
            f"{field}.at", "an instant needs a time zone offset, e.g. 2024-11-22T21:45:00Z"
        )
    if isinstance(when, Month) and not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise InvalidReport(
            f"{field}.year", f"must be between {FIRST_YEAR} and {LAST_YEAR}, got {when.year}"
        )
    if isinstance(when, Month) and not 1 <= when.month <= 12:
        raise InvalidReport(f"{field}.month", f"must be between 1 and 12, got {when.month}")
    if not isinstance(when, Interval):
        _within_calendar(when, field)
    if isinstance(when, Interval):
        if when.start is None and when.end is None:
            raise InvalidReport(field, "an interval needs a start, an end or both")
        for name, bound in (("start", when.start), ("end", when.end)):
            if bound is not None:
                validate_occurrence(bound, f"{field}.{name}")
        if when.start is not None and when.end is not None and _ends_before(when.end, when.start):
            raise InvalidReport(f"{field}.end", "an interval must not end before it starts")


@once_per_value
def validate_reported(when: Occurrence, field: str) -> None:
    """A report is made at a moment or on a day, never over an interval."""
    if isinstance(when, Interval | Month):
        raise InvalidReport(field, "the reporting time must be an instant or a day")
    validate_occurrence(when, field)
