"""The API's response shapes, as msgspec Structs (separate from the domain's events).

View answers share one shape with `timeline replay --json` (projections.replay.ReplayAnswer):
`{view, known_at, position, as_of, rows: [{key, row}]}`; the row types are the views' own.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from domain.events import ReportEvent
from domain.report import Report
from projections.views.timeline import TimelineRow


class TimelinePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the timeline, in order of occurrence; pass `next_cursor` as `cursor` for
    the next page (null on the last one)."""

    items: tuple[TimelineRow, ...]
    next_cursor: str | None
    limit: int
    position: int


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    recorded_at: datetime
    type: str
    version: int
    event: ReportEvent


class ReportAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A report as it stands now, and every event that made it so."""

    report: Report
    position: int
    history: tuple[HistoryEntry, ...]


# --- answers to writes ---------------------------------------------------------------------


class Filed(msgspec.Struct, frozen=True, kw_only=True):
    """What a write recorded: the report, its version now (what If-Match takes next), and the
    log position of the write (pass it as `min_position` to read your own write). A retry
    with the same Idempotency-Key gets the first answer again, with `replayed: true`."""

    report_id: UUID
    version: int
    position: int
    recorded_at: datetime
    replayed: bool


class FiledLine(msgspec.Struct, frozen=True, kw_only=True):
    """The report filed from one line of a batch (`line` is 1-based, as in the body)."""

    line: int
    report_id: UUID
    version: int
    position: int


class BatchFiled(msgspec.Struct, frozen=True, kw_only=True):
    """Every report of a batch, filed in one transaction; `position` is the last one's."""

    reports: tuple[FiledLine, ...]
    position: int
    recorded_at: datetime
    replayed: bool
