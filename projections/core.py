"""The fold engine every view shares: pure, in memory, driven by a list of recorded events.

A view says three things (see `View`): which reports it follows, which of its rows a report
feeds (its keys), and how to render one row from every report that feeds it. The engine keeps
the reports a view follows as they stand after each event (folded with the domain's own
`evolve`), so a correction, retraction or corroboration naming only a report id reaches the
rows that report fed, including a row it stopped feeding when a correction moved it. The
same engine serves the live runner, rebuilds and as-of replays, so they cannot disagree.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from functools import lru_cache
from operator import attrgetter
from typing import ClassVar, Generic, NamedTuple, Protocol, TypeVar, cast
from uuid import UUID

import msgspec

from domain.claims import Claim
from domain.events import ReportEvent, ReportFiled
from domain.occurrence import Interval, Occurrence
from domain.recorded import LogEntry, RecordedEvent, UnreadableEvent
from domain.report import Report, evolve


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


def day_of(report: Report) -> str:
    """The day a report sits in on a time axis, in UTC: "2024-08-06". Aggregate views keep
    their history one row per key and day, so that a row stays small however long the war
    lasts and however many reports a month brings (a month of a busy series at 10^6 events
    held 2,900 reports, 670 kB rewritten by every batch that touched it), and a batch
    rewrites only the days it touched."""
    return occurred_date(report)[:10]


def daily_key(key: str, report: Report) -> str:
    """The key of `report`'s day row beside an aggregate row: "kursk-oblast/ukraine/2024-08-06"."""
    return f"{key}/{day_of(report)}"


def day_in(key: str) -> str:
    return key.rsplit("/", 1)[1]


@lru_cache(maxsize=1 << 14)  # a few thousand names, over and over
def slug(*parts: str) -> str:
    """A stable row key from human names: ("Kursk Oblast", "Ukraine") -> "kursk-oblast/ukraine"."""
    return "/".join("-".join(part.lower().split()) for part in parts)


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


_order = attrgetter("order")


_P = TypeVar("_P")


class DayPiece(msgspec.Struct, Generic[_P], frozen=True, kw_only=True, gc=False):
    """What one report gives its day row in a history, worked out from that report alone:
    the names it gives the row's subject, and its point when it stands (else its source, as
    a withdrawn report). A day row is its reports' pieces put together (`day_row`), so
    a runner can keep each report's piece with its version (projections/history.py,
    `Pieced`) and put a row together again without folding the day's reports."""

    names: tuple[str, ...]
    point: _P | None = None  # the report stands: its point on the chart
    withdrawn: Source | None = None  # the report was withdrawn: kept for auditors


class DayRow(NamedTuple, Generic[_P]):
    """A day row of a history, from the pieces of the reports feeding it, in order."""

    day: str
    names: tuple[str, ...]  # the latest standing report's (else the latest's)
    points: tuple[_P, ...]  # one per standing report
    retracted: tuple[Source, ...]  # withdrawn, kept for auditors, never plotted


def day_piece(tracked: Tracked, names: tuple[str, ...], point: Callable[[], _P]) -> DayPiece[_P]:
    """The piece of `tracked`'s report: `point()` when it stands."""
    if tracked.report.is_retracted:
        return DayPiece(names=names, withdrawn=tracked.source)
    return DayPiece(names=names, point=point())


def day_row(key: str, pieces: Sequence[DayPiece[_P]]) -> DayRow[_P]:
    points = tuple(piece.point for piece in pieces if piece.point is not None)
    named = next((piece for piece in reversed(pieces) if piece.point is not None), pieces[-1])
    return DayRow(
        day=day_in(key),
        names=named.names,
        points=points,
        retracted=tuple(piece.withdrawn for piece in pieces if piece.withdrawn is not None),
    )


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


# PostgreSQL text cannot hold NUL, and a key longer than this could overflow the primary
# key's index entry (at most 2,704 bytes, 4 bytes a character at worst).
MAX_KEY_CHARACTERS = 600
MAX_ERROR_CHARACTERS = 2_000


class UnstorableKey(ValueError):
    """A row key the database could not store."""


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


def check_key(key: str) -> str:
    if "\x00" in key:
        raise UnstorableKey(f"row key {key!r} holds a NUL character (PostgreSQL text cannot)")
    if len(key) > MAX_KEY_CHARACTERS:
        raise UnstorableKey(f"a row key of {len(key)} characters (at most {MAX_KEY_CHARACTERS})")
    return key


def _checked_keys(view: View, report: Report) -> tuple[str, ...]:
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
        _change(
            view, state, tracked, _evolved(tracked, cast(ReportEvent, event)), recorded.position
        )
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
    keys = _checked_keys(view, report)
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


def _evolved(tracked: Tracked, event: ReportEvent) -> tuple[Report, tuple[datetime, datetime, int]]:
    """The report after `event`, and its order; raises when the event cannot be folded."""
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
                keys = _checked_keys(view, report)
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
            _change(view, state, tracked, outcome, position)
        except Exception as error:  # skipped by this view, as `apply` does
            state.quarantine(view, position, event.originator_id, error)


def _evolved_or_error(
    tracked: Tracked, event: ReportEvent
) -> tuple[Report, tuple[datetime, datetime, int]] | Exception:
    try:
        return _evolved(tracked, event)
    except Exception as error:  # skipped by each view holding the report so
        return error


def _change(
    view: View,
    state: ViewState,
    tracked: Tracked,
    evolved: tuple[Report, tuple[datetime, datetime, int]],
    position: int,
) -> None:
    """A followed report changed at `position`: its entry, its keys, the keys' order."""
    report, order = evolved
    keys = view.keys(report)
    if keys != tracked.keys:
        keys = _checked_keys(view, report)  # may fail: before anything changes
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
