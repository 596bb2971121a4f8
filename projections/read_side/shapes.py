"""The shapes of the views' answers, one per view: `timeline replay --json`'s
`{view, known_at, position, as_of, rows: [{key, row}]}` with the view's own row type, and on a
page of the rows `limit` and `next_cursor` too. The OpenAPI document names them
(`HoldingsAnswer`, ...); the chart points read pages back through them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from projections.registry import ROW_TYPES


def _answer_type(view: str) -> type[msgspec.Struct]:
    row_type: Any = ROW_TYPES[view]
    title = "".join(part.title() for part in view.split("_"))
    entry = msgspec.defstruct(f"{title}Entry", [("key", str), ("row", row_type)], frozen=True)
    return msgspec.defstruct(
        f"{title}Answer",
        [
            ("view", str),
            ("known_at", datetime | None),
            ("position", int),
            ("as_of", str | None),
            ("rows", tuple[entry, ...]),  # type: ignore[valid-type]
            # Only on a page of the rows (api/row_pages.py): at most `limit` of them, and
            # where the next page starts (null on the last one).
            ("limit", int | msgspec.UnsetType, msgspec.UNSET),
            ("next_cursor", str | None | msgspec.UnsetType, msgspec.UNSET),
            # Only when asked what had been published by then (`?reported_by=`).
            ("reported_by", str | msgspec.UnsetType, msgspec.UNSET),
        ],
        frozen=True,
        kw_only=True,
    )


# For the OpenAPI document: what GET /v1/<view> answers, per view, whole or a page.
ANSWER_TYPES: dict[str, type[msgspec.Struct]] = {view: _answer_type(view) for view in ROW_TYPES}
