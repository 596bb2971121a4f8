"""The question every read may ask, parsed once: `known_at` (transaction time), `position` (a
log position), `as_of` (valid time), `reported_by` (publication time) and `min_position` (read
your own write), given to a handler as one typed `Question` by the `asked` dependency
(api/dependencies.py).

Also the parameters a few reads share: `key` (a row's key, as a reader types it), `explain`,
and the problem every bad parameter answers with.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from api.problems import ApiProblem
from projections.row_keys import slug
from store.event_store import MAX_POSITION

KnownAt = Annotated[
    str | None,
    QueryParameter(
        description="Answer as known at this time (transaction time), ISO 8601 with a zone",
        examples=[],
    ),
]
AtPosition = Annotated[
    int | None,
    QueryParameter(ge=0, le=MAX_POSITION, description="Answer as the log stood at this position"),
]
AsOf = Annotated[
    str | None,
    QueryParameter(
        description="Answer as things were on this date or at this time (valid time): "
        "2024-09-01 or 2024-09-01T12:00:00Z"
    ),
]
ReportedBy = Annotated[
    str | None,
    QueryParameter(
        description="Answer from what its sources had published by this date or time: "
        "2024-11-23 or 2024-11-23T12:00:00Z. A report counts from its reported time, a "
        "correction or retraction from when it was published where known (an imported "
        "dataset's later release). Answered by folding the log: it costs as much as a "
        "replay, and is not available with explain"
    ),
]
MinPosition = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        le=MAX_POSITION,
        description="Wait (a few seconds at most, then 503) until the views include this "
        "log position: pass the position your write returned to read your own write",
    ),
]
RowKey = Annotated[
    str | None,
    QueryParameter(
        description="Only the rows whose key is this or begins with it, part by part: "
        "`kursk-oblast` picks `kursk-oblast/ukraine` and `kursk-oblast/ukraine/2024-08`. "
        "Names are accepted as written (`Kursk Oblast/Ukraine`)"
    ),
]
Explain = Annotated[
    bool,
    QueryParameter(
        description="Instead of the rows, the reports and log positions behind each figure: "
        "source, outlet, verification, and what superseded, corrected or retracted them; "
        "a page of rows at a time, in key order (`limit`, `cursor`: follow `next_cursor` "
        "until it is null)"
    ),
]


class Moment(msgspec.Struct, frozen=True):
    """What an answer depends on: the moment of the log (`known_at` or `position`, or now)
    and of the world (`as_of`, or now). Answers are remembered by it."""

    known_at: datetime | None
    position: int | None
    # A date, or a time with its zone (a datetime is a date too: one type, so that litestar
    # can check the dependency's value).
    as_of: date | None
    # What had been published by then (projections/published.py): folded from the log.
    reported_by: date | None = None

    @property
    def about_the_past(self) -> bool:
        return (
            self.known_at is not None
            or self.position is not None
            or self.as_of is not None
            or self.reported_by is not None
        )

    @property
    def from_versions(self) -> bool:
        """Whether the versions the views keep can answer it: every question about the past
        but one of what had been published by a date, which the log's fold answers."""
        return self.reported_by is None


class Question(msgspec.Struct, frozen=True):
    """A read's question: the moment it asks about, and the log position the answer must
    include at least (`min_position`: waited for, then answered from the views as they are)."""

    moment: Moment
    min_position: int | None = None

    @property
    def known_at(self) -> datetime | None:
        return self.moment.known_at

    @property
    def position(self) -> int | None:
        return self.moment.position

    @property
    def as_of(self) -> date | None:
        return self.moment.as_of

    @property
    def about_the_past(self) -> bool:
        return self.moment.about_the_past


def asked(
    known_at: KnownAt = None,
    position: AtPosition = None,
    as_of: AsOf = None,
    reported_by: ReportedBy = None,
    min_position: MinPosition = None,
) -> Question:
    """The `asked` dependency: the read's question, or a 400 naming the parameter."""
    if known_at is not None and position is not None:
        raise ApiProblem(
            400,
            "contradictory-parameters",
            "The parameters contradict each other",
            "known_at, position: both name the moment of the log to answer from; give one "
            "(known_at a time, position a log position), not both",
            field="known_at, position",
        )
    moment = Moment(
        known_at=None if known_at is None else moment_of("known_at", known_at),
        position=position,
        as_of=None if as_of is None else date_or_moment("as_of", as_of),
        reported_by=None if reported_by is None else date_or_moment("reported_by", reported_by),
    )
    return Question(moment, min_position)


def row_key(text: str) -> str:
    """A key as a reader may type it, written as the views write keys."""
    return "/".join(slug(part) for part in text.split("/"))


def moment_of(name: str, text: str) -> datetime:
    """The parameter `name`'s time, with its zone, or a 400."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as error:
        raise bad_parameter(
            name,
            f"expected an ISO 8601 time with a zone, years 0001 to 9999 "
            f"(as in 2024-11-24T00:00:00Z), got {text[:40]!r}: {_reason(error)}",
        ) from None
    if moment.utcoffset() is None:
        raise bad_parameter(name, f"needs a time zone (as in 2024-11-24T00:00:00Z), got {text!r}")
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise bad_parameter(
            name, f"must fall between years 0001 and 9999 in UTC too, got {text!r}"
        ) from None
    return moment


def date_or_moment(name: str, text: str) -> datetime | date:
    """The parameter `name`'s date (2024-09-01) or time with a zone, or a 400."""
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            raise bad_parameter(
                name,
                f"expected a date, years 0001 to 9999 (as in 2024-09-01), got {text!r}: "
                f"{_reason(error)}",
            ) from None
    return moment_of(name, text)


def _reason(error: ValueError) -> str:
    # Python's own words ("year 0 is out of range", "month must be in 1..12"), without the
    # repetition of the text it could not read.
    return str(error).split(": '", 1)[0]


def bad_parameter(name: str, message: str) -> ApiProblem:
    return ApiProblem(
        400,
        "invalid-parameter",
        "A query parameter is not valid",
        f"{name}: {message}",
        field=name,
    )


def not_a_cursor() -> ApiProblem:
    return bad_parameter("cursor", "not a cursor this service gave; pass next_cursor as is")
