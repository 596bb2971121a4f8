"""A view's rows a page at a time, for the views whose rows grow with the log.

Strikes (a row per strike) and the histories (a row per key and day) hold more rows the
longer the war runs: at 10^6 events a whole `GET /v1/strikes` was 170 MB, put together in the
API process's memory. Their answers are therefore pages, as the timeline's are: up to `limit`
rows (default `DEFAULT_ROWS_PAGE`, at most `MAX_ROWS_PAGE`) in key order, and `next_cursor`
to ask for the rows after them (null on the last page); live pages are read by range of the
rows' index. The views with a row per region, actor or category (holdings, damage, forces,
front) answer whole, unless `limit` or `cursor` asks for a page: their bodies stay the bytes
`timeline replay --json` prints. `limit` and `cursor` mean the same with `explain=true`, where
a page explains its rows (api/explain_pages.py).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import QueryParameter

from api.cursors import cursor_of
from api.explain_pages import DEFAULT_EXPLAIN_PAGE, MAX_EXPLAIN_PAGE
from api.live_views import CANONICAL, HELD, Encoded, LiveRow, content_etag
from api.problems import ApiProblem
from projections.replay import ReplayAnswer

DEFAULT_ROWS_PAGE = 200
MAX_ROWS_PAGE = 1_000


PageLimit = Annotated[
    int | None,
    QueryParameter(
        ge=1,
        le=MAX_ROWS_PAGE,
        description=f"Rows per page, in key order: 1-{MAX_ROWS_PAGE}, default "
        f"{DEFAULT_ROWS_PAGE} for strikes and the histories (whose rows grow with the log; "
        "the other views answer whole unless `limit` or `cursor` is given); with "
        f"explain=true, rows explained per page, 1-{MAX_EXPLAIN_PAGE}, default "
        f"{DEFAULT_EXPLAIN_PAGE}",
    ),
]
PageCursor = Annotated[
    str | None,
    QueryParameter(description="next_cursor of the previous page"),
]


class RowsPage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A page of a view's answer: the shape of `timeline replay --json`'s, with `limit` and
    where the next page starts (`next_cursor`, null on the last page)."""

    view: str
    known_at: str | None
    position: int
    as_of: str | None
    rows: tuple[LiveRow, ...]
    limit: int
    next_cursor: str | None
    reported_by: str | None = None  # as a replayed answer writes it: absent when not asked


def paged(view: str, limit: int | None, cursor: str | None) -> bool:
    """Whether the view's answer is a page: always for a view whose rows grow with the log."""
    return view not in HELD or limit is not None or cursor is not None


def rows_limit(limit: int | None) -> int:
    return DEFAULT_ROWS_PAGE if limit is None else limit


def explain_limit(limit: int | None) -> int:
    """The explanation page's size, or a 400 when `limit` is above what one explains."""
    if limit is None:
        return DEFAULT_EXPLAIN_PAGE
    if limit > MAX_EXPLAIN_PAGE:
        raise ApiProblem(
            400,
            "invalid-parameter",
            "A query parameter is not valid",
            f"limit: with explain=true, at most {MAX_EXPLAIN_PAGE} rows are explained per "
            f"page, got {limit}",
            field="limit",
        )
    return limit


def live_page(
    view: str, position: int, docs: list[tuple[str, bytes]], limit: int, *, more: bool
) -> Encoded:
    """Rows read live (canonical JSON, in key order, `limit` at most), as a page."""
    return _encoded(
        RowsPage(
            view=view,
            known_at=None,
            position=position,
            as_of=None,
            rows=tuple(LiveRow(key, msgspec.Raw(doc)) for key, doc in docs),
            limit=limit,
            next_cursor=cursor_of(docs[-1][0]) if more and docs else None,
        )
    )


def answer_page(answer: ReplayAnswer, after: str | None, limit: int) -> Encoded:
    """The page of a past answer's rows after the key `after`."""
    rows = [row for row in answer.rows if after is None or row.key > after]
    shown = rows[:limit]
    return _encoded(
        RowsPage(
            view=answer.view,
            # as the whole answer writes it (`encode_answer`)
            known_at=msgspec.json.decode(CANONICAL.encode(answer.known_at)),
            position=answer.position,
            as_of=answer.as_of,
            rows=tuple(LiveRow(row.key, msgspec.Raw(CANONICAL.encode(row.row))) for row in shown),
            limit=limit,
            next_cursor=cursor_of(shown[-1].key) if len(rows) > limit else None,
            reported_by=answer.reported_by,
        )
    )


def _encoded(page: RowsPage) -> Encoded:
    return Encoded(CANONICAL.encode(page), content_etag(page))
