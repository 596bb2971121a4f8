"""What had been published by a date: the log as the views fold it for `reported_by`.

A third time beside `known_at` (what we had recorded) and `as_of` (what had happened): when
the source put it out. An imported dataset's rows are published on their own dates and its
releases on theirs, all recorded today; "what had been published by 1 March" is asked of
those dates, not of the log's order.

Each report counts from its `reported` time, as it stood before its first change published
after the date: a correction or retraction that says when it was published (a later release
of the dataset: `ReportCorrected.reported`) ends what the date can see of the report, so the
figure of an earlier release stands for the days before the later one. A change that does not
say (an editor's dispute, a correction typed by hand) goes with its report: we do not know when
its news came out. So a report is always shown as one of the versions the log held of it,
which is what would let the versions the views keep answer it too.

Pure: which entries the replay fold takes (projections/replay.py), in log order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from domain.events import ReportCorrected, ReportFiled, ReportRetracted
from domain.occurrence import Occurrence
from domain.recorded import LogEntry, RecordedEvent


class PublishedBy:
    """The entries the fold of "what had been published by `moment`" takes, page after page
    of one log: it remembers the reports whose later changes it has begun to leave out."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self._ended: set[UUID] = set()

    def taken(self, entries: Iterable[LogEntry]) -> list[LogEntry]:
        return [entry for entry in entries if self._takes(entry)]

    def _takes(self, entry: LogEntry) -> bool:
        if not isinstance(entry, RecordedEvent):
            return True  # the fold sets an unreadable event aside, whatever the question
        event = entry.event
        if isinstance(event, ReportFiled):
            # A report published later is never filed here: its other events find no report
            # to change, and the fold passes them by.
            return _by(event.reported, self.moment)
        if event.originator_id in self._ended:
            return False
        own = event.reported if isinstance(event, ReportCorrected | ReportRetracted) else None
        if own is not None and not _by(own, self.moment):
            self._ended.add(event.originator_id)
            return False
        return True


def _by(when: Occurrence, moment: datetime) -> bool:
    # A day's report counts from the start of its day: "published by 1 March" holds what
    # came out on 1 March, as `moment` (the last instant of that day) is.
    start = when.earliest()
    return start is None or start <= moment
