"""RFC 9457 problem details: every error the API answers, in one shape and one place.

Handlers raise the domain's, the store's and the application's own exceptions, every one a
`TimelineError` of one category (domain/errors.py); this module answers each category with
its status (CATEGORY_PROBLEMS) and the error's message as a precise `detail` (which field,
what was expected), and names only the classes that need their own problem type. Nothing
escapes as a traceback: an unexpected error is logged and answered as a bare 500 problem.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from application.decoding import field_of
from domain.claims import CLAIM_KINDS
from domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    InvalidReport,
    NotFound,
    NothingToCorrect,
    ReportIsRetracted,
    ReportNotFound,
    TimelineError,
    Unavailable,
    VersionConflict,
    category_of,
)
from projections.explain_keys import UnknownRow
from projections.rebuild import RebuildInProgress
from projections.replay import InvalidReplayQuestion
from store.api_keys import UnknownKey
from store.event_store import IdempotencyKeyReused, MalformedAppend, WriteOutcomeUnknown
from store.mapper import UnknownEventType

log = logging.getLogger("timeline.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://conflict-timeline.dev/problems/"


@dataclass
class Documented(ResponseSpec):
    """An OpenAPI response without generated examples (they would be random placeholders)."""

    generate_examples: bool = False


def problem(description: str) -> Documented:
    """An error response in the OpenAPI document: a problem, with what causes it."""
    return Documented(Problem, description=description, media_type=PROBLEM_MEDIA_TYPE)


class FieldError(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One thing wrong with a request: where, and what was expected."""

    field: str
    message: str
    line: int | None = None  # for NDJSON bodies and dataset files: the 1-based line number
    file: str | None = None  # for dataset files (POST /v1/imports): which file
    row: str | None = None  # and the row's key in its dataset, when it could be read


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem; `errors` lists every field at fault when there are several."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: tuple[FieldError, ...] = ()
    expected_version: int | None = None
    current_version: int | None = None


class ApiProblem(HTTPException):
    """An error the API raises itself, already in problem terms."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        errors: tuple[FieldError, ...] = (),
        headers: Mapping[str, str] | None = None,
        expected_version: int | None = None,
        current_version: int | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status, headers=dict(headers or {}))
        self.slug = slug
        self.title = title
        self.field = field
        self.errors = errors
        self.expected_version = expected_version
        self.current_version = current_version


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response[Problem]:
    problem = Problem(
        type=PROBLEM_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        **extensions,
    )
    return Response(
        problem, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {})
    )


def _api_problem(request: Request[Any, Any, Any], error: ApiProblem) -> Response[Problem]:
    return problem_response(
        request,
        error.status_code,
        error.slug,
        error.title,
        error.detail,
        headers=error.headers,
        field=error.field,
        errors=error.errors,
        expected_version=error.expected_version,
        current_version=error.current_version,
    )


_PARAMETER_SOURCES = (
    "query parameter ",
    "header parameter ",
    "cookie parameter ",
    "path parameter ",
)


def _validation(request: Request[Any, Any, Any], error: ValidationException) -> Response[Problem]:
    """Litestar's own decoding of bodies and parameters, with the field named in full."""
    errors = []
    for item in error.extra if isinstance(error.extra, list) else []:
        key = str(item.get("key") or "")
        # litestar gives a ParamType (a str Enum whose str() is "ParamType.QUERY").
        source = str(getattr(item.get("source"), "value", item.get("source")) or "")
        path = "" if key == "data" and source == "body" else key
        field, message = field_of(f"{item.get('message', '')} - at `$.{path}`")
        if key == "data" and message == "'data'":
            # litestar's KeyError for a route that takes a body and got none.
            message = "the request has no body, and this route needs one"
        if field.endswith("kind") and message.startswith("Invalid value"):
            message = f"{message}; expected one of: {', '.join(CLAIM_KINDS)}"
        where = "" if source in ("body", "") else f"{source} parameter "
        errors.append(FieldError(field=f"{where}{field}".strip(), message=message))
    if not errors:
        errors.append(FieldError(field="body", message=error.detail))
    first = errors[0]
    return problem_response(
        request,
        HTTP_400_BAD_REQUEST
        if first.field.startswith(_PARAMETER_SOURCES)
        else HTTP_422_UNPROCESSABLE_ENTITY,
        "invalid-request",
        "The request is not valid",
        f"{first.field}: {first.message}",
        field=first.field,
        errors=tuple(errors),
    )


def _too_large(request: Request[Any, Any, Any]) -> str:
    """The limit of the route that refused the body: a batch route takes more than one
    report's worth, and says how many reports (its `opt["body_limits"]`)."""
    handler = request.scope.get("route_handler")
    limit: object = request.app.request_max_body_size
    note = None
    if isinstance(handler, HTTPRouteHandler):
        limit, note = handler.resolve_request_max_body_size(), handler.opt.get("body_limits")
    size = f"{limit:,} bytes" if isinstance(limit, int) else "its limit"
    detail = f"the request body is larger than {size}"
    return f"{detail} ({note})" if note else detail


def _http(request: Request[Any, Any, Any], error: HTTPException) -> Response[Problem]:
    status = error.status_code
    detail = error.detail
    slug = {
        401: "unauthorized",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        413: "body-too-large",
        415: "unsupported-media-type",
    }.get(status, "bad-request" if status < 500 else "server-error")
    if status == 413:
        detail = _too_large(request)
    elif isinstance(error, ClientException) and status == HTTP_400_BAD_REQUEST:
        slug, detail = "malformed-json", f"the body is not valid JSON: {detail}"
    elif status == HTTP_404_NOT_FOUND and isinstance(error, NotFoundException):
        detail = detail if detail != "Not Found" else f"nothing is at {request.url.path}"
    title = {
        "unauthorized": "An API key is needed",
        "forbidden": "The API key's role does not allow this",
        "not-found": "Not found",
        "method-not-allowed": "Method not allowed",
        "body-too-large": "Request body too large",
        "unsupported-media-type": "Unsupported media type",
        "malformed-json": "Malformed JSON",
    }.get(slug, "Bad request" if status < 500 else "Server error")
    headers = dict(error.headers or {})
    if isinstance(error, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="timeline"')
    return problem_response(request, status, slug, title, detail, headers=headers)


def _invalid_report(request: Request[Any, Any, Any], error: InvalidReport) -> Response[Problem]:
    malformed = error.message.startswith("malformed JSON")  # not JSON at all: a bad request
    status = HTTP_400_BAD_REQUEST if malformed else status_of(error)
    return problem_response(
        request,
        status,
        "malformed-json" if status == HTTP_400_BAD_REQUEST else "invalid-report",
        "Malformed JSON" if status == HTTP_400_BAD_REQUEST else "The report is not valid",
        str(error),
        field=error.field,
        errors=(FieldError(field=error.field, message=error.message),),
    )


def _version_conflict(request: Request[Any, Any, Any], error: VersionConflict) -> Response[Problem]:
    """A conflict answered as the failed precondition it is: the version the caller sent."""
    return problem_response(
        request,
        HTTP_412_PRECONDITION_FAILED,
        "stale-version",
        "The report has changed since that version",
        str(error),
        expected_version=error.expected,
        current_version=error.actual,
        headers={"ETag": f'"{error.actual}"'},
    )


# What each category of error is over HTTP: its status, and the type and title of a problem
# whose class needs none of its own. The message of the error is the problem's detail.
CATEGORY_PROBLEMS: Mapping[type[TimelineError], tuple[int, str, str]] = {
    NotFound: (HTTP_404_NOT_FOUND, "not-found", "Not found"),
    Conflict: (HTTP_409_CONFLICT, "conflict", "The request conflicts with the current state"),
    Invalid: (HTTP_422_UNPROCESSABLE_ENTITY, "invalid-request", "The request is not valid"),
    # Every Unavailable a request can meet is the database's (its log says which).
    Unavailable: (
        HTTP_503_SERVICE_UNAVAILABLE,
        "database-unavailable",
        "The database is unavailable",
    ),
    Forbidden: (HTTP_403_FORBIDDEN, "not-allowed", "This is not allowed"),
}


def status_of(error: TimelineError) -> int:
    """The status of `error`'s category (a class named in EXCEPTION_HANDLERS may answer
    another, as VersionConflict answers 412)."""
    return CATEGORY_PROBLEMS[category_of(type(error))][0]


def _category(request: Request[Any, Any, Any], error: TimelineError) -> Response[Problem]:
    status, slug, title = CATEGORY_PROBLEMS[category_of(type(error))]
    return problem_response(request, status, slug, title, str(error))


def _own(
    slug: str, title: str, *, status: int | None = None
) -> Callable[[Request[Any, Any, Any], TimelineError], Response[Problem]]:
    """A class's own problem type and title; its status is its category's unless `status`
    overrides it."""

    def handle(request: Request[Any, Any, Any], error: TimelineError) -> Response[Problem]:
        return problem_response(
            request, status if status is not None else status_of(error), slug, title, str(error)
        )

    return handle


def _database_unavailable(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    """The database is down or out of connections: the client may retry; nothing was written.
    An append that lost its connection once sent is WriteOutcomeUnknown instead; one that
    fails here failed to get a connection, or in a read before it. The Unavailable errors of
    our own (the database not reached, not migrated) are answered so too: what the service
    could not reach is for its log, not for the client."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, error)
    status, slug, title = CATEGORY_PROBLEMS[Unavailable]
    return problem_response(
        request,
        status,
        slug,
        title,
        "the service cannot reach its database just now; nothing was written; try again shortly",
        headers={"Retry-After": "5"},
    )


def _write_outcome_unknown(
    request: Request[Any, Any, Any], error: WriteOutcomeUnknown
) -> Response[Problem]:
    """Not "nothing was written": the append may have committed before the connection went."""
    log.warning("write outcome unknown on %s %s: %r", request.method, request.url.path, error)
    return problem_response(
        request,
        status_of(error),
        "write-outcome-unknown",
        "The write may or may not have been recorded",
        str(error),
        headers={"Retry-After": "5"},
    )


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "server-error",
        "Server error",
        "the service failed to answer; the error is in its log",
    )


# Litestar picks the entry of the nearest class in the error's MRO: a class named here needs
# its own problem (type, title, fields, headers); every other TimelineError is answered by its
# category (CATEGORY_PROBLEMS).
EXCEPTION_HANDLERS: Mapping[type[Exception] | int, Any] = {
    ApiProblem: _api_problem,
    ValidationException: _validation,
    NotAuthorizedException: _http,
    PermissionDeniedException: _http,
    HTTPException: _http,
    TimelineError: _category,
    InvalidReport: _invalid_report,
    VersionConflict: _version_conflict,
    WriteOutcomeUnknown: _write_outcome_unknown,
    ReportNotFound: _own("report-not-found", "No such report"),
    ReportIsRetracted: _own("report-retracted", "The report is retracted"),
    NothingToCorrect: _own("nothing-to-correct", "The correction changes nothing"),
    IdempotencyKeyReused: _own("idempotency-key-reused", "Idempotency key reused"),
    MalformedAppend: _own("malformed-append", "The events do not follow each other"),
    UnknownKey: _own("key-not-found", "No such key"),
    RebuildInProgress: _own("rebuild-in-progress", "A rebuild is running"),
    # A question is query parameters: 400, as litestar answers a bad parameter.
    InvalidReplayQuestion: _own(
        "invalid-question", "Invalid question", status=HTTP_400_BAD_REQUEST
    ),
    # An unanswerable question (the explain routes' KEY) that names a row there is not.
    UnknownRow: _own("row-not-found", "No such row", status=HTTP_404_NOT_FOUND),
    # The log holds an event this code cannot read: the service's fault, not the caller's.
    UnknownEventType: _unexpected,
    Unavailable: _database_unavailable,
    OSError: _database_unavailable,  # the connection could not be made
    asyncpg.PostgresConnectionError: _database_unavailable,
    asyncpg.InterfaceError: _database_unavailable,  # a closed pool or connection
    asyncpg.TooManyConnectionsError: _database_unavailable,
    asyncpg.CannotConnectNowError: _database_unavailable,
    asyncpg.AdminShutdownError: _database_unavailable,  # the server ended the session
    asyncpg.CrashShutdownError: _database_unavailable,
    Exception: _unexpected,
}
