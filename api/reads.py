"""Reads for dashboards: the views, the timeline feed, sources, regions and single reports.

Every read answers from the in-memory views (api/live_views.py) unless the question names a
past: `known_at` (transaction time), `position` (a log position) or `as_of` (valid time),
which are answered from the versions of the reports behind the aggregate views, or else by
replaying the log, with the same folds either way (projections/past_answers.py). Each
answer carries `X-Timeline-Position` (the log position it reflects) and an `ETag` of its rows;
`If-None-Match` gives 304, and `min_position=N` waits, boundedly, until the views reach N.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from api.auth import requires_reader
from api.cursors import cursor_of, key_of
from api.explain_pages import (
    DEFAULT_EXPLAIN_PAGE,
    DEFAULT_REPORTS_PER_ROW,
    ExplainCursor,
    ExplainLimit,
    ExplainReports,
    ExplanationPage,
    explained,
    page_of,
)
from api.limits import Cost, costs
from api.live_views import Encoded, LiveView, LiveViews, content_etag, rows_in_table
from api.problems import ApiProblem, Documented, problem
from api.read_cache import answered_before
from api.row_pages import (
    PageCursor,
    PageLimit,
    answer_page,
    explain_limit,
    live_page,
    paged,
    rows_limit,
)
from api.schemas import (
    ANSWER_TYPES,
    HistoryEntry,
    PointGeometry,
    RegionsAnswer,
    RegionSummary,
    ReportAnswer,
    SourcesAnswer,
    SourceSummary,
    StrikeFeature,
    StrikeFeatures,
    TimelinePage,
)
from application.reports import ReportService
from domain.attribution import Verification
from domain.claims import CLAIM_KINDS
from projections import past_pages, timeline_pages
from projections.explain_keys import Page
from projections.history import indexed, one_report_per_key
from projections.past_answers import at_or_under, past_answer
from projections.registry import VIEWS
from projections.replay import InvalidReplayQuestion, ReplayAnswer, answer_of, encode_answer
from projections.row_keys import slug
from projections.strikes import StrikeRow
from projections.timeline import TimelineRow
from projections.timeline_groups import (
    REGION_GROUPS_AT,
    SOURCE_GROUPS_AT,
    RegionGroup,
    SourceGroup,
    region_groups,
    region_groups_in,
    region_groups_of,
    source_groups,
    source_groups_in,
    source_groups_of,
)
from projections.timeline_query import TimelineFilter
from store.event_store import MAX_POSITION

POSITION_HEADER = "X-Timeline-Position"
MAX_PAGE = 200
DEFAULT_PAGE = 50

_canonical = msgspec.json.Encoder(order="sorted")
_Row = TypeVar("_Row", bound=msgspec.Struct)

# --- the question every read may ask ------------------------------------------------------

KnownAt = Annotated[
    str | None,
    QueryParameter(
        description="Answer as known at this time (transaction time), ISO 8601 with a zone",
        examples=[],
    ),
]
AtPosition = Annotated[
    int | None,
    QueryParameter(ge=0, le=MAX_POSITION, description="Answer as the log stood at this position"),
]
AsOf = Annotated[
    str | None,
    QueryParameter(
        description="Answer as things were on this date or at this time (valid time): "
        "2024-09-01 or 2024-09-01T12:00:00Z"
    ),
]
MinPosition = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        le=MAX_POSITION,
        description="Wait (a few seconds at most, then 503) until the views include this "
        "log position: pass the position your write returned to read your own write",
    ),
]


RowKey = Annotated[
    str | None,
    QueryParameter(
        description="Only the rows whose key is this or begins with it, part by part: "
        "`kursk-oblast` picks `kursk-oblast/ukraine` and `kursk-oblast/ukraine/2024-08`. "
        "Names are accepted as written (`Kursk Oblast/Ukraine`)"
    ),
]


def row_key(text: str) -> str:
    """A key as a reader may type it, written as the views write keys."""
    return "/".join(slug(part) for part in text.split("/"))


Explain = Annotated[
    bool,
    QueryParameter(
        description="Instead of the rows, the reports and log positions behind each figure: "
        "source, outlet, verification, and what superseded, corrected or retracted them; "
        "a page of rows at a time, in key order (`limit`, `cursor`: follow `next_cursor` "
        "until it is null)"
    ),
]


class Question(msgspec.Struct, frozen=True):
    known_at: datetime | None
    position: int | None
    as_of: datetime | date | None

    @property
    def about_the_past(self) -> bool:
        return self.known_at is not None or self.position is not None or self.as_of is not None


def _moment(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as error:
        raise _bad_parameter(
            name,
            f"expected an ISO 8601 time with a zone, years 0001 to 9999 "
            f"(as in 2024-11-24T00:00:00Z), got {text[:40]!r}: {_reason(error)}",
        ) from None
    if moment.utcoffset() is None:
        raise _bad_parameter(name, f"needs a time zone (as in 2024-11-24T00:00:00Z), got {text!r}")
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise _bad_parameter(
            name, f"must fall between years 0001 and 9999 in UTC too, got {text!r}"
        ) from None
    return moment


def _date_or_moment(name: str, text: str) -> datetime | date:
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            raise _bad_parameter(
                name,
                f"expected a date, years 0001 to 9999 (as in 2024-09-01), got {text!r}: "
                f"{_reason(error)}",
            ) from None
    return _moment(name, text)


def _reason(error: ValueError) -> str:
    # Python's own words ("year 0 is out of range", "month must be in 1..12"), without the
    # repetition of the text it could not read.
    return str(error).split(": '", 1)[0]


def _bad_parameter(name: str, message: str) -> ApiProblem:
    return ApiProblem(
        400,
        "invalid-parameter",
        "A query parameter is not valid",
        f"{name}: {message}",
        field=name,
    )


def question(known_at: str | None, position: int | None, as_of: str | None) -> Question:
    if known_at is not None and position is not None:
        raise ApiProblem(
            400,
            "contradictory-parameters",
            "The parameters contradict each other",
            "known_at, position: both name the moment of the log to answer from; give one "
            "(known_at a time, position a log position), not both",
            field="known_at, position",
        )
    return Question(
        known_at=None if known_at is None else _moment("known_at", known_at),
        position=position,
        as_of=None if as_of is None else _date_or_moment("as_of", as_of),
    )


# --- answering ------------------------------------------------------------------------------


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


async def live_view(state: State, name: str, min_position: int | None) -> LiveView:
    """The view in memory, once it has loaded and reached `min_position` (or 503)."""
    views: LiveViews = state.views
    view = views[name]
    settings = state.settings
    wanted = max(min_position or 0, 0)
    if view.loaded and view.position >= wanted:
        return view
    if wanted > 0:
        head = await state.store.position()
        if wanted > head:
            # No write has returned this position yet: waiting would not help.
            raise _bad_parameter(
                "min_position",
                f"position {wanted} is beyond the head of the log ({head}); pass the "
                "position a write returned",
            )
    if await views.wait_for(view, wanted, settings.default_wait_seconds):
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


async def replayed(
    state: State, name: str, asked: Question, under: str | None = None
) -> ReplayAnswer:
    """The view as the question asks about the past: read from its reports' versions where
    it keeps them, else folded from the log (projections/past_answers.py); with `under`, it
    may hold only the rows at or under that key."""
    return await past_answer(
        state.read_pool,
        name,
        known_at=asked.known_at,
        position=asked.position,
        as_of=asked.as_of,
        under=under,
    )


async def own_rows_page(state: State, name: str, asked: Question, page: Page) -> ReplayAnswer:
    """The page after `page.after` (and the row after it, if any) of a view whose rows are
    each one report's, as the question asks about the past: found by its versions
    (projections/past_pages.py), else replayed."""
    found = await past_pages.key_page(
        state.read_pool,
        name,
        page.after,
        page.limit,
        known_at=asked.known_at,
        position=asked.position,
        as_of=asked.as_of,
    )
    if found is None:
        return await replayed(state, name, asked)
    view = VIEWS[name]
    return answer_of(view, dict(found.rows), found.position, asked.known_at, asked.as_of)


def rows_of(answer: ReplayAnswer, row_type: type[_Row]) -> dict[str, _Row]:
    """A replayed answer's rows by key, as the view's row type."""
    return {entry.key: entry.row for entry in answer.rows if isinstance(entry.row, row_type)}


async def answer_view(
    request: Request[Any, Any, Any],
    state: State,
    name: str,
    asked: Question,
    *,
    min_position: int | None,
    pick: Callable[[str], bool] | None = None,
    under: str | None = None,
    memo_key: object = None,
    explain_key: str | None = None,
    explain_page: Page | None = None,
    rows_page: Page | None = None,
) -> Response[bytes]:
    """A whole view (or the rows `pick` keeps: at most those `under` a key), live or as the
    question asks, or with `rows_page` that page of its rows (api/row_pages.py); with
    `explain_page`, that page of the reports and log positions behind every figure instead."""
    view = await live_view(state, name, min_position)
    key = ("view", asked, memo_key, explain_page, rows_page)
    cached = view.memo(key)
    if not isinstance(cached, tuple):
        if explain_page is not None:
            cached = await explained(
                state.read_pool,
                name,
                explain_key,
                explain_page,
                known_at=asked.known_at,
                # Live: exactly the rows this process serves, at their position.
                position=view.position if not asked.about_the_past else asked.position,
                as_of=asked.as_of,
            )
        elif asked.about_the_past and rows_page is not None and pick is None and name in OWN_ROWS:
            answer = await own_rows_page(state, name, asked, rows_page)
            cached = (answer_page(answer, rows_page.after, rows_page.limit), answer.position)
        elif asked.about_the_past:
            answer = await replayed(state, name, asked, under)
            if pick is not None:
                answer = msgspec.structs.replace(
                    answer, rows=tuple(row for row in answer.rows if pick(row.key))
                )
            if rows_page is not None:
                encoded = answer_page(answer, rows_page.after, rows_page.limit)
            else:
                encoded = Encoded(encode_answer(answer), content_etag(answer))
            cached = (encoded, answer.position)
        elif rows_page is not None:
            cached = await live_page_of(state.read_pool, view, pick, under, rows_page)
        else:  # a whole view is asked only of one this process holds (row_pages.paged)
            cached = (view.answer() if pick is None else view.answer(pick)), view.position
        view.remember(key, cached)
    return respond(request, cached[0], cached[1])


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
        cached = (Encoded(_canonical.encode(worked_out), content_etag(worked_out)), at)
        view.remember(question, cached)
    return respond(request, cached[0], cached[1], media_type=media_type)


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
# page's own reports are folded, not the log. (Their explanations still fold it.)
OWN_ROWS = frozenset(name for name, view in VIEWS.items() if one_report_per_key(view))


def _view_route(name: str, summary: str, description: str) -> Any:
    @get(
        f"/{name}",
        operation_id="get" + "".join(part.title() for part in name.split("-")),
        summary=summary,
        description=description,
        tags=["views"],
        guards=[requires_reader],
        opt=costs(Cost.VERSIONED_PAST if name in VERSIONED else Cost.PAST),
        middleware=[answered_before(name)],
        responses={
            200: Documented(
                ANSWER_TYPES[name] | ExplanationPage,
                description=f"The {name} view, whole or a page of its rows (with "
                "explain=true: a page of the reports behind them)",
            ),
            404: problem("With explain=true: no row matches `key` (the nearest keys are named)"),
            **VIEW_ERRORS,
        },
        name=f"view-{name}",
    )
    async def read_view(
        *,
        request: Request[Any, Any, Any],
        state: State,
        known_at: KnownAt = None,
        position: AtPosition = None,
        as_of: AsOf = None,
        min_position: MinPosition = None,
        explain: Explain = False,
        key: RowKey = None,
        limit: PageLimit = None,
        cursor: PageCursor = None,
        reports: ExplainReports = DEFAULT_REPORTS_PER_ROW,
    ) -> Response[bytes]:
        wanted = None if key is None else row_key(key)
        rows_page = None
        if not explain and paged(name, limit, cursor):
            rows_page = page_of(rows_limit(limit), cursor)
        return await answer_view(
            request,
            state,
            name,
            question(known_at, position, as_of),
            min_position=min_position,
            pick=None if wanted is None else at_or_under(wanted),
            under=wanted,
            memo_key=None if wanted is None else ("key", wanted),
            explain_key=wanted,
            explain_page=page_of(explain_limit(limit), cursor, reports) if explain else None,
            rows_page=rows_page,
        )

    return read_view


VIEW_ROUTES = [
    _view_route(
        "holdings",
        "Territory held per region and actor",
        "For each region and actor: the area held now (with qualifier and source), its peak "
        "and the share lost from the peak. From the seed article: Ukraine holds about 800 km² "
        "of Kursk Oblast, at most 1,376 km² at the peak. The dated series of claims is "
        "/v1/holdings-series.",
    ),
    _view_route(
        "damage",
        "Cumulative damage per category, place and responsible side",
        "The latest running total per source (321 port infrastructure facilities since July "
        "2023, per Zelenskiy) kept apart from the sum of incident increments: a total is never "
        "added to another total.",
    ),
    _view_route(
        "forces",
        "Troop strength per actor and theatre",
        "The latest deployment (59,000 Russian troops to Kursk; about 11,000 North Korean "
        "troops, neither confirmed nor denied by Russia) and the latest strength with its "
        "target (575,000, aiming for 690,000). Every deployment and strength, day by day, "
        "is /v1/forces-history.",
    ),
    _view_route(
        "front",
        "Advance rates per direction",
        "How fast each side advances in each direction, by the latest standing claim "
        "(Kurakhove: 200-300 m/day). The rates over time are /v1/front-series.",
    ),
    _view_route(
        "strikes",
        "Each strike with place, weapon, claimed effects and claimant",
        "Berdiansk: a guided-missile attack; no injuries, port working, fires extinguished - "
        "per the Kremlin-installed governor. GeoJSON at /v1/strikes.geojson.",
    ),
    _view_route(
        "holdings-series",
        "Territory held over time, one row per region, actor and day",
        "Every standing area claim as a dated point for charts, and the day's withdrawn "
        "claims, keyed `kursk-oblast/ukraine/2024-08-06`. `?key=kursk-oblast/ukraine` gives "
        "one holding's whole series.",
    ),
    _view_route(
        "forces-history",
        "Troop strengths and deployments over time, one row per actor, theatre and day",
        "A point per standing strength or deployment for charts, the day's deployments in "
        "full (with caveats), and its withdrawn reports, keyed "
        "`north-korea/kursk-oblast/2024-11-01`.",
    ),
    _view_route(
        "front-series",
        "Advance rates over time, one row per direction, actor and day",
        "Every standing rate as a dated point, keyed `kurakhove/russia/2024-11-23`.",
    ),
]


@get(
    "/holdings/{region:str}",
    operation_id="getHoldingsOfRegion",
    summary="Holdings in one region (current figure and series per actor)",
    description="`region` is a name or its key: `Kursk Oblast` or `kursk-oblast`.",
    tags=["views"],
    guards=[requires_reader],
    opt=costs(Cost.VERSIONED_PAST),
    middleware=[answered_before("holdings")],
    responses={
        200: Documented(
            ANSWER_TYPES["holdings"] | ExplanationPage,
            description="The region's holdings (with explain=true: a page of the reports "
            "behind them)",
        ),
        404: problem("No holdings are known for the region"),
        **VIEW_ERRORS,
    },
)
async def holdings_of_region(
    *,
    request: Request[Any, Any, Any],
    state: State,
    region: FromPath[str],
    known_at: KnownAt = None,
    position: AtPosition = None,
    as_of: AsOf = None,
    min_position: MinPosition = None,
    explain: Explain = False,
    limit: ExplainLimit = DEFAULT_EXPLAIN_PAGE,
    cursor: ExplainCursor = None,
    reports: ExplainReports = DEFAULT_REPORTS_PER_ROW,
) -> Response[bytes]:
    prefix = slug(region) + "/"
    view = await live_view(state, "holdings", min_position)
    asked = question(known_at, position, as_of)
    if not asked.about_the_past and not any(key.startswith(prefix) for key in view.docs):
        known = sorted({key.split("/", 1)[0] for key in view.docs})
        raise ApiProblem(
            404,
            "region-not-found",
            "No holdings for that region",
            f"no holdings are known for region {region!r}; regions with holdings: "
            f"{', '.join(known) or 'none yet'}",
        )
    return await answer_view(
        request,
        state,
        "holdings",
        asked,
        min_position=min_position,
        pick=lambda key: key.startswith(prefix),
        memo_key=("region", prefix),
        explain_key=slug(region),
        explain_page=page_of(limit, cursor, reports) if explain else None,
    )


# --- the timeline ---------------------------------------------------------------------------


def _after(cursor: str) -> str:
    sort_key = key_of(cursor)
    if sort_key is None or sort_key.count("|") != 2:
        raise _not_a_cursor()
    return sort_key


def _not_a_cursor() -> ApiProblem:
    return _bad_parameter("cursor", "not a cursor this service gave; pass next_cursor as is")


def _range_end(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    when = _date_or_moment(name, text)
    if isinstance(when, datetime):
        return when
    return datetime(when.year, when.month, when.day, tzinfo=UTC)


def _kinds(kind: list[str] | None) -> frozenset[str] | None:
    if not kind:
        return None
    kinds = frozenset(k.strip() for value in kind for k in value.split(",") if k.strip())
    unknown = sorted(kinds - set(CLAIM_KINDS))
    if unknown:
        raise _bad_parameter(
            "kind", f"unknown kind {unknown[0]!r}; expected one of {', '.join(CLAIM_KINDS)}"
        )
    return kinds


def _page(
    *,
    rows: dict[str, TimelineRow],
    order: Sequence[tuple[str, str]],
    after: str | None,
    wanted: TimelineFilter,
    limit: int,
) -> tuple[list[str], str | None]:
    """Up to `limit` keys after the cursor that pass the filter, and the next cursor."""
    start = 0 if after is None else bisect.bisect_right(order, (after, "\U0010ffff"))
    keys: list[str] = []
    for index in range(start, len(order)):
        key = order[index][1]
        if wanted.matches(rows[key]):
            if len(keys) == limit:
                return keys, cursor_of(rows[keys[-1]].sort_key)
            keys.append(key)
    return keys, None


class _RawPage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[msgspec.Raw, ...]
    next_cursor: str | None
    limit: int
    position: int


@get(
    "/timeline",
    operation_id="getTimeline",
    summary="Every report in order of when it happened, filtered, a page at a time",
    description="In order of occurrence, then of reporting, then of recording. Filters combine; "
    "date ranges are half-open [from, to) and match reports whose time overlaps them. Pages "
    "are bounded (limit 1-200); follow `next_cursor` until it is null. Retracted reports are "
    "left out unless include_retracted=true.",
    tags=["views"],
    guards=[requires_reader],
    opt=costs(Cost.VERSIONED_PAST),
    middleware=[answered_before("timeline")],
    responses={200: Documented(TimelinePage, description="One page"), **VIEW_ERRORS},
)
async def timeline(
    *,
    request: Request[Any, Any, Any],
    state: State,
    kind: Annotated[
        list[str] | None,
        QueryParameter(
            description="Claim kind(s), repeatable or comma-separated: strike,damage_tally"
        ),
    ] = None,
    region: Annotated[
        str | None, QueryParameter(description="Region name or key: kursk-oblast")
    ] = None,
    actor: Annotated[str | None, QueryParameter(description="Actor name or key: ukraine")] = None,
    source: Annotated[str | None, QueryParameter(description="Source name, any case")] = None,
    verification: Annotated[
        Verification | None, QueryParameter(description="Verification state")
    ] = None,
    occurred_from: Annotated[
        str | None, QueryParameter(description="Date or time with zone")
    ] = None,
    occurred_to: Annotated[str | None, QueryParameter(description="Date or time with zone")] = None,
    reported_from: Annotated[
        str | None, QueryParameter(description="Date or time with zone")
    ] = None,
    reported_to: Annotated[str | None, QueryParameter(description="Date or time with zone")] = None,
    include_retracted: Annotated[
        bool, QueryParameter(description="Include retracted reports (marked retracted: true)")
    ] = False,
    limit: Annotated[
        int, QueryParameter(ge=1, le=MAX_PAGE, description="Page size")
    ] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None, QueryParameter(description="next_cursor of the previous page")
    ] = None,
    known_at: KnownAt = None,
    position: AtPosition = None,
    as_of: AsOf = None,
    min_position: MinPosition = None,
) -> Response[bytes]:
    view = await live_view(state, "timeline", min_position)
    memo_key = ("timeline", tuple(sorted(request.query_params.multi_items())))
    cached = view.memo(memo_key)
    if isinstance(cached, tuple):
        encoded, at = cached
        return respond(request, encoded, at)
    wanted = TimelineFilter(
        kinds=_kinds(kind),
        region=region,
        actor=actor,
        source=source,
        verification=None if verification is None else verification.value,
        occurred_from=_range_end("occurred_from", occurred_from),
        occurred_to=_range_end("occurred_to", occurred_to),
        reported_from=_range_end("reported_from", reported_from),
        reported_to=_range_end("reported_to", reported_to),
        include_retracted=include_retracted,
    )
    after = None if cursor is None else _after(cursor)
    asked = question(known_at, position, as_of)
    past = None
    if asked.about_the_past:
        try:
            past = await past_pages.timeline_page(
                state.read_pool,
                wanted,
                after,
                limit,
                known_at=asked.known_at,
                position=asked.position,
                as_of=asked.as_of,
            )
        except InvalidReplayQuestion:
            raise  # the question's own problem (api/problems.py)
        except ValueError:
            raise _not_a_cursor() from None
    if past is not None:
        docs = tuple(msgspec.Raw(document) for document in past.documents)
        next_cursor = None if past.next_after is None else cursor_of(past.next_after)
        at = past.position
    elif asked.about_the_past:  # its versions have not reached the cut: replayed
        answer = await replayed(state, "timeline", asked)
        rows = rows_of(answer, TimelineRow)
        order = sorted((row.sort_key, key) for key, row in rows.items())
        keys, next_cursor = _page(rows=rows, order=order, after=after, wanted=wanted, limit=limit)
        docs = tuple(msgspec.Raw(_canonical.encode(rows[key])) for key in keys)
        at = answer.position
    else:
        try:
            found = await timeline_pages.page(state.read_pool, wanted, after, limit)
        except ValueError:
            raise _not_a_cursor() from None
        docs = tuple(msgspec.Raw(document) for document in found.documents)
        next_cursor = None if found.next_after is None else cursor_of(found.next_after)
        at = found.position
    page = _RawPage(items=docs, next_cursor=next_cursor, limit=limit, position=at)
    encoded = Encoded(_canonical.encode(page), content_etag(page))
    view.remember(memo_key, (encoded, at))
    return respond(request, encoded, at)


# --- sources and regions (from the timeline) -------------------------------------------------


def _counted(counts: Iterable[tuple[str, int]]) -> dict[str, int]:
    counted: Counter[str] = Counter()
    for name, count in counts:
        counted[name] += count
    return dict(sorted(counted.items()))


def _sources(groups: Iterable[SourceGroup]) -> tuple[SourceSummary, ...]:
    # Grouped in the order of their first report, so that two spellings of one source
    # (equal but for case) come in the order a reader of the rows meets them.
    by_source: dict[str, list[SourceGroup]] = {}
    for group in sorted(groups, key=lambda group: group.first_key):
        by_source.setdefault(group.source, []).append(group)
    return tuple(
        SourceSummary(
            source=source,
            sides=tuple(sorted({group.side for group in groups})),
            outlets=tuple(sorted({group.outlet for group in groups if group.outlet})),
            reports=sum(group.reports for group in groups),
            retracted=sum(group.reports for group in groups if group.retracted),
            kinds=_counted((group.kind, group.reports) for group in groups),
            verification=_counted((group.verification, group.reports) for group in groups),
        )
        for source, groups in sorted(by_source.items(), key=lambda item: item[0].casefold())
    )


def _regions(groups: Iterable[RegionGroup]) -> tuple[RegionSummary, ...]:
    # In the order of their first report: the region's name and country are those of the
    # first report (by id) that gives one, as a reader of the rows in key order finds them.
    by_region: dict[str, list[RegionGroup]] = {}
    for group in sorted(groups, key=lambda group: group.first_key):
        by_region.setdefault(group.region_key, []).append(group)
    return tuple(
        RegionSummary(
            key=key,
            region=groups[0].region or key,
            country=next((group.country for group in groups if group.country), None),
            reports=sum(group.reports for group in groups),
            kinds=_counted((group.kind, group.reports) for group in groups),
            actors=tuple(sorted({actor for group in groups for actor in group.actors})),
        )
        for key, groups in sorted(by_region.items())
    )


_Groups = TypeVar("_Groups")


def _timeline_summary_route(
    name: str,
    summary: str,
    answer_type: type[msgspec.Struct],
    groups: tuple[
        Callable[[asyncpg.Pool], Awaitable[tuple[int, _Groups]]],
        tuple[str, Callable[[Iterable[asyncpg.Record]], _Groups]],
        Callable[[Iterable[TimelineRow]], _Groups],
    ],
    summarize: Callable[[_Groups, int], msgspec.Struct],
) -> Any:
    """A read that sums the timeline up (sources, regions): live from the timeline's table,
    as the question asks about the past from its entries and the rows they replaced (or from
    the replayed rows, while its generation is behind the cut); `groups` counts them in
    each: live, the past's query and what reads its rows, the replayed rows."""
    from_table, (counted_at, read_at), from_rows = groups

    @get(
        f"/{name}",
        operation_id=f"get{name.title()}",
        summary=summary,
        tags=["views"],
        guards=[requires_reader],
        opt=costs(Cost.PAST),
        middleware=[answered_before("timeline")],
        responses={200: Documented(answer_type, description=f"The {name}"), **VIEW_ERRORS},
        name=name,
    )
    async def read_summary(
        *,
        request: Request[Any, Any, Any],
        state: State,
        known_at: KnownAt = None,
        position: AtPosition = None,
        as_of: AsOf = None,
        min_position: MinPosition = None,
    ) -> Response[bytes]:
        view = await live_view(state, "timeline", min_position)
        asked = question(known_at, position, as_of)

        async def answer() -> tuple[msgspec.Struct, int]:
            found = None
            if asked.about_the_past:
                found = await past_pages.groups_at(
                    state.read_pool,
                    counted_at,
                    known_at=asked.known_at,
                    position=asked.position,
                    as_of=asked.as_of,
                )
            if found is not None:
                at, counted = found[0], read_at(found[1])
            elif asked.about_the_past:
                past = await replayed(state, "timeline", asked)
                counted, at = from_rows(rows_of(past, TimelineRow).values()), past.position
            else:
                at, counted = await from_table(state.read_pool)
            return summarize(counted, at), at

        return await memoized(request, view, (name, asked), answer)

    return read_summary


sources = _timeline_summary_route(
    "sources",
    "Every source, with what it reported and how its reports stand",
    SourcesAnswer,
    (source_groups, (SOURCE_GROUPS_AT, source_groups_in), source_groups_of),
    lambda groups, at: SourcesAnswer(position=at, sources=_sources(groups)),
)
regions = _timeline_summary_route(
    "regions",
    "Every region reports are about, with counts by kind and the actors named",
    RegionsAnswer,
    (region_groups, (REGION_GROUPS_AT, region_groups_in), region_groups_of),
    lambda groups, at: RegionsAnswer(position=at, regions=_regions(groups)),
)


# --- strikes as GeoJSON ----------------------------------------------------------------------


def _features(rows: Iterable[StrikeRow]) -> tuple[StrikeFeature, ...]:
    features = []
    for row in rows:
        place = row.place
        if place.latitude is None or place.longitude is None:
            continue
        features.append(
            StrikeFeature(
                id=row.report_id,
                geometry=PointGeometry((place.longitude, place.latitude)),
                properties={
                    "place": place.name,
                    "region": place.region,
                    "country": place.country,
                    "attacker": row.attacker,
                    "target": row.target,
                    "weapon": row.weapon,
                    "claimant": row.claimant.source,
                    "verification": row.verification.value,
                    "occurred": msgspec.to_builtins(row.occurred),
                    "effects": msgspec.to_builtins(row.effects),
                },
            )
        )
    return tuple(features)


@get(
    "/strikes.geojson",
    operation_id="getStrikesGeoJSON",
    summary="Strikes whose place has coordinates, as a GeoJSON FeatureCollection",
    description="A page of strikes at a time (`limit`, `cursor`; `next_cursor` in the body, "
    "null on the last page), in key order; strikes without coordinates are left out, so a "
    "page may hold fewer features than `limit`.",
    tags=["views"],
    guards=[requires_reader],
    opt=costs(Cost.VERSIONED_PAST),
    middleware=[answered_before("strikes")],
    media_type="application/geo+json",
    responses={
        200: Documented(
            StrikeFeatures, description="The strikes", media_type="application/geo+json"
        ),
        **VIEW_ERRORS,
    },
)
async def strikes_geojson(
    *,
    request: Request[Any, Any, Any],
    state: State,
    known_at: KnownAt = None,
    position: AtPosition = None,
    as_of: AsOf = None,
    min_position: MinPosition = None,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> Response[bytes]:
    view = await live_view(state, "strikes", min_position)
    asked = question(known_at, position, as_of)
    page = page_of(rows_limit(limit), cursor)

    async def answer() -> tuple[msgspec.Struct, int]:
        rows: list[tuple[str, StrikeRow]]
        if asked.about_the_past:
            past = await own_rows_page(state, "strikes", asked, page)
            at = past.position
            rows = [
                (key, row)
                for key, row in rows_of(past, StrikeRow).items()
                if page.after is None or key > page.after
            ][: page.limit + 1]
        else:
            docs, at = await rows_in_table(
                state.read_pool, view, None, after=page.after, limit=page.limit + 1
            )
            rows = [(key, msgspec.json.decode(doc, type=StrikeRow)) for key, doc in docs]
        shown = rows[: page.limit]
        more = len(rows) > page.limit
        features = _features(row for _, row in shown)
        next_cursor = cursor_of(shown[-1][0]) if more else None
        return StrikeFeatures(
            features=features, position=at, limit=page.limit, next_cursor=next_cursor
        ), at

    return await memoized(
        request, view, ("geojson", asked, page), answer, media_type="application/geo+json"
    )


# --- one report -------------------------------------------------------------------------------


@get(
    "/reports/{report_id:uuid}",
    operation_id="getReport",
    summary="A report as it stands now, with its full event history",
    description="The report's `version` is what If-Match takes on its life-cycle routes; the "
    "ETag is the version too.",
    tags=["reports"],
    guards=[requires_reader],
    responses={
        200: Documented(ReportAnswer, description="The report"),
        404: problem("No report has this id"),
        **VIEW_ERRORS,
    },
)
async def report(
    request: Request[Any, Any, Any], state: State, report_id: FromPath[UUID]
) -> Response[bytes]:
    history = await ReportService(state.store).history(report_id)
    position = history.events[-1].position
    body = _canonical.encode(
        ReportAnswer(
            report=history.report,
            position=position,
            history=tuple(
                HistoryEntry(
                    position=recorded.position,
                    recorded_at=recorded.recorded_at,
                    type=recorded.event.stored_name,
                    version=recorded.event.originator_version,
                    event=recorded.event,  # type: ignore[arg-type]
                )
                for recorded in history.events
            ),
        )
    )
    return respond(request, Encoded(body, f'"{history.report.version}"'), position)


READ_ROUTES = [
    *VIEW_ROUTES,
    holdings_of_region,
    timeline,
    sources,
    regions,
    strikes_geojson,
    report,
]
