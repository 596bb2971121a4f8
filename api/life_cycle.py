"""What happens to a report after it is filed (editors): corroborations, disputes, denials,
corrections, retraction. One route per step, from one table; each needs `If-Match` (the
version the caller last read), takes that step's command and answers as every write does
(api/write_answers.py): a stale version is 412 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Response, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath

from api import write_examples
from api.bodies import StrictJson
from api.schemas import Filed
from api.write_answers import (
    ANSWER_HEADERS,
    LIFE_CYCLE_ERRORS,
    IdempotencyKey,
    IfMatch,
    expected_version,
    filed,
    idempotency_key,
)
from application.commands import (
    CorrectReport,
    CorroborateReport,
    DenyReport,
    DisputeReport,
    LifeCycleCommand,
    RetractReport,
)
from application.reports import ReportService


@dataclass(frozen=True)
class Step:
    path: str
    operation_id: str
    summary: str
    description: str
    command: type[LifeCycleCommand]
    example: Callable[[], Any]


STEPS = (
    Step(
        "corroborations",
        "corroborateReport",
        "Record that another source backs the report",
        "From the seed article: Ukrainian Telegram channels heard the explosion in "
        "Berdiansk the administration reported.",
        CorroborateReport,
        write_examples.corroboration_example,
    ),
    Step(
        "disputes",
        "disputeReport",
        "Record that a party disputes the report",
        "The example is illustrative (the article records none): the Russian "
        "Defence Ministry, which did not answer Reuters, disputing the 800 km² of Kursk Oblast.",
        DisputeReport,
        write_examples.dispute_example,
    ),
    Step(
        "denials",
        "denyReport",
        "Record that a party denies the report",
        "The example is illustrative: in the article Russian authorities neither "
        "confirmed nor denied the 11,000 North Korean troops in Kursk Oblast; this is how a "
        "denial would be recorded.",
        DenyReport,
        write_examples.denial_example,
    ),
    Step(
        "corrections",
        "correctReport",
        "Correct the report's claim (and when it happened)",
        "The new claim supersedes the old, which stays in the log; it keeps the "
        "report's kind and must change something (else 422). The example is illustrative: the "
        "peak holding mistyped as 1,367 km², corrected to the source's 1,376 km².",
        CorrectReport,
        write_examples.correction_example,
    ),
    Step(
        "retraction",
        "retractReport",
        "Retract the report (final)",
        "A retracted report stays in the log, stops counting in every view and takes "
        "nothing more (409). The example is illustrative: a report filed twice.",
        RetractReport,
        write_examples.retraction_example,
    ),
)


def _route(step: Step) -> HTTPRouteHandler:
    async def record(
        *,
        report_service: NamedDependency[ReportService],
        report_id: FromPath[UUID],
        data: Any,
        if_match: IfMatch = None,
        idempotency_key_header: IdempotencyKey = None,
    ) -> Response[Filed]:
        key = idempotency_key(idempotency_key_header)
        version = expected_version(if_match, report_id)
        result = await report_service.apply(
            report_id, data, expected_version=version, idempotency_key=key
        )
        return filed(result)

    # The body's type is the step's own command: what the DTO decodes and the document shows.
    record.__annotations__["data"] = Annotated[
        step.command, Body(examples=[Example(value=step.example())])
    ]
    record.__name__ = record.__qualname__ = step.operation_id
    return post(
        f"/reports/{{report_id:uuid}}/{step.path}",
        operation_id=step.operation_id,
        summary=step.summary,
        description=f"{step.description} Needs If-Match: the version you last read.",
        dto=StrictJson[step.command],  # type: ignore[name-defined]
        return_dto=None,
        response_description="Recorded: the report's new version and the log position",
        response_headers=ANSWER_HEADERS,
        responses=LIFE_CYCLE_ERRORS,
    )(record)


LIFE_CYCLE_ROUTES = [_route(step) for step in STEPS]
