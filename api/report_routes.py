"""The reports themselves: `GET /v1/reports/{report_id}` (a report as it stands, with its
whole history) for readers, and the writes for editors: filing (api/filing.py) and the
life-cycle steps after it (api/life_cycle.py).

A report is read where the other reads are (a standby, with TIMELINE_READ_DATABASE_URL):
`min_position` waits until that has replayed the position a write returned. One the standby
does not hold yet is looked for on the primary, so that a client who files a report and
follows its Location is not told it does not exist.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.answers import VIEW_ERRORS, ReadSide, respond
from api.auth import requires_editor, requires_reader
from api.bodies import requires_declared_body
from api.filing import FILING_ROUTES
from api.life_cycle import LIFE_CYCLE_ROUTES
from api.live_views import CANONICAL, Encoded
from api.problems import Documented, problem
from api.questions import MinPosition
from api.schemas import HistoryEntry, ReportAnswer
from application.reports import ReportService
from domain.errors import ReportNotFound
from store.event_store import EventStore


@get(
    "/reports/{report_id:uuid}",
    operation_id="getReport",
    summary="A report as it stands now, with its full event history",
    description="The report's `version` is what If-Match takes on its life-cycle routes; the "
    "ETag is the version too.",
    guards=[requires_reader],
    responses={
        200: Documented(ReportAnswer, description="The report"),
        404: problem("No report has this id"),
        **VIEW_ERRORS,
    },
)
async def report(
    request: Request[Any, Any, Any],
    reads: NamedDependency[ReadSide],
    pool: NamedDependency[asyncpg.Pool],
    report_id: FromPath[UUID],
    min_position: MinPosition = None,
) -> Response[bytes]:
    if min_position is not None:
        # The timeline's view moves with the read side's log: once it is at the position,
        # the events up to it are there to read.
        await reads.view("timeline", min_position)
    try:
        history = await ReportService(EventStore(reads.pool)).history(report_id)
    except ReportNotFound:
        if reads.pool is pool:  # no standby: the log has no such report
            raise
        history = await ReportService(EventStore(pool)).history(report_id)
    position = history.events[-1].position
    body = CANONICAL.encode(
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


REPORT_ROUTES = Router(
    path="/",
    tags=["reports"],
    route_handlers=[
        report,
        Router(
            path="/",
            guards=[requires_editor, requires_declared_body],
            route_handlers=[*FILING_ROUTES, *LIFE_CYCLE_ROUTES],
        ),
    ],
)
