"""Writing (editors): file reports, one at a time or as an all-or-nothing NDJSON batch, and
record what happens to them after (corroborations, disputes, denials, corrections,
retractions).

Nothing here decides anything: the handlers read the headers, hand the command to
`application.reports.ReportService` and shape its answer. Every write answers 201 with the
log position it reached (`X-Timeline-Position`; pass it as `min_position` to read your own
write) and the report's new version (its ETag, what `If-Match` takes next). A rejected write
has written nothing: the domain's rules run before the append, and the append is one
transaction.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, post
from litestar.datastructures import ResponseHeader, State
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, HeaderParameter
from litestar.status_codes import HTTP_201_CREATED

from api import write_examples
from api.auth import requires_editor
from api.bodies import Ndjson, StrictJson, requires_declared_body
from api.problems import ApiProblem, FieldError, problem
from api.reads import POSITION_HEADER
from api.schemas import BatchFiled, Filed, FiledLine
from api.settings import DEFAULT_MAX_BATCH_BYTES
from application.commands import (
    CorrectReport,
    CorroborateReport,
    DenyReport,
    DisputeReport,
    FileReport,
    LifeCycleCommand,
    RetractReport,
)
from application.decoding import decode_command
from application.reports import ReportService, decide_filing
from domain.claims import CLAIM_KINDS
from domain.errors import InvalidReport
from store.api_keys import ApiKey
from store.event_store import AppendResult, VersionConflict

REPORTS_PATH = "/v1/reports"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY = 200
MAX_BATCH_LINES = 10_000
BATCH_LIMITS = (
    f"a batch takes at most {MAX_BATCH_LINES:,} reports (non-empty lines) and "
    f"{DEFAULT_MAX_BATCH_BYTES:,} bytes"
)

# --- the caller ------------------------------------------------------------------------------


def callers_reports(request: Request[Any, Any, Any]) -> ReportService:
    """The report use cases for the API key that sent the request (the editor guard has
    found it): its Idempotency-Keys are its own, and another key's equal key is another."""
    key: ApiKey = request.state.api_key
    return ReportService(request.app.state.store, idempotency_scope=str(key.id))


CALLER = {"reports": Provide(callers_reports, sync_to_thread=False)}

# --- headers ---------------------------------------------------------------------------------

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Any 1-200 printable ASCII characters you choose per write (a UUID will "
        "do). A retry with the same key and the same body writes nothing and gets the first "
        "answer again, marked `Idempotent-Replayed: true`; the same key with another body "
        "is 422.",
        schema_extra={"minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY, "pattern": "^[ -~]+$"},
    ),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='Required: the report\'s version you last read, as `3`, `"3"` or '
        '`W/"3"`. GET /v1/reports/{report_id} gives it as `version` and as its ETag, and '
        "every write answers the new one. A stale version is 412 and nothing is written; "
        "no If-Match is 428.",
        schema_extra={"examples": ['"1"']},
    ),
]


def idempotency_key(header: str | None) -> str | None:
    if header is None:
        return None
    if 1 <= len(header) <= MAX_IDEMPOTENCY_KEY and all(" " <= c <= "~" for c in header):
        return header
    raise ApiProblem(
        400,
        "invalid-idempotency-key",
        "The Idempotency-Key header is not valid",
        f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters; "
        f"got {len(header)} characters",
        field="Idempotency-Key",
    )


def expected_version(header: str | None, report_id: UUID) -> int:
    """The version `If-Match` names: `3`, `"3"` or `W/"3"` (the ETag GET answered)."""
    where = (
        f"GET {REPORTS_PATH}/{report_id} gives the report's current version as `version` "
        "and as its ETag"
    )
    if header is None:
        raise ApiProblem(
            428,
            "if-match-required",
            "If-Match is required",
            f"send If-Match: <version>, the version of the report you last read ({where}), "
            "so that a change made since is not overwritten unseen",
            field="If-Match",
        )
    text = header.strip().removeprefix("W/")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ApiProblem(
            400,
            "invalid-if-match",
            "The If-Match header is not valid",
            f'If-Match must name one version, as 3, "3" or W/"3"; got {header!r} ({where})',
            field="If-Match",
        )
    return int(text)


# --- answers ---------------------------------------------------------------------------------


def _headers(result: AppendResult, **more: str) -> dict[str, str]:
    headers = {POSITION_HEADER: str(result.last_position), **more}
    if result.replayed:
        headers[REPLAYED_HEADER] = "true"
    return headers


def filed(result: AppendResult) -> Response[Filed]:
    event = result.events[-1]
    return Response(
        Filed(
            report_id=event.report_id,
            version=event.version,
            position=event.position,
            recorded_at=event.recorded_at,
            replayed=result.replayed,
        ),
        status_code=HTTP_201_CREATED,
        headers=_headers(
            result,
            Location=f"{REPORTS_PATH}/{event.report_id}",
            ETag=f'"{event.version}"',
        ),
    )


def _already_filed(line: int | None, report_id: UUID) -> ApiProblem:
    return ApiProblem(
        409,
        "report-exists",
        "A report with that id is already filed",
        f"report {report_id} is already filed"
        + ("" if line is None else f" (line {line})")
        + f"; leave report_id out for a new id, or see GET {REPORTS_PATH}/{report_id}",
        field="report_id",
        errors=(FieldError(field="report_id", message="already filed", line=line),),
    )


WRITE_ERRORS = {
    400: problem("Malformed JSON, or a malformed Idempotency-Key or If-Match header"),
    401: problem("An API key is needed"),
    403: problem("The key's role is not editor or admin"),
    413: problem("The body is larger than the limit"),
    415: problem("The body is not application/json (application/x-ndjson for a batch)"),
    422: problem(
        "The body breaks the schema or a rule (every field at fault is named), or the "
        "Idempotency-Key was used with another body"
    ),
    503: problem(
        "The database is unavailable and nothing was written (database-unavailable), or the "
        "connection was lost during the write, which may or may not have been recorded "
        "(write-outcome-unknown): retry with the same Idempotency-Key"
    ),
}
LIFE_CYCLE_ERRORS = {
    **WRITE_ERRORS,
    404: problem("No report has this id"),
    409: problem("The report is retracted: it takes nothing more"),
    412: problem("The report has changed since the version in If-Match (see current_version)"),
    428: problem("If-Match is missing"),
}
# `value` is never sent (documentation_only): it gives each header the string schema that
# OpenAPI 3.1 requires of a header (litestar derives it from the value's type), and an example.
ANSWER_HEADERS = [
    ResponseHeader(
        name="Location",
        description="The report: GET it",
        documentation_only=True,
        value="/v1/reports/acef43f9-0d52-53ec-b6c7-1c6020bb3419",
    ),
    ResponseHeader(
        name=POSITION_HEADER,
        description="The log position of the write; pass it as min_position to read it back",
        documentation_only=True,
        value="17",
    ),
    ResponseHeader(
        name="ETag",
        description="The report's new version, for If-Match",
        documentation_only=True,
        value='"1"',
    ),
    ResponseHeader(
        name=REPLAYED_HEADER,
        description="`true` when this is the first answer to a retried Idempotency-Key",
        documentation_only=True,
        value="true",
    ),
]

# --- filing ----------------------------------------------------------------------------------


@post(
    "/reports",
    operation_id="fileReport",
    summary="File a report of any kind",
    description="The body is one tagged JSON document: `claim.kind` is one of "
    f"{', '.join(CLAIM_KINDS)}, and the claim's fields follow from it. Leave "
    "`report_id` out to get a new id. The examples are the seed article's reports, one per "
    "kind; the first is the General Staff source's 800 km² of Kursk Oblast, via Reuters.",
    tags=["reports"],
    guards=[requires_editor, requires_declared_body],
    dependencies=CALLER,
    dto=StrictJson[FileReport],
    return_dto=None,
    response_description="Filed",
    response_headers=ANSWER_HEADERS,
    responses={**WRITE_ERRORS, 409: problem("A report with this report_id is already filed")},
)
async def file_report(
    *,
    reports: NamedDependency[ReportService],
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
        result = await reports.file(data, idempotency_key=key)
    except VersionConflict as conflict:
        raise _already_filed(None, conflict.report_id) from None
    return filed(result)


# --- the batch -------------------------------------------------------------------------------


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
        headers=_headers(result),
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
    tags=["reports"],
    guards=[requires_editor, requires_declared_body],
    dependencies=CALLER,
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
    state: State,
    reports: NamedDependency[ReportService],
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
    limit = state.settings.max_batch_bytes
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
        result = await reports.file_many([command for _, command in filings], idempotency_key=key)
    except VersionConflict as conflict:
        line = next(n for n, command in filings if command.report_id == conflict.report_id)
        raise _already_filed(line, conflict.report_id) from None
    return batch_filed(filings, result)


# --- the life-cycle --------------------------------------------------------------------------


async def _apply(
    reports: ReportService,
    report_id: UUID,
    command: LifeCycleCommand,
    *,
    if_match: str | None,
    idempotency_key_header: str | None,
) -> Response[Filed]:
    key = idempotency_key(idempotency_key_header)
    version = expected_version(if_match, report_id)
    result = await reports.apply(report_id, command, expected_version=version, idempotency_key=key)
    return filed(result)


def _life_cycle(
    path: str, *, operation_id: str, summary: str, description: str, command: type
) -> HTTPRouteHandler:
    return post(
        f"/reports/{{report_id:uuid}}/{path}",
        operation_id=operation_id,
        summary=summary,
        description=f"{description} Needs If-Match: the version you last read.",
        tags=["reports"],
        guards=[requires_editor, requires_declared_body],
        dependencies=CALLER,
        dto=StrictJson[command],  # type: ignore[valid-type]
        return_dto=None,
        response_description="Recorded: the report's new version and the log position",
        response_headers=ANSWER_HEADERS,
        responses=LIFE_CYCLE_ERRORS,
    )


@_life_cycle(
    "corroborations",
    operation_id="corroborateReport",
    summary="Record that another source backs the report",
    description="From the seed article: Ukrainian Telegram channels heard the explosion in "
    "Berdiansk the administration reported.",
    command=CorroborateReport,
)
async def corroborate_report(
    *,
    reports: NamedDependency[ReportService],
    report_id: FromPath[UUID],
    data: Annotated[
        CorroborateReport, Body(examples=[Example(value=write_examples.corroboration_example())])
    ],
    if_match: IfMatch = None,
    idempotency_key_header: IdempotencyKey = None,
) -> Response[Filed]:
    return await _apply(
        reports, report_id, data, if_match=if_match, idempotency_key_header=idempotency_key_header
    )


@_life_cycle(
    "disputes",
    operation_id="disputeReport",
    summary="Record that a party disputes the report",
    description="The example is illustrative (the article records none): the Russian "
    "Defence Ministry, which did not answer Reuters, disputing the 800 km² of Kursk Oblast.",
    command=DisputeReport,
)
async def dispute_report(
    *,
    reports: NamedDependency[ReportService],
    report_id: FromPath[UUID],
    data: Annotated[
        DisputeReport, Body(examples=[Example(value=write_examples.dispute_example())])
    ],
    if_match: IfMatch = None,
    idempotency_key_header: IdempotencyKey = None,
) -> Response[Filed]:
    return await _apply(
        reports, report_id, data, if_match=if_match, idempotency_key_header=idempotency_key_header
    )


@_life_cycle(
    "denials",
    operation_id="denyReport",
    summary="Record that a party denies the report",
    description="The example is illustrative: in the article Russian authorities neither "
    "confirmed nor denied the 11,000 North Korean troops in Kursk Oblast; this is how a "
    "denial would be recorded.",
    command=DenyReport,
)
async def deny_report(
    *,
    reports: NamedDependency[ReportService],
    report_id: FromPath[UUID],
    data: Annotated[DenyReport, Body(examples=[Example(value=write_examples.denial_example())])],
    if_match: IfMatch = None,
    idempotency_key_header: IdempotencyKey = None,
) -> Response[Filed]:
    return await _apply(
        reports, report_id, data, if_match=if_match, idempotency_key_header=idempotency_key_header
    )


@_life_cycle(
    "corrections",
    operation_id="correctReport",
    summary="Correct the report's claim (and when it happened)",
    description="The new claim supersedes the old, which stays in the log; it keeps the "
    "report's kind and must change something (else 422). The example is illustrative: the "
    "peak holding mistyped as 1,367 km², corrected to the source's 1,376 km².",
    command=CorrectReport,
)
async def correct_report(
    *,
    reports: NamedDependency[ReportService],
    report_id: FromPath[UUID],
    data: Annotated[
        CorrectReport, Body(examples=[Example(value=write_examples.correction_example())])
    ],
    if_match: IfMatch = None,
    idempotency_key_header: IdempotencyKey = None,
) -> Response[Filed]:
    return await _apply(
        reports, report_id, data, if_match=if_match, idempotency_key_header=idempotency_key_header
    )


@_life_cycle(
    "retraction",
    operation_id="retractReport",
    summary="Retract the report (final)",
    description="A retracted report stays in the log, stops counting in every view and takes "
    "nothing more (409). The example is illustrative: a report filed twice.",
    command=RetractReport,
)
async def retract_report(
    *,
    reports: NamedDependency[ReportService],
    report_id: FromPath[UUID],
    data: Annotated[
        RetractReport, Body(examples=[Example(value=write_examples.retraction_example())])
    ],
    if_match: IfMatch = None,
    idempotency_key_header: IdempotencyKey = None,
) -> Response[Filed]:
    return await _apply(
        reports, report_id, data, if_match=if_match, idempotency_key_header=idempotency_key_header
    )


WRITE_ROUTES = [
    file_report,
    file_batch,
    corroborate_report,
    dispute_report,
    deny_report,
    correct_report,
    retract_report,
]
