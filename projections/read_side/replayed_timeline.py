"""A page of the timeline from its replayed rows: while the timeline's serving generation has
not reached a past question's cut (it is being rebuilt), its pages are cut from the rows a
replay folds, with the same filter and sort keys as the stored pages
(projections/timeline_pages.py)."""

from __future__ import annotations

import bisect

from projections.replay import ReplayAnswer
from projections.timeline_query import TimelineFilter
from projections.views.timeline import TimelineRow


def replayed_page(
    answer: ReplayAnswer, wanted: TimelineFilter, after: str | None, limit: int
) -> tuple[list[TimelineRow], str | None]:
    """Up to `limit` rows after the sort key `after` that pass the filter, and the sort key
    to continue after if more pass."""
    rows = {e.key: e.row for e in answer.rows if isinstance(e.row, TimelineRow)}
    order = sorted((row.sort_key, key) for key, row in rows.items())
    start = 0 if after is None else bisect.bisect_right(order, (after, "\U0010ffff"))
    page: list[TimelineRow] = []
    for _, key in order[start:]:
        row = rows[key]
        if wanted.matches(row):
            if len(page) == limit:
                return page, page[-1].sort_key
            page.append(row)
    return page, None
