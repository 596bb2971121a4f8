"""How a read is answered, whatever it reads: from the views this process follows
(api/live_views.py) unless the question names a past (`known_at`, `position`, `as_of`), which
is answered from the reports' versions the views keep, or else by replaying the log, with the
same folds either way (projections/past_answers.py, projections/past_pages.py).

Each answer carries `X-Timeline-Position` (the log position it reflects) and an `ETag` of
its content; `If-None-Match` gives 304, and `min_position=N` waits, boundedly, until the view
reaches N. An answer is worked out once per position of its view and remembered with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from api.explain_pages import explained
from api.live_views import CANONICAL, Encoded, LiveView, LiveViews, content_etag, rows_in_table
from api.problems import ApiProblem, problem
from api.questions import Moment, Question, bad_parameter
from api.row_pages import answer_page, live_page
from projections import past_pages
from projections.explain_keys import Page
from projections.history import indexed, one_report_per_key
from projections.past_answers import past_answer
from projections.registry import VIEWS
from projections.replay import ReplayAnswer, answer_of, encode_answer
from store.event_store import EventStore

POSITION_HEADER = "X-Timeline-Position"

_Row = TypeVar("_Row", bound=msgspec.Struct)

VIEW_ERRORS = {
    400: problem("A parameter is not valid"),
    401: problem("An API key is needed"),
    403: problem("The key's role does not allow this"),
    429: problem("Too many requests from this key"),
    503: problem(
        "The views have not reached min_position, or too many questions about the past "
        "(as_of, known_at, position, explain) are being answered"
    ),
}

# The views that answer the past from their reports' versions (projections/past_answers.py)
# rather than by folding the log.
VERSIONED = frozenset(name for name, view in VIEWS.items() if indexed(view) is not None)
# The views whose past pages are found by their versions (projections/past_pages.py): the
# page's own reports are folded, not the log.
OWN_ROWS = frozenset(name for name, view in VIEWS.items() if one_report_per_key(view))


@dataclass(frozen=True, slots=True)
class ReadSide:
    """What reads read: the views this process follows, the pool reads go to (a standby's,
    where there is one), the log (for its head) and how long `min_position` may wait."""

    views: LiveViews
    pool: asyncpg.Pool
    store: EventStore
    wait_seconds: float

    async def view(self, name: str, min_position: int | None) -> LiveView:
        """The view in memory, once it has loaded and reached `min_position` (or 503)."""
        view = self.views[name]
        wanted = max(min_position or 0, 0)
        if view.loaded and view.position >= wanted:
            return view
        if wanted > 0:
            head = await self.store.position()
            if wanted > head:
                # No write has returned this position yet: waiting would not help.
                raise bad_parameter(
                    "min_position",
                    f"position {wanted} is beyond the head of the log ({head}); pass the "
                    "position a write returned",
                )
        if await self.views.wait_for(view, wanted, self.wait_seconds):
            return view
        detail = (
            f"the {name} view is at position {view.position}, not yet at {wanted}"
            if view.loaded
            else f"the {name} view is still loading"
        )
        raise ApiProblem(
            503,
            "views-behind",
            "The views have not caught up yet",
            f"{detail}; try again shortly",
            headers={"Retry-After": "1"},
        )

    async def replayed(self, name: str, moment: Moment, under: str | None = None) -> ReplayAnswer:
        """The view at a past moment: read from its reports' versions where it keeps them,
        else folded from the log; with `under`, it may hold only the rows at or under that
        key."""
        return await past_answer(
            self.pool,
            name,
            known_at=moment.known_at,
            position=moment.position,
            as_of=moment.as_of,
            under=under,
            reported_by=moment.reported_by,
        )

    async def own_rows_page(
        self, name: str, moment: Moment, page: Page, under: str | None = None
    ) -> ReplayAnswer:
        """The page after `page.after` (and the row after it, if any) of a view whose rows
        are each one report's (those at or under the key `under`, if given), at a past
        moment: found by its versions, else replayed."""
        if not moment.from_versions:
            return await self.replayed(name, moment, under)
        found = await past_pages.key_page(
            self.pool,
            name,
            page.after,
            page.limit,
            known_at=moment.known_at,
            position=moment.position,
            as_of=moment.as_of,
            under=under,
        )
        if found is None:
            return await self.replayed(name, moment, under)
        return answer_of(
            VIEWS[name], dict(found.rows), found.position, moment.known_at, moment.as_of
        )


def rows_of(answer: ReplayAnswer, row_type: type[_Row]) -> dict[str, _Row]:
    """A replayed answer's rows by key, as the view's row type."""
    return {entry.key: entry.row for entry in answer.rows if isinstance(entry.row, row_type)}


def _fresh(request: Request[Any, Any, Any], etag: str) -> bool:
    """Whether the client's If-None-Match already names this answer."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def respond(
    request: Request[Any, Any, Any],
    encoded: Encoded,
    position: int,
    media_type: str = "application/json",
) -> Response[bytes]:
    headers = {
        POSITION_HEADER: str(position),
        "ETag": encoded.etag,
        "Cache-Control": "no-cache",
    }
    if _fresh(request, encoded.etag):
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(encoded.body, media_type=media_type, headers=headers)


async def memoized(
    request: Request[Any, Any, Any],
    view: LiveView,
    question: object,
    answer: Callable[[], Awaitable[tuple[msgspec.Struct, int]]],
    media_type: str = "application/json",
) -> Response[bytes]:
    """The answer to `question` worked out once per position of `view` (an answer with its
    `position`, and that position)."""
    cached = view.memo(question)
    if not isinstance(cached, tuple):
        worked_out, at = await answer()
        cached = (Encoded(CANONICAL.encode(worked_out), content_etag(worked_out)), at)
        view.remember(question, cached)
    return respond(request, cached[0], cached[1], media_type=media_type)


@dataclass(frozen=True, slots=True)
class Rows:
    """Which of a view's rows a read asks for: those `pick` keeps (at most those `under` a
    key, remembered as `memo_key`), a page of them (`page`), or a page of the reports behind
    them (`explain`, about the rows at `explain_key`)."""

    pick: Callable[[str], bool] | None = None
    under: str | None = None
    memo_key: object = None
    explain_key: str | None = None
    explain: Page | None = None
    page: Page | None = None


async def answer_view(
    request: Request[Any, Any, Any],
    reads: ReadSide,
    name: str,
    asked: Question,
    rows: Rows = Rows(),
) -> Response[bytes]:
    """A whole view (or the rows asked for), live or at the moment asked, or a page of its
    rows (api/row_pages.py), or a page of the reports and log positions behind every figure."""
    view = await reads.view(name, asked.min_position)
    moment = asked.moment
    key = ("view", moment, rows.memo_key, rows.explain, rows.page)
    cached = view.memo(key)
    if not isinstance(cached, tuple):
        if rows.explain is not None:
            if not moment.from_versions:
                raise ApiProblem(
                    400,
                    "contradictory-parameters",
                    "The parameters contradict each other",
                    "explain, reported_by: an explanation follows the log's order, not the "
                    "order its sources published in; ask explain with known_at, position or "
                    "as_of, or reported_by without explain",
                    field="explain, reported_by",
                )
            cached = await explained(
                reads.pool,
                name,
                rows.explain_key,
                rows.explain,
                known_at=moment.known_at,
                # Live: exactly the rows this process serves, at their position.
                position=view.position if not moment.about_the_past else moment.position,
                as_of=moment.as_of,
            )
        elif moment.about_the_past:
            cached = await _past_rows(reads, name, moment, rows)
        elif rows.page is not None:
            cached = await live_page_of(reads.pool, view, rows.pick, rows.under, rows.page)
        else:  # a whole view is asked only of one this process holds (row_pages.paged)
            cached = (view.answer() if rows.pick is None else view.answer(rows.pick)), view.position
        view.remember(key, cached)
    return respond(request, cached[0], cached[1])


async def _past_rows(reads: ReadSide, name: str, moment: Moment, rows: Rows) -> tuple[Encoded, int]:
    if rows.page is not None and name in OWN_ROWS and (rows.pick is None or rows.under):
        answer = await reads.own_rows_page(name, moment, rows.page, rows.under)
        if rows.pick is not None:  # a replayed answer holds every row
            answer = _picked(answer, rows.pick)
        return answer_page(answer, rows.page.after, rows.page.limit), answer.position
    answer = await reads.replayed(name, moment, rows.under)
    if rows.pick is not None:
        answer = _picked(answer, rows.pick)
    if rows.page is not None:
        return answer_page(answer, rows.page.after, rows.page.limit), answer.position
    return Encoded(encode_answer(answer), content_etag(answer)), answer.position


def _picked(answer: ReplayAnswer, pick: Callable[[str], bool]) -> ReplayAnswer:
    return msgspec.structs.replace(answer, rows=tuple(row for row in answer.rows if pick(row.key)))


async def live_page_of(
    pool: asyncpg.Pool,
    view: LiveView,
    pick: Callable[[str], bool] | None,
    under: str | None,
    page: Page,
) -> tuple[Encoded, int]:
    """A page of the view's rows now (those `pick` keeps, at most those `under` a key):
    from this process's memory, or one range of the rows' index in PostgreSQL."""
    if view.holds_rows:
        keys = sorted(
            key
            for key in view.docs
            if (pick is None or pick(key)) and (page.after is None or key > page.after)
        )
        docs = [(key, view.docs[key]) for key in keys[: page.limit + 1]]
        position = view.position
    else:
        docs, position = await rows_in_table(
            pool, view, under, after=page.after, limit=page.limit + 1
        )
        if pick is not None:
            docs = [(key, doc) for key, doc in docs if pick(key)]
    more = len(docs) > page.limit
    return live_page(view.name, position, docs[: page.limit], page.limit, more=more), position
