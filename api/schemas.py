"""The API's response shapes, as msgspec Structs (separate from the domain's events).

View answers share one shape with `timeline replay --json` (projections.replay.ReplayAnswer):
`{view, known_at, position, as_of, rows: [{key, row}]}`; the row types are the views' own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from domain.events import ReportEvent
from domain.report import Report
from projections.registry import ROW_TYPES
from projections.views.timeline import TimelineRow


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
        ],
        frozen=True,
        kw_only=True,
    )


# For the OpenAPI document: what GET /v1/<view> answers, per view, whole or a page.
ANSWER_TYPES: dict[str, type[msgspec.Struct]] = {view: _answer_type(view) for view in ROW_TYPES}


class TimelinePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the timeline, in order of occurrence; pass `next_cursor` as `cursor` for
    the next page (null on the last one)."""

    items: tuple[TimelineRow, ...]
    next_cursor: str | None
    limit: int
    position: int


class SeriesPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One point of a history, flat: a line of a chart's table."""

    series: str  # the history's key without its day: kursk-oblast/ukraine
    place: str  # the region, theatre or direction
    actor: str
    date: str
    measure: str  # current or peak (holdings), strength or deployment (forces), rate (front)
    value: float | None
    low: float | None
    high: float | None
    unit: str
    qualifier: str
    verification: str
    report_id: UUID
    source: str | None
    outlet: str | None
    side: str | None
    precision: str | None  # of the occurrence: instant, day, month or interval


class SeriesPoints(msgspec.Struct, frozen=True, kw_only=True):
    """A page of a history's points: its days (`limit` of them at most, in key order) and
    where the next page starts (`next_cursor`, null on the last one)."""

    view: str
    known_at: str | None
    position: int
    as_of: str | None
    points: tuple[SeriesPoint, ...]
    limit: int
    next_cursor: str | None


class SourceSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A source as the timeline knows it: what it reported, relayed by whom, how it stands."""

    source: str
    sides: tuple[str, ...]
    outlets: tuple[str, ...]
    reports: int
    retracted: int
    kinds: dict[str, int]
    verification: dict[str, int]


class RegionSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A region reports are about; `key` is what /v1/holdings/{region} and ?region= take."""

    key: str
    region: str
    country: str | None
    reports: int
    kinds: dict[str, int]
    actors: tuple[str, ...]


class SourcesAnswer(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    sources: tuple[SourceSummary, ...]


class RegionsAnswer(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    regions: tuple[RegionSummary, ...]


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    recorded_at: datetime
    type: str
    version: int
    event: ReportEvent


class ReportAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A report as it stands now, and every event that made it so."""

    report: Report
    position: int
    history: tuple[HistoryEntry, ...]


class PointGeometry(msgspec.Struct, frozen=True):
    coordinates: tuple[float, float]  # longitude, latitude (GeoJSON order)
    type: Literal["Point"] = "Point"


class StrikeFeature(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    geometry: PointGeometry
    properties: dict[str, Any]
    type: Literal["Feature"] = "Feature"


class StrikeFeatures(msgspec.Struct, frozen=True, kw_only=True):
    """A page of strikes (up to `limit` of them, in key order; those without coordinates are
    left out, so a page may hold fewer features), and where the next page starts
    (`next_cursor`, null on the last one): GeoJSON's foreign members."""

    features: tuple[StrikeFeature, ...]
    position: int
    limit: int
    next_cursor: str | None
    type: Literal["FeatureCollection"] = "FeatureCollection"


# --- answers to writes ---------------------------------------------------------------------


class Filed(msgspec.Struct, frozen=True, kw_only=True):
    """What a write recorded: the report, its version now (what If-Match takes next), and the
    log position of the write (pass it as `min_position` to read your own write). A retry
    with the same Idempotency-Key gets the first answer again, with `replayed: true`."""

    report_id: UUID
    version: int
    position: int
    recorded_at: datetime
    replayed: bool


class FiledLine(msgspec.Struct, frozen=True, kw_only=True):
    """The report filed from one line of a batch (`line` is 1-based, as in the body)."""

    line: int
    report_id: UUID
    version: int
    position: int


class BatchFiled(msgspec.Struct, frozen=True, kw_only=True):
    """Every report of a batch, filed in one transaction; `position` is the last one's."""

    reports: tuple[FiledLine, ...]
    position: int
    recorded_at: datetime
    replayed: bool
