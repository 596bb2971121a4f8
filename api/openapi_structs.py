"""OpenAPI schemas for Structs that msgspec cannot inspect.

litestar documents a Struct through `msgspec.inspect.type_info`, which refuses any Struct that
holds a union of untagged Structs, such as a report's history entry: its `event` is one of
the report's events, whose stored JSON has no tag (stored events are a forever schema) and is
told apart by the entry's own `type`. This plugin documents such a Struct field by field,
from its type hints, and such a union as `anyOf` its members, not `oneOf`: untagged and open
to extra fields, one member's JSON can fit another's shape too (a dispute carries all that a
corroboration needs). Every other Struct is left to litestar's own plugin.
"""

from __future__ import annotations

from types import UnionType
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

import msgspec
from litestar.openapi.spec import Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.types.empty import Empty
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator


def _inspectable(struct_type: type[msgspec.Struct]) -> bool:
    try:
        msgspec.inspect.type_info(struct_type)
    except TypeError:
        return False
    return True


def _union_of_structs(annotation: Any) -> bool:
    members = get_args(annotation)
    return (
        get_origin(annotation) in (Union, UnionType)
        and len(members) > 1
        and all(isinstance(m, type) and issubclass(m, msgspec.Struct) for m in members)
    )


class UninspectableStructPlugin(OpenAPISchemaPlugin):
    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return (
            not field_definition.is_union
            and field_definition.is_subclass_of(msgspec.Struct)
            and not _inspectable(field_definition.type_)
        )

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        struct_type = field_definition.type_
        hints = get_type_hints(struct_type, include_extras=True)
        fields = msgspec.structs.fields(struct_type)
        properties = {
            field.encode_name: FieldDefinition.from_annotation(
                hints[field.name],
                name=field.encode_name,
                default=Empty if field.default is msgspec.NODEFAULT else field.default,
            )
            for field in fields
        }
        schema = schema_creator.create_component_schema(
            field_definition,
            required=sorted(field.encode_name for field in fields if field.required),
            property_fields=properties,
        )
        for field in fields:
            documented = (schema.properties or {}).get(field.encode_name)
            if _union_of_structs(hints[field.name]) and isinstance(documented, Schema):
                documented.any_of, documented.one_of = documented.one_of, None
        return schema
