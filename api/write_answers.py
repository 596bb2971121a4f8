"""What every write shares: the headers it reads (`Idempotency-Key`, `If-Match`), the answer
it gives (201, the report's new version as its ETag, the log position it reached as
`X-Timeline-Position`, `Idempotent-Replayed` on a retry) and the problems it may answer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter
from litestar.status_codes import HTTP_201_CREATED

from api.answers import POSITION_HEADER
from api.problems import ApiProblem, FieldError, problem
from api.schemas import Filed
from store.event_store import AppendResult

REPORTS_PATH = "/v1/reports"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY = 200

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


def answer_headers(result: AppendResult, **more: str) -> dict[str, str]:
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
        headers=answer_headers(
            result,
            Location=f"{REPORTS_PATH}/{event.report_id}",
            ETag=f'"{event.version}"',
        ),
    )


def already_filed(line: int | None, report_id: UUID) -> ApiProblem:
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
