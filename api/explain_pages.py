"""`?explain=true`, a page of rows at a time.

A whole view's explanation names every report behind every row: at a million events it ran
to 37 MB. So the API gives it as the timeline gives its feed: up to `limit` rows (default
`DEFAULT_EXPLAIN_PAGE`, at most `MAX_EXPLAIN_PAGE`) in key order, and `next_cursor` to ask
for the rows after them (null on the last page); and of each row's reports, those behind its
figures and the latest `reports` others (`reports_total` counts them all). Each row is
explained exactly as `timeline explain --reports N --json` explains it; only the page's
rows are worked out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import asyncpg
import msgspec
from litestar.params import QueryParameter

from api.cursors import cursor_of, key_of
from api.live_views import CANONICAL, Encoded, content_etag
from api.problems import ApiProblem
from projections.explain import explain_page
from projections.explain_keys import EarlierReports, Page
from projections.explanation import Explanation

DEFAULT_EXPLAIN_PAGE = 20
MAX_EXPLAIN_PAGE = 100
# A figure disputed for years stands on thousands of reports (a holding at 10^6 events: 3.8 MB
# for one region): a row lists those behind its figures and the latest of the rest.
DEFAULT_REPORTS_PER_ROW = 100
MAX_REPORTS_PER_ROW = 1_000


ExplainLimit = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_EXPLAIN_PAGE,
        description=f"With explain=true: rows explained per page (1-{MAX_EXPLAIN_PAGE}, "
        f"default {DEFAULT_EXPLAIN_PAGE}), in key order",
    ),
]
ExplainReports = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_REPORTS_PER_ROW,
        description="With explain=true: of each row's reports, the latest listed (1-"
        f"{MAX_REPORTS_PER_ROW}, default {DEFAULT_REPORTS_PER_ROW}) besides those behind its "
        "figures, which are always listed; `reports_total` says how many feed the row, and "
        "`earlier_reports` is the `reports_cursor` of the reports before those listed",
    ),
]
ExplainCursor = Annotated[
    str | None,
    QueryParameter(description="With explain=true: next_cursor of the previous page"),
]
ExplainReportsCursor = Annotated[
    str | None,
    QueryParameter(
        description="With explain=true: a row's `earlier_reports`, to list the reports before "
        "those it listed (the `reports` latest of them): the next page of the reports behind "
        "one row, such as the incidents in a sum"
    ),
]


class ExplanationPage(Explanation, frozen=True, kw_only=True):
    """`timeline explain --json`'s answer, for the rows of one page, and where the next
    page starts (`next_cursor`, null on the last page)."""

    limit: int
    reports: int  # the most of each row's reports listed besides those behind its figures
    next_cursor: str | None


def page_of(
    limit: int,
    cursor: str | None,
    reports: int = DEFAULT_REPORTS_PER_ROW,
    reports_cursor: str | None = None,
) -> Page:
    """The page a request asks for, or a 400 naming `cursor` (or `reports_cursor`) when it
    is not one we gave."""
    return Page(
        limit=limit,
        after=None if cursor is None else after_key(cursor),
        reports=reports,
        before=None if reports_cursor is None else _earlier(reports_cursor),
    )


def _earlier(cursor: str) -> EarlierReports:
    earlier = EarlierReports.of_cursor(cursor)
    if earlier is None:
        raise ApiProblem(
            400,
            "invalid-parameter",
            "A query parameter is not valid",
            "reports_cursor: not a cursor this service gave; pass a row's earlier_reports as is",
            field="reports_cursor",
        )
    return earlier


def after_key(cursor: str) -> str:
    """The key a page starts after, or a 400 naming `cursor` when it is not one we gave."""
    key = key_of(cursor)
    if key is None:
        raise ApiProblem(
            400,
            "invalid-parameter",
            "A query parameter is not valid",
            "cursor: not a cursor this service gave; pass next_cursor as is",
            field="cursor",
        )
    return key


async def explained(
    pool: asyncpg.Pool,
    view_name: str,
    key: str | None,
    page: Page,
    *,
    known_at: datetime | None,
    position: int | None,
    as_of: datetime | date | None,
) -> tuple[Encoded, int]:
    """The page of the explanation, encoded, and the log position it reflects."""
    explanation, more = await explain_page(
        pool,
        view_name,
        key,
        page=page,
        known_at=known_at,
        position=position,
        as_of=as_of,
    )
    answer = _paged(explanation, page, more)
    return Encoded(CANONICAL.encode(answer), content_etag(answer)), answer.position


def _paged(explanation: Explanation, page: Page, more: bool) -> ExplanationPage:
    rows = explanation.rows
    return ExplanationPage(
        **msgspec.structs.asdict(explanation),
        limit=page.limit,
        reports=DEFAULT_REPORTS_PER_ROW if page.reports is None else page.reports,
        next_cursor=cursor_of(rows[-1].key) if more and rows else None,
    )
