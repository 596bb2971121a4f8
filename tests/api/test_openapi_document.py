"""The OpenAPI document the service publishes is one a client generator accepts: it validates
against the OpenAPI 3.1 schema, and no two of its schemas share a name."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import msgspec
from openapi_spec_validator import OpenAPIV31SpecValidator

from api.app import create_app
from api.settings import ApiSettings
from store.database import Database

# Only to read the document: nothing connects until the app starts.
UNREACHABLE = Database(url="postgresql://document@127.0.0.1:1/none", embedded=False)


def _document() -> dict[Hashable, Any]:
    """The document as /schema/openapi.json serves it (JSON: lists, not tuples)."""
    schema = create_app(UNREACHABLE, settings=ApiSettings()).openapi_schema.to_schema()
    document: dict[Hashable, Any] = msgspec.json.decode(msgspec.json.encode(schema))
    return document


def test_the_document_validates_against_openapi_3_1() -> None:
    document = _document()
    errors = [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message[:200]}"
        for error in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert errors == []


def test_every_answer_header_of_a_write_has_a_schema() -> None:
    answer = _document()["paths"]["/v1/reports"]["post"]["responses"]["201"]
    assert {name: header["schema"] for name, header in answer["headers"].items()} == {
        "Location": {"type": "string"},
        "X-Timeline-Position": {"type": "string"},
        "ETag": {"type": "string"},
        "Idempotent-Replayed": {"type": "string"},
    }


def test_no_two_schemas_share_a_name() -> None:
    # Generators name a class after a schema's title: two enums titled Role (a key's, and a
    # report's in an explanation) made openapi-python-client drop the admin key routes.
    schemas = _document()["components"]["schemas"]
    titles = [schema.get("title", name) for name, schema in schemas.items()]
    assert sorted(t for t in set(titles) if titles.count(t) > 1) == []
    assert {"Role", "ReportRole"} <= set(schemas)
