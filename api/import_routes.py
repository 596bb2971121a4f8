"""Importing a dataset's files over HTTP (editors): `POST /v1/imports?format=...`, the same
use case as `timeline import` (application/imports/importing.py), with the same answer row
by row.

The files come as multipart/form-data parts, as an upload form or `curl -F` sends them:
`file` (one; the General Staff's equipment and personnel files may come together), and for
ACLED its list of deleted events as `deleted`. Each row's report id comes from the dataset
and the row, so posting the same file again writes nothing and answers `unchanged`: a retry
needs no Idempotency-Key. Nothing decides anything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, Router, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import (
    Encoding,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK

from api.answers import POSITION_HEADER
from api.auth import requires_editor
from api.bodies import form_files, requires_declared_body
from api.limits import Cost, costs
from api.problems import ApiProblem, FieldError, problem
from api.services import Services
from api.settings import DEFAULT_MAX_IMPORT_BYTES
from api.write_answers import ANSWER_HEADERS, WRITE_ERRORS
from application.imports import Format
from application.imports.importer import ImportAnswer
from application.imports.importing import ImportSummary, import_files, summary
from application.imports.rows import BadFile, SourceFile
from domain.errors import VersionConflict
from domain.limits import MAX_NAME_CHARS
from store.event_store import EventStore

IMPORT_LIMITS = f"an import takes at most {DEFAULT_MAX_IMPORT_BYTES:,} bytes of files"


PARTS = ("file", "deleted")
FORM = RequestEncodingType.MULTI_PART.value
_BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)


@dataclass
class _FormOperation(Operation):
    """The operation with its body documented as the form it is: the handler reads the
    body itself (api/bodies.form_files), so litestar has no `data` to document."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="The dataset's files as multipart/form-data parts",
            content={
                FORM: OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        title="ImportFiles",
                        required=["file"],
                        properties={
                            "file": Schema(
                                type=OpenAPIType.ARRAY,
                                items=_BINARY,
                                min_items=1,
                                max_items=2,
                                description="The dataset's file (gs-losses: one or two)",
                            ),
                            "deleted": Schema(
                                type=OpenAPIType.STRING,
                                format=OpenAPIFormat.BINARY,
                                description="acled: ACLED's list of deleted events "
                                "(event_id_cnty, deleted_timestamp)",
                            ),
                        },
                    ),
                    encoding={
                        "file": Encoding(content_type="text/csv, application/json"),
                        "deleted": Encoding(content_type="text/csv"),
                    },
                )
            },
        )


@post(
    "/imports",
    operation_id="importDataset",
    summary="Import a dataset's file: each row added, corrected, retracted, unchanged or refused",
    description="What `timeline import FORMAT FILE` does, over HTTP. The body is "
    "multipart/form-data: the file as the part `file` (gs-losses takes "
    "russia_losses_equipment.json, russia_losses_personnel.json or both, as two `file` "
    "parts), and for acled ACLED's list of deleted events (`event_id_cnty, "
    "deleted_timestamp`) as the part `deleted`. Each row becomes one report whose id comes "
    "from the dataset and the row: a row new to the log is `added`, a changed row "
    "`corrected` (the old values stay in the log), an unchanged row `unchanged`; a row gone "
    "from a file that holds the whole dataset (gs-losses, economist-estimates, isw-area, "
    "ucdp-ged with `release`), or in ACLED's deleted list, is `retracted`. So posting the "
    "same file again writes nothing. Every row is checked before anything is written: a "
    "bad row is a 422 naming every bad row (`errors: [{file, line, row, field, message}]`) "
    "and nothing is written, unless `skip_invalid`, which writes the good rows, answers the "
    "bad ones as `refused` and retracts nothing. What is written is one transaction, and "
    f"the answer's `last_position` is its log position (X-Timeline-Position). {IMPORT_LIMITS} "
    "(413 beyond); larger files go by `timeline import` on the server.",
    request_max_body_size=DEFAULT_MAX_IMPORT_BYTES,
    opt={"body_limits": IMPORT_LIMITS, "body_media_type": FORM, **costs(Cost.IMPORT)},
    operation_class=_FormOperation,
    status_code=HTTP_200_OK,
    response_description="Every row's outcome, and the counts of each",
    response_headers=[h for h in ANSWER_HEADERS if h.name == POSITION_HEADER],
    responses={
        **WRITE_ERRORS,
        400: problem(
            "A query parameter is malformed (format, vintage, dry_run, skip_invalid), or the "
            "body is not well-formed multipart/form-data"
        ),
        409: problem(
            "Another import of the same dataset wrote meanwhile; nothing was written: post again"
        ),
        413: problem(f"The files are too large: {IMPORT_LIMITS}"),
        503: problem(
            "The database is unavailable and nothing was written (database-unavailable), or "
            "the connection was lost during the write, which may or may not have been "
            "recorded (write-outcome-unknown): post the file again, which writes only what "
            "is not yet written; or this process is running as many imports as it takes at "
            "once (too-many-imports, TIMELINE_IMPORTS_AT_ONCE): nothing was read or written, "
            "post again after Retry-After"
        ),
        415: problem("The body is not multipart/form-data"),
        422: problem(
            "A file cannot be read as the format (not UTF-8, not JSON, a column missing...), "
            "the parts do not fit the format, or rows are not valid (every bad row is named, "
            "nothing was written)"
        ),
    },
)
async def import_dataset(
    *,
    store: NamedDependency[EventStore],
    services: NamedDependency[Services],
    request: Request[Any, Any, Any],
    format: Annotated[Format, QueryParameter(description="The dataset's format")],
    vintage: Annotated[
        date | None,
        QueryParameter(
            description="The release date of the file, kept in each report's provenance"
        ),
    ] = None,
    release: Annotated[
        str | None,
        QueryParameter(
            max_length=MAX_NAME_CHARS,
            description="The release's name (ucdp-ged: the file is that whole release, e.g. "
            "25.1, and an event missing from it is retracted)",
        ),
    ] = None,
    dry_run: Annotated[bool, QueryParameter(description="Check and count, write nothing")] = False,
    skip_invalid: Annotated[
        bool,
        QueryParameter(description="Write the good rows, answer the bad ones as refused"),
    ] = False,
) -> Response[ImportSummary]:
    data = form_files(await request.body(), request.headers.get("content-type") or "")
    files, deleted = _parts(data)
    size = sum(len(part.content) for _, part in data)
    limit = services.settings.max_import_bytes
    if size > limit:
        raise ApiProblem(
            413,
            "body-too-large",
            "Request body too large",
            f"the files are {size:,} bytes; this service takes at most {limit:,} bytes of "
            "files per import: import larger files with `timeline import` on the server",
        )
    try:
        answer = await import_files(
            store,
            format,
            files,
            vintage=vintage,
            release=release,
            deleted=deleted,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
    except BadFile as error:
        raise ApiProblem(
            422, "unreadable-file", "The file cannot be read as its format", str(error)
        ) from None
    except VersionConflict:
        # The import is one append: a conflict leaves none of it written.
        raise ApiProblem(
            409,
            "import-conflict",
            "Another import of this dataset wrote meanwhile",
            "another writer changed this dataset's reports while the file was checked; "
            "nothing was written: post the file again",
        ) from None
    if answer.refused and not skip_invalid:
        raise _invalid_rows(answer)
    headers = {} if answer.last_position is None else {POSITION_HEADER: str(answer.last_position)}
    return Response(summary(format, answer, dry_run=dry_run), headers=headers)


def _parts(data: list[tuple[str, SourceFile]]) -> tuple[list[SourceFile], SourceFile | None]:
    """The dataset's files and ACLED's deleted list, from the body's parts by name."""
    unknown = [name for name, _ in data if name not in PARTS]
    files = [part for name, part in data if name == "file"]
    deleted = [part for name, part in data if name == "deleted"]
    fault = None
    if unknown:
        fault = f"no part is named {unknown[0]!r}: the parts are file and deleted"
    elif not files:
        fault = "the dataset's file is the part named file, and none came"
    elif len(deleted) > 1:
        fault = "one list of deleted events (deleted) per import, and more came"
    if fault is not None:
        raise ApiProblem(422, "invalid-request", "The request is not valid", fault, field="body")
    return files, deleted[0] if deleted else None


def _invalid_rows(answer: ImportAnswer) -> ApiProblem:
    errors = tuple(
        FieldError(
            field=row.field or "row",
            message=row.message or "not valid",
            line=row.line,
            file=row.file,
            row=row.row,
        )
        for row in answer.refused
    )
    first = errors[0]
    where = f"{first.file} line {first.line}" + (f" ({first.row})" if first.row else "")
    return ApiProblem(
        422,
        "invalid-rows",
        "Rows of the file are not valid",
        f"{len(errors):,} row(s) refused; nothing was written (post with skip_invalid=true "
        f"to write the others). First: {where}, {first.field}: {first.message}",
        field=first.field,
        errors=errors,
    )


IMPORT_ROUTES = Router(
    path="/",
    tags=["imports"],
    guards=[requires_editor, requires_declared_body],
    route_handlers=[import_dataset],
)
