"""Filing reports (editors): one at a time, or an all-or-nothing NDJSON batch.

Nothing here decides anything: the handlers read the body and headers, hand the command to
`application.reports.ReportService` (the caller's, api/dependencies.py) and shape its answer
(api/write_answers.py). A rejected filing has written nothing: the domain's rules run before
the append, and the append is one transaction.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Response, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED

from api import write_examples
from api.answers import POSITION_HEADER
from api.bodies import Ndjson, StrictJson
from api.problems import ApiProblem, FieldError, problem
from api.schemas import BatchFiled, Filed, FiledLine
from api.services import Services
from api.settings import DEFAULT_MAX_BATCH_BYTES
from api.write_answers import (
    ANSWER_HEADERS,
    REPLAYED_HEADER,
    WRITE_ERRORS,
    IdempotencyKey,
    already_filed,
    answer_headers,
    filed,
    idempotency_key,
)
from application.commands import FileReport
from application.decoding import decode_command
from application.reports import ReportService, decide_filing
from domain.claims import CLAIM_KINDS
from domain.errors import InvalidReport, VersionConflict
from store.event_store import AppendResult

MAX_BATCH_LINES = 10_000
BATCH_LIMITS = (
    f"a batch takes at most {MAX_BATCH_LINES:,} reports (non-empty lines) and "
    f"{DEFAULT_MAX_BATCH_BYTES:,} bytes"
)


@post(
    "/reports",
    operation_id="fileReport",
    summary="File a report of any kind",
    description="The body is one tagged JSON document: `claim.kind` is one of "
    f"{', '.join(CLAIM_KINDS)}, and the claim's fields follow from it. Leave "
    "`report_id` out to get a new id. The examples are the seed article's reports, one per "
    "kind; the first is the General Staff source's 800 km² of Kursk Oblast, via Reuters.",
    dto=StrictJson[FileReport],
    return_dto=None,
    response_description="Filed",
    response_headers=ANSWER_HEADERS,
    responses={**WRITE_ERRORS, 409: problem("A report with this report_id is already filed")},
)
async def file_report(
    *,
    report_service: NamedDependency[ReportService],
    data: Annotated[
        FileReport,
        Body(
            title="A report",
            examples=[Example(value=v) for v in write_examples.filing_examples()],
        ),
    ],
    idempotency_key_header: IdempotencyKey = None,
) -> Response[Filed]:
    key = idempotency_key(idempotency_key_header)
    try:
        result = await report_service.file(data, idempotency_key=key)
    except VersionConflict as conflict:
        raise already_filed(None, conflict.report_id) from None
    return filed(result)


def read_batch(body: bytes) -> list[tuple[int, FileReport]]:
    """Each non-empty line's filing with its 1-based line number; ApiProblem naming every
    line at fault (its decoding and the domain's rules) when any is."""
    numbered = [(n, line) for n, line in enumerate(body.split(b"\n"), start=1) if line.strip()]
    if not numbered:
        raise ApiProblem(
            422,
            "empty-batch",
            "The batch is empty",
            f"send one FileReport JSON document per line (application/x-ndjson); {BATCH_LIMITS}",
        )
    if len(numbered) > MAX_BATCH_LINES:
        raise ApiProblem(
            413,
            "batch-too-large",
            "The batch has too many reports",
            f"the batch has {len(numbered):,} reports; {BATCH_LIMITS}: split it",
        )
    errors: list[FieldError] = []
    filings: list[tuple[int, FileReport]] = []
    first_line_of: dict[UUID, int] = {}
    for number, line in numbered:
        try:
            command = decode_command(FileReport, line)
            decide_filing(command)  # the domain's rules, so every line's mistakes come at once
        except InvalidReport as error:
            errors.append(FieldError(field=error.field, message=error.message, line=number))
            continue
        if command.report_id is not None:
            first = first_line_of.setdefault(command.report_id, number)
            if first != number:
                errors.append(
                    FieldError(
                        field="report_id",
                        message=f"line {first} files a report with the same id",
                        line=number,
                    )
                )
        filings.append((number, command))
    if errors:
        first_error = errors[0]
        raise ApiProblem(
            422,
            "invalid-batch",
            "The batch is not valid",
            f"{len(errors)} error(s) in {len(numbered)} reports; nothing was filed. First: "
            f"line {first_error.line}, {first_error.field}: {first_error.message}",
            field=first_error.field,
            errors=tuple(errors),
        )
    return filings


def batch_filed(
    filings: list[tuple[int, FileReport]], result: AppendResult
) -> Response[BatchFiled]:
    # A replay carries the first append's ids and positions, in the order of the lines.
    reports = tuple(
        FiledLine(
            line=number, report_id=event.report_id, version=event.version, position=event.position
        )
        for (number, _), event in zip(filings, result.events, strict=True)
    )
    return Response(
        BatchFiled(
            reports=reports,
            position=result.last_position,
            recorded_at=result.events[-1].recorded_at,
            replayed=result.replayed,
        ),
        status_code=HTTP_201_CREATED,
        headers=answer_headers(result),
    )


@post(
    "/reports:batch",
    operation_id="fileReports",
    summary="File many reports at once, all or none",
    description="An NDJSON body (`application/x-ndjson`): one FileReport JSON document per "
    "line, as POST /v1/reports takes; empty lines are skipped. Every line is decoded and "
    "checked against the rules before anything is written, and all the reports are filed "
    "in one transaction, or none. A 422 names every line at fault: "
    "`errors: [{line, field, message}]`. "
    f"Limits: {BATCH_LIMITS} (413 beyond). The example is the seed article's Kursk reports.",
    dto=Ndjson[FileReport],
    return_dto=None,
    request_max_body_size=DEFAULT_MAX_BATCH_BYTES,
    opt={"body_limits": BATCH_LIMITS},
    response_description="Every report filed, line by line",
    response_headers=[h for h in ANSWER_HEADERS if h.name in (POSITION_HEADER, REPLAYED_HEADER)],
    responses={
        **WRITE_ERRORS,
        409: problem("A line's report_id is already filed"),
        413: problem(f"The body is too large: {BATCH_LIMITS}"),
        422: problem(
            "A line breaks the schema or a rule (every line at fault is named), the batch is "
            "empty, or the Idempotency-Key was used with another body"
        ),
    },
)
async def file_batch(
    *,
    services: NamedDependency[Services],
    report_service: NamedDependency[ReportService],
    data: Annotated[
        bytes,
        Body(
            media_type="application/x-ndjson",
            title="Reports, one FileReport JSON document per line",
            examples=[Example(value=write_examples.batch_example())],
        ),
    ],
    idempotency_key_header: IdempotencyKey = None,
) -> Response[BatchFiled]:
    key = idempotency_key(idempotency_key_header)
    limit = services.settings.max_batch_bytes
    if len(data) > limit:
        raise ApiProblem(
            413,
            "body-too-large",
            "Request body too large",
            f"the batch is {len(data):,} bytes; this service takes at most {limit:,} bytes "
            f"and {MAX_BATCH_LINES:,} reports per batch: split it",
        )
    filings = read_batch(data)
    try:
        result = await report_service.file_many(
            [command for _, command in filings], idempotency_key=key
        )
    except VersionConflict as conflict:
        line = next(n for n, command in filings if command.report_id == conflict.report_id)
        raise already_filed(line, conflict.report_id) from None
    return batch_filed(filings, result)


FILING_ROUTES = [file_report, file_batch]
