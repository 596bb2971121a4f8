"""The views, held in memory by each API process and answered from there.

Views change only when the log moves, so a read need not ask PostgreSQL: each API process
keeps every view's serving rows (as canonical JSON bytes) and their tracking position, and
catches up when a runner's batch commits. The runner's write sends NOTIFY on
`timeline_views` ("view generation position deleted") in the batch's own transaction; the
catch-up reads, in one snapshot, the generation's position and only the rows written after
the position held (index `view_rows_changed`). A batch that deleted rows, a rebuild's switch
to another generation, and a lost listening connection all cause a full reload instead. A
poll every second is the fallback for notifications lost in other ways.

The rows may be read from a hot standby (TIMELINE_READ_DATABASE_URL) while the notifications
come from the primary, since a standby cannot LISTEN: a notification then often arrives
before the standby has replayed the batch it announces. A view found short of the position
announced for it is looked at again every `CATCHING_UP_SECONDS`, and after
`CATCHING_UP_TRIES` looks in a row with no progress at doubling intervals (up to the poll's
second): `min_position` follows the standby's replay closely, and a standby that is paused or
far behind is not asked a hundred times a second.

Each view's answer is encoded once per position, so a dashboard polling the same URL is
served bytes from memory. The bytes are those `projections.replay.encode_answer` gives for
the same view at the same position: a live read and an audit's replay cannot differ.

Only the views whose rows are one per region, actor or category are held (`HELD`): their
number does not grow with the log. The others do: the timeline and the strikes have a row per
report, a history a row per key and day. The timeline's rows stay in their table
(projections/timeline_entries.py) and are read a page at a time by index
(projections/timeline_pages.py); the strikes' and the histories' are read from `view_rows`
when asked, a page at a time (`rows_in_table`: a range of the rows' index, under a key or
not, api/row_pages.py), in one snapshot with the position
they stand at, and the answer is remembered within the process's answer budget like any
other. For those views this process follows only the generation and position, for
`min_position` and for the answers remembered per position.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import asyncpg
import msgspec

from api.answer_cache import AnswerCache, Memo
from projections.generations import serving
from projections.persistence import VIEWS_CHANNEL
from projections.read_side.view_rows import all_rows, changed_rows, rows_in_range
from projections.registry import ROW_TYPES, VIEWS
from store.backoff import Backoff, close_quietly

log = logging.getLogger("timeline.api.views")

POLL_SECONDS = 1.0
CATCHING_UP_SECONDS = 0.01
CATCHING_UP_TRIES = 20

# The views this process holds the rows of: a row per region, actor or category each.
HELD = frozenset({"holdings", "damage", "forces", "front", "tallies"})

# Answers are encoded with their keys sorted: the same answer, the same bytes and ETag.
CANONICAL = msgspec.json.Encoder(order="sorted")


class LiveRow(msgspec.Struct, frozen=True):
    key: str
    row: msgspec.Raw


class LiveAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The shape of `projections.replay.ReplayAnswer`, with rows already encoded."""

    view: str
    known_at: None
    position: int
    as_of: None
    rows: tuple[LiveRow, ...]


def etag_of(content: bytes) -> str:
    return 'W/"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'


def content_etag(answer: msgspec.Struct) -> str:
    """An ETag from what an answer says (a struct with a `position`), not from where the
    log stood: the same rows at a later position keep their ETag, so a dashboard polling
    with If-None-Match downloads a view again only when its rows changed. The position is
    in `X-Timeline-Position`; the ETag is weak, as the body's own `position` may differ."""
    return etag_of(CANONICAL.encode(msgspec.structs.replace(answer, position=0)))


@dataclass(slots=True)
class Encoded:
    body: bytes
    etag: str


@dataclass(slots=True)
class LiveView:
    """One view's serving rows at `position`, as canonical JSON by key (none for a view
    whose rows are read from their own table, `holds_rows` False)."""

    name: str
    row_type: type[msgspec.Struct]
    holds_rows: bool = True
    generation: int = 0
    position: int = -1  # -1: not loaded yet
    docs: dict[str, bytes] = field(default_factory=dict)
    _answer: Encoded | None = None
    # Shared with every view of the process (LiveViews), within one budget.
    _memo: Memo = field(default_factory=lambda: AnswerCache().memo())
    moved: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def loaded(self) -> bool:
        return self.position >= 0

    def answer(self, pick: Callable[[str], bool] | None = None) -> Encoded:
        """The view (or the rows whose keys `pick` keeps), encoded as a replay answer at this
        position; the whole view's is kept until the view moves. Only for a view whose rows
        this process holds."""
        if pick is None and self._answer is not None:
            return self._answer
        keys = sorted(key for key in self.docs if pick is None or pick(key))
        encoded = self.encoded([(key, self.docs[key]) for key in keys], self.position)
        if pick is None:
            self._answer = encoded
        return encoded

    def encoded(self, docs: Iterable[tuple[str, bytes]], position: int) -> Encoded:
        """Rows (canonical JSON, in key order) encoded as the view's answer at `position`."""
        answer = LiveAnswer(
            view=self.name,
            known_at=None,
            position=position,
            as_of=None,
            rows=tuple(LiveRow(key, msgspec.Raw(doc)) for key, doc in docs),
        )
        return Encoded(CANONICAL.encode(answer), content_etag(answer))

    def canonical(self, text: str) -> bytes:
        """A stored row as this process serves it: canonical JSON of the row's type."""
        return CANONICAL.encode(msgspec.json.decode(text, type=self.row_type))

    def memo(self, question: object) -> object | None:
        """An answer worked out before at this position (cleared whenever the view moves)."""
        return self._memo.get(question)

    def remember(self, question: object, answer: object) -> None:
        """Keep `answer` for this position, if the process's answer budget allows
        (api/answer_cache.py): the largest are not kept, the least recently used go first."""
        self._memo.put(question, answer)

    def _put(self, key: str, text: str) -> None:
        self.docs[key] = self.canonical(text)

    def replace_all(self, generation: int, position: int, rows: Iterable[tuple[str, str]]) -> None:
        self.docs.clear()
        for key, text in rows:
            self._put(key, text)
        self._moved_to(generation, position)

    def update(self, position: int, rows: Iterable[tuple[str, str]]) -> None:
        for key, text in rows:
            self._put(key, text)
        self._moved_to(self.generation, position)

    def _moved_to(self, generation: int, position: int) -> None:
        self.generation = generation
        self.position = position
        self._answer = None
        self._memo.clear()


class LiveViews:
    """Every view, kept up to date in this process while `run` runs."""

    def __init__(
        self, pool: asyncpg.Pool, database_url: str, answers: AnswerCache | None = None
    ) -> None:
        self._pool = pool
        self._url = database_url
        self.answers = AnswerCache() if answers is None else answers
        self.views = {
            name: LiveView(
                name, ROW_TYPES[name], holds_rows=name in HELD, _memo=self.answers.memo()
            )
            for name in VIEWS
        }
        self._full: set[str] = set(VIEWS)  # views to reload from scratch
        self._pending: set[str] = set(VIEWS)  # views a notification named since the last look
        # The newest (generation, position) a notification announced per view, until the
        # rows read show it (a standby replays after the primary has announced).
        self._announced: dict[str, tuple[int, int]] = {}
        self._missed = 0  # looks in a row that found the standby short of the announced
        self._dirty = asyncio.Event()
        self._dirty.set()
        self.ready = asyncio.Event()
        self.backoff = Backoff("live views: following the views", log)

    def __getitem__(self, name: str) -> LiveView:
        return self.views[name]

    async def wait_for(self, view: LiveView, position: int, seconds: float) -> bool:
        """Whether `view` reached `position` within `seconds`."""
        if view.position >= position:
            return True

        async def reached() -> None:
            async with view.moved:
                await view.moved.wait_for(lambda: view.position >= position)

        try:
            await asyncio.wait_for(reached(), seconds)
        except TimeoutError:
            return False
        return True

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        name, _, rest = payload.partition(" ")
        view = self.views.get(name)
        if view is None:
            return
        parts = rest.split(" ")
        if len(parts) != 3:
            self._full.add(name)
        else:
            generation, position, deleted = parts
            if deleted == "true" or int(generation) != view.generation:
                self._full.add(name)
            self._announced[name] = (int(generation), int(position))
        self._pending.add(name)
        self._dirty.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Listen and catch up until `stop`; reconnect (and reload everything) on failure."""
        while not stop.is_set():
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._url)
                await connection.add_listener(VIEWS_CHANNEL, self._notified)
                self._full.update(self.views)  # what happened while nobody listened
                self._pending.update(self.views)
                while not stop.is_set() and not connection.is_closed():
                    moved = await self._refresh()
                    self.ready.set()
                    self.backoff.succeeded()
                    behind = self._behind_announced()
                    self._missed = 0 if moved or not behind else self._missed + 1
                    if not behind:
                        if not await self._sleep(stop, POLL_SECONDS):
                            self._pending.update(self.views)  # the poll: look at every view
                        continue
                    # Reading a standby that has not replayed what was announced yet.
                    doubled = max(self._missed - CATCHING_UP_TRIES, 0)
                    seconds = min(CATCHING_UP_SECONDS * 2 ** min(doubled, 10), POLL_SECONDS)
                    if not await self._sleep(stop, seconds):
                        self._pending.update(behind)
            except Exception as error:  # whatever the database or the driver raised
                # (a pool terminated under a release is asyncpg's InternalClientError):
                # the loop must outlive it, or this process's views stop moving for good.
                await self.backoff.wait(error, stop)
            finally:
                await close_quietly(connection)

    def _behind_announced(self) -> set[str]:
        """The views whose rows read are short of what a notification announced (forgetting
        the announcements they have reached)."""
        behind = set()
        for name, (generation, position) in list(self._announced.items()):
            view = self.views[name]
            if (view.generation, view.position) >= (generation, position):
                del self._announced[name]
            else:
                behind.add(name)
        return behind

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> bool:
        """Until a notification or `stop` (True), or `seconds` (False)."""
        waiters = [asyncio.ensure_future(self._dirty.wait()), asyncio.ensure_future(stop.wait())]
        try:
            done, _ = await asyncio.wait(waiters, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        return bool(done)

    async def _refresh(self) -> bool:
        """Catch up the views named since the last look; whether any of them moved."""
        self._dirty.clear()
        pending, self._pending = self._pending, set()
        moved = False
        for name in sorted(pending):
            view = self.views[name]
            full = name in self._full
            self._full.discard(name)
            async with (
                self._pool.acquire() as connection,
                connection.transaction(isolation="repeatable_read", readonly=True),
            ):
                generation, position = await serving(connection, name) or (0, 0)
                if not view.holds_rows:
                    if (generation, position) == (view.generation, view.position):
                        continue
                    view.replace_all(generation, position, ())
                elif full or generation != view.generation:
                    view.replace_all(
                        generation, position, await all_rows(connection, name, generation)
                    )
                elif position != view.position:
                    since = view.position
                    view.update(position, await changed_rows(connection, name, generation, since))
                else:
                    continue
            moved = True
            async with view.moved:
                view.moved.notify_all()
        return moved


async def rows_in_table(
    pool: asyncpg.Pool,
    view: LiveView,
    under: str | None,
    *,
    after: str | None,
    limit: int,
) -> tuple[list[tuple[str, bytes]], int]:
    """The serving rows of a view this process does not hold whose key is `under` or lies
    under it (None: every row), after the key `after` and `limit` of them at most,
    as canonical JSON in key order, and the position they stand at (at or after the one this
    process has seen)."""
    rows, position = await rows_in_range(pool, view.name, under, after=after, limit=limit)
    return [(key, view.canonical(doc)) for key, doc in rows], position
