"""Every error a user can meet: one root, `TimelineError`, and five categories under it.

A caller maps the category, not the class: the API answers each with its status
(api/problems.py), the CLI prints the message and exits with status 2 (cli/main.py). A class
needing more (its own problem type, extra fields) is named there beside its category; a new
user-facing error picks exactly one category and is answered at once.

The report's own rules raise `DomainError`s; the rest are raised by the layers around it
(the store, the projections, the command line) but belong to the same five categories.
"""

from __future__ import annotations

from uuid import UUID


class TimelineError(Exception):
    """The root of every error meant for the user; its message says what to do."""


class NotFound(TimelineError):
    """What was asked for does not exist (a report, a row, an API key)."""


class Conflict(TimelineError):
    """The request is sound but the state of things does not allow it now."""


class Invalid(TimelineError):
    """The request, a file or a setting is not valid as given."""


class Unavailable(TimelineError):
    """Something the service needs (its database, its server) is not there just now."""


class Forbidden(TimelineError):
    """The caller, or the role the service logs in as, may not do this."""


CATEGORIES: tuple[type[TimelineError], ...] = (NotFound, Conflict, Invalid, Unavailable, Forbidden)


def category_of(kind: type[TimelineError]) -> type[TimelineError]:
    """The category `kind` belongs to (the first one in its method resolution order)."""
    for base in kind.__mro__:
        if base in CATEGORIES:
            return base
    raise TypeError(f"{kind.__name__} belongs to no category of TimelineError")


class DomainError(TimelineError):
    """Base of every rule the domain enforces (each subclass picks its category too)."""


class InvalidReport(DomainError, Invalid):
    """A report (or a correction) is not valid; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ReportIsRetracted(DomainError, Conflict):
    """A retracted report takes no further corrections or assessments."""

    def __init__(self, report_id: UUID, action: str) -> None:
        super().__init__(f"report {report_id} is retracted and cannot be {action}")
        self.report_id = report_id
        self.action = action


class NothingToCorrect(DomainError, Invalid):
    """A correction that changes nothing would only add noise to the record."""

    def __init__(self, report_id: UUID) -> None:
        super().__init__(f"the correction of report {report_id} changes nothing")
        self.report_id = report_id


class ReportNotFound(NotFound):
    """No event was ever recorded for this report id."""

    def __init__(self, report_id: UUID) -> None:
        super().__init__(f"no report has id {report_id}")
        self.report_id = report_id


class VersionConflict(Conflict):
    """The report moved on since the caller read it (or the version skips ahead): the
    application's optimistic check, which the store makes under its lock."""

    def __init__(self, report_id: UUID, expected: int, actual: int) -> None:
        super().__init__(
            f"report {report_id} is at version {actual}, not {expected}: reload it and try again"
        )
        self.report_id = report_id
        self.expected = expected
        self.actual = actual
