"""The views' routes, one per view from one table (`GET /v1/holdings`, `/v1/strikes`, the
histories, ...), a region's holdings, and each history's chart-ready points.

Every route here reads a view as a question asks (api/answers.py): whole, a page of its rows,
the rows at or under a `key`, or with `explain=true` a page of the reports behind them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import msgspec
from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from api.answers import (
    OWN_ROWS,
    POSITION_HEADER,
    VERSIONED,
    VIEW_ERRORS,
    ReadSide,
    Rows,
    answer_view,
    memoized,
)
from api.auth import requires_reader
from api.csv_answers import HISTORIES
from api.explain_pages import (
    DEFAULT_EXPLAIN_PAGE,
    DEFAULT_REPORTS_PER_ROW,
    ExplainCursor,
    ExplainLimit,
    ExplainReports,
    ExplainReportsCursor,
    ExplanationPage,
    page_of,
)
from api.limits import Cost, costs
from api.problems import ApiProblem, Documented, problem
from api.questions import Explain, Question, RowKey, row_key
from api.read_cache import answered_before
from api.row_pages import PageCursor, PageLimit, explain_limit, paged, rows_limit
from projections.past_answers import at_or_under
from projections.read_side.series_points import SeriesPoints, points_of
from projections.read_side.shapes import ANSWER_TYPES
from projections.row_keys import slug

# name, summary, description: a route each.
VIEWS_SERVED = (
    (
        "holdings",
        "Territory held per region and actor",
        "For each region and actor: the area held now (with qualifier and source), its peak "
        "and the share lost from the peak. From the seed article: Ukraine holds about 800 km² "
        "of Kursk Oblast, at most 1,376 km² at the peak. The dated series of claims is "
        "/v1/holdings-series.",
    ),
    (
        "damage",
        "Cumulative damage per category, place and responsible side",
        "The latest running total per source (321 port infrastructure facilities since July "
        "2023, per Zelenskiy) kept apart from the sum of incident increments: a total is never "
        "added to another total.",
    ),
    (
        "forces",
        "Troop strength per actor and theatre",
        "The latest deployment (59,000 Russian troops to Kursk; about 11,000 North Korean "
        "troops, neither confirmed nor denied by Russia) and the latest strength with its "
        "target (575,000, aiming for 690,000). Every deployment and strength, day by day, "
        "is /v1/forces-history.",
    ),
    (
        "front",
        "Advance rates per direction",
        "How fast each side advances in each direction, by the latest standing claim "
        "(Kurakhove: 200-300 m/day). The rates over time are /v1/front-series.",
    ),
    (
        "strikes",
        "Each strike with place, weapon, claimed effects and claimant",
        "Berdiansk: a guided-missile attack; no injuries, port working, fires extinguished - "
        "per the Kremlin-installed governor. GeoJSON at /v1/strikes.geojson.",
    ),
    (
        "holdings-series",
        "Territory held over time, one row per region, actor and day",
        "Every standing area claim as a dated point for charts, and the day's withdrawn "
        "claims, keyed `kursk-oblast/ukraine/2024-08-06`. `?key=kursk-oblast/ukraine` gives "
        "one holding's whole series.",
    ),
    (
        "forces-history",
        "Troop strengths and deployments over time, one row per actor, theatre and day",
        "A point per standing strength or deployment for charts, the day's deployments in "
        "full (with caveats), and its withdrawn reports, keyed "
        "`north-korea/kursk-oblast/2024-11-01`.",
    ),
    (
        "front-series",
        "Advance rates over time, one row per direction, actor and day",
        "Every standing rate as a dated point, keyed `kurakhove/russia/2024-11-23`.",
    ),
    (
        "incidents",
        "Incidents added up per region, actor, kind, source and month",
        "The event datasets' increments summed: incidents counted and their fatalities (low, "
        "best and high apart), per country, region, actor (each side of a clash; `all-actors` "
        "counts each incident once; an actor so named is `named-all-actors`), kind, source "
        "(ACLED and UCDP never mixed) and month, "
        "keyed `russia/kursk/all-actors/clash/acled/2024-11`. Never mixed with the running "
        "totals of /v1/damage. With explain=true&key=..., the incidents in a sum, `reports` "
        "at a time, the next ones by `reports_cursor`.",
    ),
    (
        "tallies",
        "Losses per side, what is counted and source: each source's running total",
        "Each source's latest standing running total (never added to another; a lower later "
        "total replaces a higher one) and the sum of its increments, apart. Keyed "
        "`russia/equipment/tanks/unspecified/general-staff-of-the-armed-forces-of-ukraine` "
        "(category, state) or `russia/people/killed/military/uk-mod` (figure, status): "
        "`?key=russia/equipment/tanks` is every source's tanks. The General Staff's 9,419 "
        "tanks on 23 November 2024 (`?as_of=2024-11-23`). By month: /v1/tallies-series.",
    ),
    (
        "tallies-series",
        "Losses over time, one row per side, what is counted, source and month",
        "Every standing total and increment of a source as a flat, dated point (date, "
        "value, low, high, qualifier, report id, source), totals and increments apart, "
        "keyed `russia/equipment/tanks/unspecified/general-staff-of-the-armed-forces-of-"
        "ukraine/2024-11`. `?key=russia/people/total/military/uk-mod` charts one source's "
        "estimates.",
    ),
)


def _title(name: str) -> str:
    return "".join(part.title() for part in name.split("-"))


def _keyed(key: str | None) -> Rows:
    """The rows at or under `key` (as a reader types it), or all."""
    if key is None:
        return Rows()
    wanted = row_key(key)
    return Rows(pick=at_or_under(wanted), under=wanted, memo_key=("key", wanted))


def _view_route(name: str, summary: str, description: str) -> Any:
    @get(
        f"/{name}",
        operation_id=f"get{_title(name)}",
        summary=summary,
        description=description,
        opt=costs(Cost.VERSIONED_PAST if name in VERSIONED | OWN_ROWS else Cost.PAST),
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
        reads: NamedDependency[ReadSide],
        asked: NamedDependency[Question],
        explain: Explain = False,
        key: RowKey = None,
        limit: PageLimit = None,
        cursor: PageCursor = None,
        reports: ExplainReports = DEFAULT_REPORTS_PER_ROW,
        reports_cursor: ExplainReportsCursor = None,
    ) -> Response[bytes]:
        rows = _keyed(key)
        if explain:
            page = page_of(explain_limit(limit), cursor, reports, reports_cursor)
            rows = replace(rows, explain_key=rows.under, explain=page)
        elif paged(name, limit, cursor):
            rows = replace(rows, page=page_of(rows_limit(limit), cursor))
        return await answer_view(request, reads, name, asked, rows)

    return read_view


@get(
    "/holdings/{region:str}",
    operation_id="getHoldingsOfRegion",
    summary="Holdings in one region (current figure and series per actor)",
    description="`region` is a name or its key: `Kursk Oblast` or `kursk-oblast`.",
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
    reads: NamedDependency[ReadSide],
    region: FromPath[str],
    asked: NamedDependency[Question],
    explain: Explain = False,
    limit: ExplainLimit = DEFAULT_EXPLAIN_PAGE,
    cursor: ExplainCursor = None,
    reports: ExplainReports = DEFAULT_REPORTS_PER_ROW,
    reports_cursor: ExplainReportsCursor = None,
) -> Response[bytes]:
    prefix = slug(region) + "/"
    view = await reads.view("holdings", asked.min_position)
    if not asked.about_the_past and not any(key.startswith(prefix) for key in view.docs):
        known = sorted({key.split("/", 1)[0] for key in view.docs})
        raise ApiProblem(
            404,
            "region-not-found",
            "No holdings for that region",
            f"no holdings are known for region {region!r}; regions with holdings: "
            f"{', '.join(known) or 'none yet'}",
        )
    rows = Rows(
        pick=lambda key: key.startswith(prefix),
        memo_key=("region", prefix),
        explain_key=slug(region),
        explain=page_of(limit, cursor, reports, reports_cursor) if explain else None,
    )
    return await answer_view(request, reads, "holdings", asked, rows)


class _AnyWillDo(Exception):
    """`If-None-Match: *` met the history's own page: any answer will do (a 304)."""

    def __init__(self, response: Response[bytes]) -> None:
        super().__init__()
        self.response = response


def _points_route(name: str) -> Any:
    @get(
        f"/{name}/points",
        operation_id=f"get{_title(name)}Points",
        summary=f"The {name} as flat points for charts, a page of days at a time",
        description=f"Every point of /v1/{name} (the same parameters and pages: `limit` "
        "days, `cursor`), one flat object each: series, place, actor, date, measure, value, "
        "low, high, unit, qualifier, verification, report, source, outlet, side, and the "
        "precision of the occurrence. As CSV with `Accept: text/csv` or "
        f"/v1/{name}/points.csv.",
        opt=costs(Cost.VERSIONED_PAST),
        middleware=[answered_before(name)],
        responses={200: Documented(SeriesPoints, description="A page of points"), **VIEW_ERRORS},
        name=f"points-{name}",
    )
    async def read_points(
        *,
        request: Request[Any, Any, Any],
        reads: NamedDependency[ReadSide],
        asked: NamedDependency[Question],
        key: RowKey = None,
        limit: PageLimit = None,
        cursor: PageCursor = None,
    ) -> Response[bytes]:
        rows = replace(_keyed(key), page=page_of(rows_limit(limit), cursor))
        view = await reads.view(name, asked.min_position)

        async def answer() -> tuple[msgspec.Struct, int]:
            # The history's own page, as its route answers it (and remembers it).
            series = await answer_view(request, reads, name, asked, rows)
            if series.status_code == HTTP_304_NOT_MODIFIED:  # If-None-Match: * (any answer)
                raise _AnyWillDo(series)
            at = int(series.headers[POSITION_HEADER])
            return await points_of(reads.pool, name, series.content, at), at

        question = ("points", asked.moment, rows.under, rows.page)
        try:
            return await memoized(request, view, question, answer)
        except _AnyWillDo as given:
            return given.response

    return read_points


VIEW_ROUTES = Router(
    path="/",
    guards=[requires_reader],
    tags=["views"],
    route_handlers=[
        *(_view_route(*served) for served in VIEWS_SERVED),
        holdings_of_region,
        *(_points_route(name) for name in HISTORIES),
    ],
)
