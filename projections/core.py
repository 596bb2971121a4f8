"""The fold engine every view shares: pure, in memory, driven by a list of recorded events.

A view says three things (see `View`): which reports it follows, which of its rows a report
feeds (its keys), and how to render one row from every report that feeds it. The engine keeps
the reports a view follows as they stand after each event (folded with the domain's own
`evolve`), so a correction, retraction or corroboration naming only a report id reaches the
rows that report fed, including a row it stopped feeding when a correction moved it. The
same engine serves the live runner, rebuilds and as-of replays, so they cannot disagree.

What a view is handed for each report (`Tracked`, its `sort_key`) is in projections/tracked.py;
the keys of its rows and the day rows of its history in projections/row_keys.py; several
views folded in one pass over the log (a rebuild's) in projections/folds.py.

The state is mutated in place for speed: "pure" here means no I/O and a result that depends
only on the events folded, never on the clock or the database.

Quarantine: one event a view cannot take never stops the view. The rule is part of the fold,
so the live runner, a rebuild, a runner's catch-up, a replay and an explanation all skip the
same events without asking anyone (the quarantine table only reports what they skipped):
- An event is *skipped* by a view when folding it raises: it cannot be decoded (skipped by
  every view), `evolve` refuses it, the view's `follows` or `keys` fails, a key could not be
  stored (`check_key`: PostgreSQL text holds no NUL), or the report's times have no place on
  the time axis (its `sort_key` fails). The view's state is then exactly what it was before
  the event: a skipped filing leaves the report unfollowed, and the view ignores every later
  event about it; a skipped correction leaves the report as it stood.
- A row that `render` cannot draw from every report feeding it is drawn without the reports
  that cannot be drawn even alone (each is quarantined at its last change's position); if
  it still cannot be drawn, the row is not shown (quarantined at the newest position among
  its reports). Rows are a function of the state, so live, rebuilt and replayed rows agree.
Each case is noted in `ViewState.quarantined` (`Quarantined`) for whoever records it.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import ClassVar, Protocol, cast
from uuid import UUID

import msgspec

from domain.claims import Claim
from domain.events import ReportEvent, ReportFiled
from domain.recorded import LogEntry, RecordedEvent, UnreadableEvent
from domain.report import Report, evolve
from projections.row_keys import MAX_KEY_CHARACTERS, check_key
from projections.tracked import Tracked, sort_key

_order = attrgetter("order")


class View(Protocol):
    """What a view declares; the engine does the rest."""

    name: ClassVar[str]

    def follows(self, claim: Claim) -> bool:
        """Whether reports with this claim feed the view at all."""
        ...

    def keys(self, report: Report) -> tuple[str, ...]:
        """The keys of the rows this report feeds (usually one)."""
        ...

    def render(
        self, key: str, reports: Sequence[Tracked], as_of: datetime | None
    ) -> msgspec.Struct | None:
        """The row for `key` from every report feeding it, in `Tracked.sort_key` order,
        retracted ones included (a view decides how to show them). With `as_of`, only what
        had happened by then (valid time). None: no row."""
        ...


MAX_ERROR_CHARACTERS = 2_000


class Quarantined(msgspec.Struct, frozen=True, kw_only=True):
    """An event a view skipped, or a report a row could not show: where, and why."""

    view: str
    position: int
    report_id: UUID | None  # None when the event could not even be decoded
    key: str  # the row's key when a row could not show the report; "" for a skipped event
    error: str


def error_text(error: BaseException) -> str:
    """An error as the quarantine keeps it: one storable line (no NUL), of bounded length."""
    text = f"{type(error).__name__}: {error}".replace("\x00", "\\x00")
    return text[:MAX_ERROR_CHARACTERS]


def checked_keys(view: View, report: Report) -> tuple[str, ...]:
    """`view.keys(report)`, each one storable (`check_key`), or raises."""
    keys = view.keys(report)
    for key in keys:  # inline: once per event and view in a rebuild's fold
        if "\x00" in key or len(key) > MAX_KEY_CHARACTERS:
            check_key(key)
    return keys


class VersionRecorder(Protocol):
    """Whoever keeps a view's reports' versions: each version of a report, from the event
    that made it (`opened`) to the event that replaced it (`closing`, told before the
    entry changes)."""

    def opened(self, tracked: Tracked) -> None: ...

    def closing(self, tracked: Tracked, position: int) -> None: ...


@dataclass(slots=True)
class ViewState:
    reports: dict[UUID, Tracked] = field(default_factory=dict)
    by_key: dict[str, set[UUID]] = field(default_factory=dict)
    position: int = 0
    # The reports of a key in `order`, as `feeding` last sorted them, kept while they stay
    # valid: a filing is inserted in place; a report leaving a key or moving in its order
    # drops the key's list (corrections are rare). A live runner then re-renders a row fed
    # by thousands of reports without sorting them again on every batch.
    ordered: dict[str, list[Tracked]] = field(default_factory=dict)
    # What the view could not take since the last `take_quarantined` (module docstring).
    quarantined: list[Quarantined] = field(default_factory=list)
    # Told of every version of a report the view makes, when a writer keeps the view's
    # history (projections/history.py); None while only folding.
    history: VersionRecorder | None = None

    def add(self, key: str, tracked: Tracked) -> None:
        ids = self.by_key.get(key)
        if ids is None:
            self.by_key[key] = {tracked.report.id}
            return
        ids.add(tracked.report.id)
        ordered = self.ordered.get(key)
        if ordered is not None:
            insort(ordered, tracked, key=_order)

    def remove(self, key: str, tracked: Tracked) -> None:
        self.by_key[key].discard(tracked.report.id)
        self.ordered.pop(key, None)

    def reordered(self, tracked: Tracked) -> None:
        for key in tracked.keys:
            self.ordered.pop(key, None)

    def quarantine(
        self,
        view: View,
        position: int,
        report_id: UUID | None,
        error: BaseException | str,
        key: str = "",
    ) -> None:
        text = error if isinstance(error, str) else error_text(error)
        self.quarantined.append(
            Quarantined(view=view.name, position=position, report_id=report_id, key=key, error=text)
        )

    def take_quarantined(self) -> list[Quarantined]:
        """What was quarantined since the last call, each once."""
        taken, self.quarantined = self.quarantined, []
        return list({(q.position, q.key, q.report_id): q for q in taken}.values())


def apply(view: View, state: ViewState, recorded: LogEntry) -> tuple[str, ...]:
    """Fold one event into the state; returns the keys whose rows may have changed. An event
    the view cannot take leaves the state as it was, and is noted (module docstring)."""
    state.position = recorded.position
    if isinstance(recorded, UnreadableEvent):
        state.quarantine(view, recorded.position, None, recorded.error)
        return ()
    event = recorded.event
    try:
        if isinstance(event, ReportFiled):
            return _file(view, state, recorded, event)
        tracked = state.reports.get(event.originator_id)
        if tracked is None:
            return ()
        old_keys = tracked.keys
        change(view, state, tracked, evolved(tracked, cast(ReportEvent, event)), recorded.position)
    except Exception as error:  # the event's own doing: skipped by this view, never a stop
        state.quarantine(view, recorded.position, event.originator_id, error)
        return ()
    if tracked.keys != old_keys:
        return tuple(dict.fromkeys((*old_keys, *tracked.keys)))
    return old_keys


def _file(
    view: View, state: ViewState, recorded: RecordedEvent, event: ReportFiled
) -> tuple[str, ...]:
    if not view.follows(event.claim):
        return ()
    report = evolve(None, event)
    order = sort_key(report, recorded.position)
    keys = checked_keys(view, report)
    # Nothing changed until here: whatever failed above leaves the state as it was.
    tracked = Tracked(
        report=report,
        filed_at_position=recorded.position,
        last_position=recorded.position,
        filed_recorded_at=recorded.recorded_at,
        keys=keys,
    )
    tracked.placed(order)
    state.reports[report.id] = tracked
    for key in keys:
        state.add(key, tracked)
    if state.history is not None:
        state.history.opened(tracked)
    return keys


def evolved(tracked: Tracked, event: ReportEvent) -> tuple[Report, tuple[datetime, datetime, int]]:
    """The report after `event`, and its order; raises when the event cannot be folded.
    Nothing changes until `change` takes them."""
    report = evolve(tracked.report, event)
    return report, sort_key(report, tracked.filed_at_position)


def fold(
    view: View, events: Iterable[LogEntry], state: ViewState | None = None
) -> tuple[ViewState, set[str]]:
    """Fold many events; returns the state and every key touched."""
    state = state if state is not None else ViewState()
    touched: set[str] = set()
    for recorded in events:
        touched.update(apply(view, state, recorded))
    return state, touched


def change(
    view: View,
    state: ViewState,
    tracked: Tracked,
    after: tuple[Report, tuple[datetime, datetime, int]],
    position: int,
) -> None:
    """A followed report changed at `position` (`after`: as `evolved` made it): its entry,
    its keys, the keys' order. Shared by `apply` and `folds.Folds`."""
    report, order = after
    keys = view.keys(report)
    if keys != tracked.keys:
        keys = checked_keys(view, report)  # may fail: before anything changes
    history = state.history
    if history is not None:
        history.closing(tracked, position)
    if tracked.update(report, position, order):
        state.reordered(tracked)
    if keys != tracked.keys:
        for key in tracked.keys:
            state.remove(key, tracked)
        tracked.keys = keys
        for key in keys:
            state.add(key, tracked)
    if history is not None:
        history.opened(tracked)


def feeding(state: ViewState, key: str, as_of: datetime | None = None) -> list[Tracked]:
    """The reports `render` hands the view for `key`: in `Tracked.sort_key` order and, with
    `as_of`, only those that had begun by then. An explanation reads the same list."""
    ids = state.by_key.get(key)
    if not ids:
        return []
    if len(ids) == 1:  # most rows: one report each (the timeline's, the strikes')
        (only,) = ids
        return [state.reports[only]] if as_of is None or _begun(state.reports[only], as_of) else []
    reports = state.ordered.get(key)
    if reports is None:
        reports = state.ordered[key] = sorted((state.reports[i] for i in ids), key=_order)
    if as_of is not None:
        return [t for t in reports if _begun(t, as_of)]
    return list(reports)


def _begun(tracked: Tracked, as_of: datetime) -> bool:
    return tracked.order[0] <= as_of


def render(
    view: View, state: ViewState, key: str, as_of: datetime | None = None
) -> msgspec.Struct | None:
    """The row for `key`; a report the view cannot draw is left out of it, and a row that
    cannot be drawn at all is not shown (module docstring). Each is noted, except in an
    answer about a past date (`as_of`), which is not the view the runners keep."""
    reports = feeding(state, key, as_of)
    if not reports:
        return None
    try:
        return view.render(key, reports, as_of)
    except Exception as error:  # one report's doing, most likely: find which
        return _render_without_culprits(view, state, key, reports, as_of=as_of, error=error)


def _render_without_culprits(
    view: View,
    state: ViewState,
    key: str,
    reports: list[Tracked],
    *,
    as_of: datetime | None,
    error: Exception,
) -> msgspec.Struct | None:
    note = as_of is None
    drawable = []
    for tracked in reports:
        try:
            view.render(key, [tracked], as_of)
        except Exception as alone:  # this report cannot be drawn, even alone
            if note:
                state.quarantine(view, tracked.last_position, tracked.report.id, alone, key)
        else:
            drawable.append(tracked)
    if drawable and len(drawable) < len(reports):
        try:
            return view.render(key, drawable, as_of)
        except Exception as still:  # the row cannot be drawn from what is left either
            error = still
    if note and drawable:
        newest = max(reports, key=lambda tracked: tracked.last_position)
        state.quarantine(view, newest.last_position, newest.report.id, error, key)
    return None


def blamed(view: View, state: ViewState, key: str, error: BaseException) -> Quarantined:
    """The quarantine entry of a row that could not be stored: it stands for the newest
    change among the reports feeding it."""
    newest = max(feeding(state, key), key=lambda tracked: tracked.last_position)
    return Quarantined(
        view=view.name,
        position=newest.last_position,
        report_id=newest.report.id,
        key=key,
        error=error_text(error),
    )


def render_all(
    view: View, state: ViewState, as_of: datetime | None = None
) -> dict[str, msgspec.Struct]:
    """Every row of the view, by key, in key order (deterministic)."""
    rows: dict[str, msgspec.Struct] = {}
    for key in sorted(state.by_key):
        row = render(view, state, key, as_of)
        if row is not None:
            rows[key] = row
    return rows
