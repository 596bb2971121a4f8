"""`?explain=true`, a page of rows at a time.

A whole view's explanation names every report behind every row: at a million events it ran
to 37 MB. So the API gives it as the timeline gives its feed: up to `limit` rows (default
`DEFAULT_EXPLAIN_PAGE`, at most `MAX_EXPLAIN_PAGE`) in key order, and `next_cursor` to ask
for the rows after them (null on the last page). Each row is explained exactly as
`timeline explain --json` explains it; only the page's rows are worked out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import asyncpg
import msgspec
from litestar.params import QueryParameter

from api.cursors import cursor_of, key_of
from api.live_views import Encoded, content_etag
from api.problems import ApiProblem
from projections.explain import Explanation, Page, RowExplanation, explain_page

DEFAULT_EXPLAIN_PAGE = 20
MAX_EXPLAIN_PAGE = 100

_canonical = msgspec.json.Encoder(order="sorted")

ExplainLimit = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=MAX_EXPLAIN_PAGE,
        description=f"With explain=true: rows explained per page (1-{MAX_EXPLAIN_PAGE}, "
        f"default {DEFAULT_EXPLAIN_PAGE}), in key order",
    ),
]
ExplainCursor = Annotated[
    str | None,
    QueryParameter(description="With explain=true: next_cursor of the previous page"),
]


class ExplanationPage(msgspec.Struct, frozen=True, kw_only=True):
    """`timeline explain --json`'s answer, for the rows of one page, and where the next
    page starts (`next_cursor`, null on the last page)."""

    view: str
    key: str | None  # as asked
    known_at: datetime | None  # in UTC
    position: int  # the answer reflects the events 1..position
    as_of: str | None
    rows: tuple[RowExplanation, ...]
    limit: int
    next_cursor: str | None


def page_of(limit: int, cursor: str | None) -> Page:
    """The page a request asks for, or a 400 naming `cursor` when it is not one we gave."""
    return Page(limit=limit, after=None if cursor is None else _after(cursor))


def _after(cursor: str) -> str:
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
    return Encoded(_canonical.encode(answer), content_etag(answer)), answer.position


def _paged(explanation: Explanation, page: Page, more: bool) -> ExplanationPage:
    rows = explanation.rows
    return ExplanationPage(
        view=explanation.view,
        key=explanation.key,
        known_at=explanation.known_at,
        position=explanation.position,
        as_of=explanation.as_of,
        rows=rows,
        limit=page.limit,
        next_cursor=cursor_of(rows[-1].key) if more and rows else None,
    )
