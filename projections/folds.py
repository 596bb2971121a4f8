"""Several views folded in one pass over the log, as a rebuild or a shared catch-up reads it.

Each event is folded into its report once (the domain's `evolve`) and the report shared by
every view that follows it; each view's state is exactly the one `core.fold` gives for that
view alone, with the same quarantine rule (projections/core.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from domain.claims import Claim
from domain.events import ReportEvent, ReportFiled
from domain.recorded import LogEntry, RecordedEvent, UnreadableEvent
from domain.report import Report, evolve
from projections.core import View, ViewState, change, checked_keys, evolved
from projections.tracked import Tracked, sort_key


class Folds:
    """Several views folded in one pass over the log, as a rebuild reads it: each event is
    folded into the report once (`evolve`), and the report is shared by every view that
    follows it. Each view's state is the one `fold` gives for that view alone."""

    def __init__(self, views: Sequence[View]) -> None:
        self.views = tuple(views)
        self.states = tuple(ViewState() for _ in self.views)
        # Per report (by its id's number: hashed in C, a UUID hashes in Python), the views
        # that follow it, with their states and entries.
        self._followers: dict[int, list[tuple[View, ViewState, Tracked]]] = {}

    def feed(self, events: Iterable[LogEntry]) -> None:
        # The hot loop of a rebuild, once per event of the log: no per-view work for the
        # views a report does not feed.
        pairs = tuple(zip(self.views, self.states, strict=True))
        followers_of = self._followers
        position = None
        for recorded in events:
            position = recorded.position
            if isinstance(recorded, UnreadableEvent):
                for view, state in pairs:
                    state.quarantine(view, position, None, recorded.error)
                continue
            event = recorded.event
            if isinstance(event, ReportFiled):
                claim = event.claim
                try:
                    followers = [pair for pair in pairs if pair[0].follows(claim)]
                except Exception:  # a view that fails to say: again, one at a time
                    followers = [pair for pair in pairs if _follows(pair, claim, position, event)]
                if followers:
                    self._file(followers, recorded, event)
                continue
            entries = followers_of.get(event.originator_id.int)
            if entries is not None:
                _change_all(entries, cast(ReportEvent, event), position)
        if position is not None:
            for state in self.states:
                state.position = position

    def _file(
        self, followers: list[tuple[View, ViewState]], recorded: RecordedEvent, event: ReportFiled
    ) -> None:
        report_id, position, recorded_at = (
            event.originator_id,
            recorded.position,
            recorded.recorded_at,
        )
        try:
            report = evolve(None, event)
            order = sort_key(report, position)
        except Exception as error:  # skipped by every view that follows it
            for view, state in followers:
                state.quarantine(view, position, report_id, error)
            return
        entries = []
        for view, state in followers:
            try:
                keys = checked_keys(view, report)
            except Exception as error:  # skipped by this view only
                state.quarantine(view, position, report_id, error)
                continue
            tracked = Tracked(report, position, position, recorded_at, keys)
            tracked.placed(order)
            state.reports[report_id] = tracked
            for key in keys:
                state.add(key, tracked)
            if state.history is not None:
                state.history.opened(tracked)
            entries.append((view, state, tracked))
        if entries:
            self._followers[report_id.int] = entries


def _follows(pair: tuple[View, ViewState], claim: Claim, position: int, event: ReportFiled) -> bool:
    view, state = pair
    try:
        return view.follows(claim)
    except Exception as error:  # skipped by this view, as `apply` does
        state.quarantine(view, position, event.originator_id, error)
        return False


def _change_all(
    entries: list[tuple[View, ViewState, Tracked]], event: ReportEvent, position: int
) -> None:
    """`apply`'s change of a followed report, for every view that follows it: the report is
    evolved once for all the views that hold it in the same state (all of them, unless one
    skipped an earlier event about it)."""
    shared = entries[0][2].report
    common = _evolved_or_error(entries[0][2], event)
    for view, state, tracked in entries:
        outcome = common if tracked.report is shared else _evolved_or_error(tracked, event)
        if isinstance(outcome, Exception):
            state.quarantine(view, position, event.originator_id, outcome)
            continue
        try:
            change(view, state, tracked, outcome, position)
        except Exception as error:  # skipped by this view, as `apply` does
            state.quarantine(view, position, event.originator_id, error)


def _evolved_or_error(
    tracked: Tracked, event: ReportEvent
) -> tuple[Report, tuple[datetime, datetime, int]] | Exception:
    try:
        return evolved(tracked, event)
    except Exception as error:  # skipped by each view holding the report so
        return error
