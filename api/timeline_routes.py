"""The timeline and what it sums up: `GET /v1/timeline` (every report in order of when it
happened, filtered, a page at a time), `/v1/sources` and `/v1/regions`. Live pages are read
from the timeline's table; past ones from its entries and the rows they replaced
(projections/past_pages.py), or from its replay while it is being rebuilt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
import msgspec
from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.answers import VIEW_ERRORS, ReadSide, memoized, respond, rows_of
from api.auth import requires_reader
from api.cursors import cursor_of, key_of
from api.limits import Cost, costs
from api.live_views import CANONICAL, Encoded, content_etag
from api.problems import Documented
from api.questions import Question, bad_parameter, date_or_moment, not_a_cursor
from api.read_cache import answered_before
from api.schemas import TimelinePage
from domain.attribution import Verification
from domain.claims import CLAIM_KINDS
from projections import past_pages, timeline_pages
from projections.read_side.replayed_timeline import replayed_page
from projections.read_side.sources_and_regions import (
    RegionsAnswer,
    SourcesAnswer,
    summed_regions,
    summed_sources,
)
from projections.replay import InvalidReplayQuestion
from projections.timeline_groups import (
    REGION_GROUPS_AT,
    SOURCE_GROUPS_AT,
    region_groups,
    region_groups_in,
    region_groups_of,
    source_groups,
    source_groups_in,
    source_groups_of,
)
from projections.timeline_query import TimelineFilter
from projections.views.timeline import TimelineRow

MAX_PAGE = 200
DEFAULT_PAGE = 50


DateOrTime = Annotated[str | None, QueryParameter(description="Date or time with zone")]


def _after(cursor: str) -> str:
    sort_key = key_of(cursor)
    if sort_key is None or sort_key.count("|") != 2:
        raise not_a_cursor()
    return sort_key


def _range_end(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    when = date_or_moment(name, text)
    if isinstance(when, datetime):
        return when
    return datetime(when.year, when.month, when.day, tzinfo=UTC)


def _kinds(kind: list[str] | None) -> frozenset[str] | None:
    if not kind:
        return None
    kinds = frozenset(k.strip() for value in kind for k in value.split(",") if k.strip())
    unknown = sorted(kinds - set(CLAIM_KINDS))
    if unknown:
        raise bad_parameter(
            "kind", f"unknown kind {unknown[0]!r}; expected one of {', '.join(CLAIM_KINDS)}"
        )
    return kinds


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
    opt=costs(Cost.VERSIONED_PAST),
    responses={200: Documented(TimelinePage, description="One page"), **VIEW_ERRORS},
)
async def timeline(
    *,
    request: Request[Any, Any, Any],
    reads: NamedDependency[ReadSide],
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
    occurred_from: DateOrTime = None,
    occurred_to: DateOrTime = None,
    reported_from: DateOrTime = None,
    reported_to: DateOrTime = None,
    include_retracted: Annotated[
        bool, QueryParameter(description="Include retracted reports (marked retracted: true)")
    ] = False,
    limit: Annotated[
        int, QueryParameter(ge=1, le=MAX_PAGE, description="Page size")
    ] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None, QueryParameter(description="next_cursor of the previous page")
    ] = None,
    asked: NamedDependency[Question],
) -> Response[bytes]:
    view = await reads.view("timeline", asked.min_position)
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
    docs, next_after, at = await _page(reads, asked, wanted, after, limit)
    next_cursor = None if next_after is None else cursor_of(next_after)
    page = _RawPage(items=docs, next_cursor=next_cursor, limit=limit, position=at)
    encoded = Encoded(CANONICAL.encode(page), content_etag(page))
    view.remember(memo_key, (encoded, at))
    return respond(request, encoded, at)


async def _page(
    reads: ReadSide,
    asked: Question,
    wanted: TimelineFilter,
    after: str | None,
    limit: int,
) -> tuple[tuple[msgspec.Raw, ...], str | None, int]:
    """The page's rows (as stored), the sort key to continue after, and its position."""
    moment = asked.moment
    found: timeline_pages.Page | past_pages.TimelinePage | None
    try:
        if not moment.about_the_past:
            found = await timeline_pages.page(reads.pool, wanted, after, limit)
        elif not moment.from_versions:
            found = None
        else:
            found = await past_pages.timeline_page(
                reads.pool,
                wanted,
                after,
                limit,
                known_at=moment.known_at,
                position=moment.position,
                as_of=moment.as_of,
            )
    except InvalidReplayQuestion:
        raise  # the question's own problem (api/problems.py)
    except ValueError:
        raise not_a_cursor() from None
    if found is not None:
        docs = tuple(msgspec.Raw(document) for document in found.documents)
        return docs, found.next_after, found.position
    # The timeline's versions have not reached the cut (it is being rebuilt), or the question
    # is what had been published by a date, which the log's fold answers: replayed.
    answer = await reads.replayed("timeline", moment)
    rows, next_after = replayed_page(answer, wanted, after, limit)
    return tuple(msgspec.Raw(CANONICAL.encode(row)) for row in rows), next_after, answer.position


_Groups = TypeVar("_Groups")


def _summary_route(
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
    at a past moment from its entries and the rows they replaced (or from the replayed rows,
    while its generation is behind the cut); `groups` counts them in each: live, the past's
    query and what reads its rows, the replayed rows."""
    from_table, (counted_at, read_at), from_rows = groups

    @get(
        f"/{name}",
        operation_id=f"get{name.title()}",
        summary=summary,
        opt=costs(Cost.PAST),
        responses={200: Documented(answer_type, description=f"The {name}"), **VIEW_ERRORS},
        name=name,
    )
    async def read_summary(
        *,
        request: Request[Any, Any, Any],
        reads: NamedDependency[ReadSide],
        asked: NamedDependency[Question],
    ) -> Response[bytes]:
        view = await reads.view("timeline", asked.min_position)
        moment = asked.moment

        async def answer() -> tuple[msgspec.Struct, int]:
            found = None
            if moment.about_the_past and moment.from_versions:
                found = await past_pages.groups_at(
                    reads.pool,
                    counted_at,
                    known_at=moment.known_at,
                    position=moment.position,
                    as_of=moment.as_of,
                )
            if found is not None:
                at, counted = found[0], read_at(found[1])
            elif moment.about_the_past:
                past = await reads.replayed("timeline", moment)
                counted, at = from_rows(rows_of(past, TimelineRow).values()), past.position
            else:
                at, counted = await from_table(reads.pool)
            return summarize(counted, at), at

        return await memoized(request, view, (name, moment), answer)

    return read_summary


sources = _summary_route(
    "sources",
    "Every source, with what it reported and how its reports stand",
    SourcesAnswer,
    (source_groups, (SOURCE_GROUPS_AT, source_groups_in), source_groups_of),
    lambda groups, at: SourcesAnswer(position=at, sources=summed_sources(groups)),
)
regions = _summary_route(
    "regions",
    "Every region reports are about, with counts by kind and the actors named",
    RegionsAnswer,
    (region_groups, (REGION_GROUPS_AT, region_groups_in), region_groups_of),
    lambda groups, at: RegionsAnswer(position=at, regions=summed_regions(groups)),
)

TIMELINE_ROUTES = Router(
    path="/",
    guards=[requires_reader],
    tags=["views"],
    middleware=[answered_before("timeline")],
    route_handlers=[timeline, sources, regions],
)
