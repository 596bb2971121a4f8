"""What handlers are given by name (api/dependencies.py) never shares a name with anything a
client sends: litestar files a validation error under the name of the field at fault, and
one named like a dependency (a rebuild body's `views` beside a `views` dependency) was taken
for the service's own fault, a 500 instead of a 400."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import msgspec

from api.app import create_app
from api.dependencies import DEPENDENCIES
from api.settings import ApiSettings
from store.database import Database

# Only to read the document: nothing connects until the app starts.
UNREACHABLE = Database(url="postgresql://document@127.0.0.1:1/none", embedded=False)


def _document() -> dict[Hashable, Any]:
    schema = create_app(UNREACHABLE, settings=ApiSettings()).openapi_schema.to_schema()
    document: dict[Hashable, Any] = msgspec.json.decode(msgspec.json.encode(schema))
    return document


def _property_names(node: Any) -> Iterator[str]:
    """Every property name anywhere in a schema (components included)."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "properties" and isinstance(value, dict):
                yield from value
            yield from _property_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _property_names(item)


def test_no_dependency_is_named_like_a_parameter_or_a_field_a_client_sends() -> None:
    document = _document()
    parameters = {
        parameter["name"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
    }
    fields = set(_property_names(document))
    assert {"views", "key", "limit"} <= parameters | fields  # what the document is read for
    assert sorted(set(DEPENDENCIES) & (parameters | fields)) == []
