"""OpenAPI schemas for Structs that msgspec cannot inspect.

litestar documents a Struct through `msgspec.inspect.type_info`, which refuses any Struct that
holds a union of untagged Structs, such as a report's history entry: its `event` is one of
the report's events, whose stored JSON has no tag (stored events are a forever schema) and is
told apart by the entry's own `type`. This plugin documents such a Struct field by field,
from its type hints, and such a union as `anyOf` its members, not `oneOf`: untagged and open
to extra fields, one member's JSON can fit another's shape too (a dispute carries all that a
corroboration needs). Every other Struct is left to litestar's own plugin.

Both document the rules `domain.limits` declares on a Struct's fields (`region: Name`,
`notes: FreeText | None`, `objectives: Annotated[tuple[Name, ...], FEW]`) as `maxLength`,
`pattern`, `maxItems`, `minimum` and `maximum`: msgspec would enforce them as constraints
on every decoding, stored events included, so the domain declares them as plain markers.
"""

from __future__ import annotations

from types import UnionType
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.types.empty import Empty
from litestar.typing import FieldDefinition

from domain.limits import ListRule, Range, TextRule, rule_of

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator


def _inspectable(struct_type: type[msgspec.Struct]) -> bool:
    try:
        msgspec.inspect.type_info(struct_type)
    except TypeError:
        return False
    return True


def _rules(struct_type: type[msgspec.Struct]) -> dict[str, TextRule | ListRule | Range]:
    """The domain's rules on the struct's fields, by their JSON names."""
    hints = get_type_hints(struct_type, include_extras=True)
    found = {}
    for field in msgspec.structs.fields(struct_type):
        rule = rule_of(hints[field.name])
        if rule is not None:
            found[field.encode_name] = rule
    return found


def _constrain(schema: Schema, rule: TextRule | ListRule | Range, item: Any) -> None:
    """Write `rule` into a property's schema (into its non-null members if it is optional)."""
    for member in (*(schema.one_of or ()), *(schema.any_of or ())):
        if isinstance(member, Schema):
            _constrain(member, rule, item)
    if isinstance(rule, TextRule) and schema.type == OpenAPIType.STRING:
        schema.max_length, schema.pattern = rule.max_chars, rule.pattern
    elif isinstance(rule, ListRule) and schema.type == OpenAPIType.ARRAY:
        schema.max_items = rule.max_items
        item_rule = rule_of(item)
        if item_rule is not None and isinstance(schema.items, Schema):
            _constrain(schema.items, item_rule, None)
    elif isinstance(rule, Range) and schema.type in (OpenAPIType.NUMBER, OpenAPIType.INTEGER):
        integral = schema.type == OpenAPIType.INTEGER
        schema.minimum = int(rule.minimum) if integral else rule.minimum
        schema.maximum = int(rule.maximum) if integral else rule.maximum


def document_rules(struct_type: type[msgspec.Struct], schema: Schema) -> Schema:
    hints = get_type_hints(struct_type, include_extras=True)
    names = {field.encode_name: field.name for field in msgspec.structs.fields(struct_type)}
    for name, rule in _rules(struct_type).items():
        documented = (schema.properties or {}).get(name)
        if isinstance(documented, Schema):
            hint = hints[names[name]]
            inner = getattr(hint, "__origin__", hint)
            items = get_args(inner)
            _constrain(documented, rule, items[0] if items else None)
    return schema


class DomainRulesPlugin(StructSchemaPlugin):
    """litestar's own documentation of an (inspectable) Struct, with the domain's rules."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return (
            super().is_plugin_supported_field(field_definition)
            and _inspectable(field_definition.type_)
            and bool(_rules(field_definition.type_))
        )

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        return document_rules(field_definition.type_, schema)


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
        return document_rules(struct_type, schema)
