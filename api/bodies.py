"""Request bodies, decoded the way `timeline` and a batch line are: strictly, in one pass.

litestar's own decoding turns the JSON into Python values and converts those to the Struct
with `strict=False`, which would take `"value": "800"` for a figure and `"true"` for a flag.
A report is a forever record, so a body here goes through `application.decoding` (msgspec,
strict, forbidding unknown fields) and a mistake is an `InvalidReport` naming the field, the
same answer whichever way the report came in. These are litestar DTOs only so that litestar
hands over the raw bytes and still documents the body in the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import multipart
from litestar.connection import ASGIConnection
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import OpenAPIType, Reference, Schema
from litestar.typing import FieldDefinition

from api.problems import ApiProblem
from application.decoding import decode_command
from application.imports.rows import SourceFile

T = TypeVar("T")

# Only litestar's machinery is at stake here: its `SchemaCreator` is not public API.
SchemaCreator = Any


class _BodyDTO(AbstractDTO[T]):
    """What every body DTO here shares: no transfer models, no encoding of answers."""

    @classmethod
    def create_for_field_definition(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        backend_cls: Any = None,
    ) -> None:
        return None

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        raise NotImplementedError("bodies are decoded from bytes")


class StrictJson(_BodyDTO[T]):
    """`data` decoded from the JSON body as the command type the DTO is narrowed to
    (`dto=StrictJson[FileReport]`); the schema is the annotation's, examples included."""

    @classmethod
    def create_openapi_schema(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        schema_creator: SchemaCreator,
    ) -> Reference | Schema:
        schema: Reference | Schema = schema_creator.for_field_definition(field_definition)
        return schema

    def decode_bytes(self, value: bytes) -> Any:
        command_type: Any = self.model_type  # one of the command types, by construction
        return decode_command(command_type, value)


class Ndjson(_BodyDTO[T]):
    """`data` as the raw bytes of an NDJSON body, one document a line, for the handler to
    read line by line (so it can name the line of every mistake); documented as text whose
    lines are each the type the DTO is narrowed to (`dto=Ndjson[FileReport]`)."""

    @classmethod
    def create_openapi_schema(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        schema_creator: SchemaCreator,
    ) -> Reference | Schema:
        # Registers the line's schema among the components, which the description names.
        schema_creator.for_field_definition(FieldDefinition.from_annotation(cls.model_type))
        body = field_definition.kwarg_definition
        described = getattr(body, "description", None) or ""
        line = f"Each non-empty line is one {cls.model_type.__name__} JSON document."
        return Schema(
            type=OpenAPIType.STRING,
            content_media_type="application/x-ndjson",
            title=getattr(body, "title", None),
            description=f"{described}\n\n{line}".strip(),
            examples=[example.value for example in getattr(body, "examples", None) or ()],
        )

    def decode_bytes(self, value: bytes) -> Any:
        return value


# Parts a multipart body may have: the files of one import are two or three.
MAX_FORM_PARTS = 8


def form_files(body: bytes, content_type: str) -> list[tuple[str, SourceFile]]:
    """The parts of a multipart/form-data `body`, by name and in the order sent, each as a
    file (a part sent without a file name is named after its part). Read here with the
    parser litestar itself uses, but strictly and with every fault a 400 naming it: litestar
    decodes a part without a file name as text in the charset the part declares, and a part
    in a charset it cannot decode (or that no codec has) escaped as a 500."""
    if not body:
        return []
    boundary = multipart.parse_options_header(content_type)[1].get("boundary")
    if not boundary:
        raise _malformed("Content-Type: multipart/form-data needs its boundary parameter")
    parts: list[tuple[str, SourceFile]] = []
    try:
        with multipart.PushMultipartParser(
            boundary, content_length=len(body), max_segment_count=MAX_FORM_PARTS, strict=True
        ) as parser:
            segment: multipart.MultipartSegment | None = None
            content = bytearray()
            for chunk in (body, b""):
                for event in parser.parse(chunk):
                    if isinstance(event, multipart.MultipartSegment):
                        segment, content = event, bytearray()
                    elif event:
                        content += event
                    elif segment is not None:
                        name = segment.name
                        parts.append((name, SourceFile(segment.filename or name, bytes(content))))
            if not parser.closed:
                raise _malformed("the body ends before its closing boundary")
    except multipart.ParserLimitReached:
        raise _malformed(f"the body has more than {MAX_FORM_PARTS} parts") from None
    except (multipart.MultipartError, ValueError) as error:
        raise _malformed(f"the body is not valid multipart/form-data: {error}") from None
    return parts


def _malformed(detail: str) -> ApiProblem:
    return ApiProblem(400, "malformed-multipart", "Malformed multipart/form-data", detail)


def body_media_type(handler: BaseRouteHandler) -> str | None:
    """The media type the route's body is declared with (`Body(media_type=...)`), if any."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:  # a route that reads its body itself says what it reads
        declared_by_route: str | None = handler.opt.get("body_media_type")
        return declared_by_route
    declared = getattr(data.kwarg_definition, "media_type", None) or RequestEncodingType.JSON
    return str(getattr(declared, "value", declared))


async def requires_declared_body(
    connection: ASGIConnection[Any, Any, Any, Any], handler: Any
) -> None:
    """A guard: a body must come as the media type its route reads (else 415), so that a
    text/plain or form body is never taken for JSON. A request without a body passes: the
    route itself says that it needs one. (Async though it never waits: litestar runs a sync
    guard in a worker thread, a hop per write that cost the writes a tenth of their rate.)"""
    expected = body_media_type(handler)
    if expected is None or connection.headers.get("content-length") == "0":
        return
    given = connection.headers.get("content-type") or ""
    if given.split(";", 1)[0].strip().lower() == expected:
        return
    raise ApiProblem(
        415,
        "unsupported-media-type",
        "Unsupported media type",
        f"Content-Type: this route reads {expected}, got {given[:80] or 'none'!r}",
        field="Content-Type",
        headers={"Accept-Post": expected},
    )
