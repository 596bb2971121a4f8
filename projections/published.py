"""What had been published by a date: the log as the views fold it for `reported_by`.

A third time beside `known_at` (what we had recorded) and `as_of` (what had happened): when
the source put it out. An imported dataset's rows are published on their own dates and its
releases on theirs, all recorded today; "what had been published by 1 March" is asked of
those dates, not of the log's order.

Each report counts from its `reported` time. A correction or retraction that says when it
was published (a later release of the dataset: `ReportCorrected.reported`) counts from then,
so the figure of an earlier release stands for a day before the later one. One that does not
say (an editor's dispute, a correction typed by hand) goes with its report: we do not know
when its news came out, and a report shown without it would be shown as nobody holds it.

Pure: which entries the replay fold takes (projections/replay.py).
"""

from __future__ import annotations

from datetime import datetime

from domain.events import ReportCorrected, ReportFiled, ReportRetracted
from domain.occurrence import Occurrence
from domain.recorded import LogEntry, RecordedEvent


def published(entry: LogEntry, moment: datetime) -> bool:
    """Whether the fold of "what had been published by `moment`" takes `entry`: a report
    reported by then, a change published by then or not saying when. The events of a report
    it left out find no report to change, and the fold passes them by."""
    if not isinstance(entry, RecordedEvent):
        return True  # the fold sets an unreadable event aside, whatever the question
    event = entry.event
    if isinstance(event, ReportFiled):
        return _by(event.reported, moment)
    if isinstance(event, ReportCorrected | ReportRetracted) and event.reported is not None:
        return _by(event.reported, moment)
    return True


def _by(when: Occurrence, moment: datetime) -> bool:
    # A day's report counts from the start of its day: "published by 1 March" holds what
    # came out on 1 March, as `moment` (the last instant of that day) is.
    start = when.earliest()
    return start is None or start <= moment
