"""As-of answers for audits: a view as it stood at a point of the log, as it was on a date.

Two times, as the brief asks them:
- *known at* (transaction time): only the events recorded at or before T, or at or before a
  log position. `recorded_at` never goes backwards along the log, so either cut is a prefix
  of the log: exactly what the views held when the log ended there.
- *as of* (valid time): only what had happened by then, as each view's `render` reads it.
  A date means the whole of that day in UTC ("as it was on 1 September 2024").
Both together ask "what did we believe on 20 November about the state of things on 1 September".
And a third, for imported datasets: *reported by* (when the source published it), the fold
taking only what had been published by then (projections/published.py).

The answer is the same `fold` and `render_all` the runner keeps the live views with, so an
audit and a dashboard cannot disagree. `encode_answer` gives its one canonical byte form,
for the CLI and the API alike: the same question about the same log is the same bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from itertools import takewhile

import asyncpg
import msgspec

from domain.errors import Invalid
from domain.recorded import LogEntry
from projections.core import View, ViewState, fold, render_all
from projections.published import PublishedBy
from projections.registry import VIEWS
from projections.tracked import iso
from store.event_store import EventStore

# Pages small enough that decoding and folding one (two or three milliseconds) never holds
# up the API process's other requests for long: the fold runs on its event loop, and lets
# them in at every page. (5,000 a page held the loop for 60 ms at a time.)
READ_PAGE = 250

_encoder = msgspec.json.Encoder(order="sorted")


class InvalidReplayQuestion(Invalid, ValueError):
    """The question cannot be answered as asked; the message says why and what would do."""


class ReplayRow(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    row: msgspec.Struct  # the view's own row, as the live view stores it


class ReplayAnswer(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The question, as understood, and the view's rows in key order."""

    view: str
    known_at: datetime | None  # in UTC
    # The last log position the answer reflects: it holds the events 1..position.
    position: int
    as_of: str | None  # as asked, in UTC: "2024-09-01" (a day) or "2024-09-01T12:00:00Z"
    rows: tuple[ReplayRow, ...]
    # What had been published by then (projections/published.py), as asked; absent when
    # not asked, so that every other answer keeps its bytes.
    reported_by: str | None = None


def encode_answer(answer: ReplayAnswer) -> bytes:
    """Canonical JSON (keys sorted at every level, no spaces, no trailing newline)."""
    return _encoder.encode(answer)


def answer(
    view_name: str,
    log: Iterable[LogEntry],
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
    reported_by: datetime | date | None = None,
) -> ReplayAnswer:
    """The answer from `log` (events in log order), cut where the question says: pure."""
    view = check_question(view_name, known_at, position, as_of, reported_by)
    prefix = list(known_by(log, known_at=known_at, position=position))
    published = _published_by(reported_by)
    state, _ = fold(view, prefix if published is None else published.taken(prefix))
    if prefix:
        state.position = prefix[-1].position
    return rendered(view, state, known_at, as_of, reported_by)


def _published_by(reported_by: datetime | date | None) -> PublishedBy | None:
    """What the fold takes of a log when the question is what had been published by then."""
    moment = valid_time(reported_by)
    return None if moment is None else PublishedBy(moment)


def known_by(
    log: Iterable[LogEntry], *, known_at: datetime | None, position: int | None
) -> Iterator[LogEntry]:
    """The prefix of `log` (events in log order) recorded by `known_at` and up to `position`."""

    def within(recorded: LogEntry) -> bool:
        return (position is None or recorded.position <= position) and (
            known_at is None or recorded.recorded_at <= known_at
        )

    return takewhile(within, log)


async def replay(
    source: EventStore | asyncpg.Pool,
    view_name: str,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    as_of: datetime | date | None = None,
    reported_by: datetime | date | None = None,
) -> ReplayAnswer:
    """The answer from the stored log. Without `known_at` or `position`, at its head; with
    both, at whichever cut comes first. With `reported_by`, of what had been published by
    then (projections/published.py).

    Raises InvalidReplayQuestion for an unknown view, a negative position or one beyond the
    head, a time without a time zone, or a `known_at` later than the database's clock (what
    will be known then is not known yet, and the answer must not change once given).
    """
    view = check_question(view_name, known_at, position, as_of, reported_by)
    state = await fold_stored(
        source, view, known_at=known_at, position=position, reported_by=reported_by
    )
    # Rendering a large view at once takes tens of milliseconds: in a thread, which the
    # event loop preempts, rather than on the loop. The state is this question's alone.
    return await asyncio.to_thread(rendered, view, state, known_at, as_of, reported_by)


async def fold_stored(
    source: EventStore | asyncpg.Pool,
    view: View,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    reported_by: datetime | date | None = None,
    after_each_page: Callable[[ViewState, Sequence[LogEntry]], None] | None = None,
) -> ViewState:
    """`fold` over the stored log up to the question's cut, a page at a time: the one fold
    from the store behind every as-of answer. `after_each_page` sees each page once it is
    folded (an explanation notes there what happened to the reports the view follows).

    Raises InvalidReplayQuestion as `replay` does for a cut that cannot be answered.
    """
    store = source if isinstance(source, EventStore) else EventStore(source)
    cut = await cut_of(store, known_at, position)
    state = ViewState()
    published = _published_by(reported_by)
    while page := await store.read_entries_through(cut, after=state.position, limit=READ_PAGE):
        fold(view, page if published is None else published.taken(page), state)
        state.position = page[-1].position  # the entries left out were read, all the same
        if after_each_page is not None:
            after_each_page(state, page)
    return state


async def cut_of(store: EventStore, known_at: datetime | None, position: int | None) -> int:
    """The last position the answer may reflect."""
    if known_at is not None:
        clock = await store.clock()
        if known_at > clock:
            raise InvalidReplayQuestion(
                f"known_at {iso(known_at)} is later than the database's clock ({iso(clock)}): "
                "what will be known then is not known yet"
            )
    # An append in flight right now was stamped before it commits: a `known_at` of the last
    # few milliseconds may not have settled yet. Audits ask about moments long past.
    head = await store.position()
    if position is not None and position > head:
        raise InvalidReplayQuestion(f"position {position} is beyond the head of the log ({head})")
    cut = head if position is None else position
    if known_at is not None:
        cut = min(cut, await store.position_at(known_at))
    return cut


def check_question(
    view_name: str,
    known_at: datetime | None,
    position: int | None,
    as_of: datetime | date | None,
    reported_by: datetime | date | None = None,
) -> View:
    """The view asked about, once the question's parts are known to make sense."""
    view = VIEWS.get(view_name)
    if view is None:
        raise InvalidReplayQuestion(
            f"no view is named {view_name!r}; the views are: {', '.join(sorted(VIEWS))}"
        )
    if position is not None and position < 0:
        raise InvalidReplayQuestion(f"position must not be negative, got {position}")
    for name, moment in (("known_at", known_at), ("as_of", as_of), ("reported_by", reported_by)):
        if isinstance(moment, datetime) and moment.utcoffset() is None:
            raise InvalidReplayQuestion(
                f"{name} needs a time zone (as in 2024-11-24T00:00:00Z), got {moment.isoformat()}"
            )
    return view


def rendered(
    view: View,
    state: ViewState,
    known_at: datetime | None,
    as_of: datetime | date | None,
    reported_by: datetime | date | None = None,
) -> ReplayAnswer:
    rows = render_all(view, state, valid_time(as_of))
    return answer_of(view, rows, state.position, known_at, as_of, reported_by=reported_by)


def answer_of(
    view: View,
    rows: dict[str, msgspec.Struct],
    position: int,
    known_at: datetime | None,
    as_of: datetime | date | None,
    *,
    reported_by: datetime | date | None = None,
) -> ReplayAnswer:
    """The answer with `rows` (in key order) to the question asked."""
    return ReplayAnswer(
        view=view.name,
        known_at=None if known_at is None else known_at.astimezone(UTC),
        position=position,
        as_of=as_asked(as_of),
        rows=tuple(ReplayRow(key=key, row=row) for key, row in rows.items()),
        reported_by=as_asked(reported_by),
    )


def valid_time(as_of: datetime | date | None) -> datetime | None:
    """The moment `render` filters by: a date stands for its last instant (UTC)."""
    if as_of is None or isinstance(as_of, datetime):
        return as_of
    return datetime.combine(as_of, time.max, tzinfo=UTC)


def as_asked(as_of: datetime | date | None) -> str | None:
    """`as_of` as the answer repeats it: a day, or an instant in UTC."""
    if as_of is None:
        return None
    if isinstance(as_of, datetime):
        return iso(as_of)
    return as_of.isoformat()
