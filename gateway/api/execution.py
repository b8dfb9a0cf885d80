"""A faster way through graphql-core for the fields that only read an attribute.

Most fields of an answer are plain attributes with a scalar or enum type (a workflow's key, a
parse rule's type …). graphql-core handles each one like any field: a path, a resolve-info
object, Strawberry's resolver wrappers, two awaitable checks and a recursive completion —
about four microseconds, and a page of 100 workflows with trigger, parse rules and nodes has
some 4,000 of them (docs/performance.md).

For such a field this context reads the attribute and coerces it with the field's type
itself. Anything out of the ordinary (an error, a null for a non-null field, a value the
type refuses) goes the usual way, so errors and their paths are exactly graphql-core's.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


class _Leaf(NamedTuple):
    attr: str
    type: GraphQLLeafType
    non_null: bool


def plain_leaf(field: GraphQLField) -> _Leaf | None:
    """How to read `field` directly, or None when it must take the usual way: it has a
    resolver, arguments or extensions, or its type is not a scalar or an enum."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if field.args or definition.default_resolver is not getattr:
        return None
    field_type = field.type
    non_null = isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not is_leaf_type(inner):
        return None
    return _Leaf(definition.python_name, inner, non_null)


# Per object type (by identity: a process builds its schemas once), per field name.
_leaves: dict[GraphQLObjectType, dict[str, _Leaf | None]] = {}


def _leaf(parent_type: GraphQLObjectType, name: str) -> _Leaf | None:
    fields = _leaves.setdefault(parent_type, {})
    try:
        return fields[name]
    except KeyError:
        field = parent_type.fields.get(name)
        leaf = fields[name] = plain_leaf(field) if field is not None else None
        return leaf


class LeafFastContext(StrawberryGraphQLCoreExecutionContext):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        leaf = _leaf(parent_type, field_details_list[0].node.name.value)
        if leaf is not None:
            value = getattr(source, leaf.attr, Undefined)
            if value is None and not leaf.non_null:
                return None
            ordinary = value is not None and value is not Undefined
            if ordinary and not isinstance(value, Exception) and not self.is_awaitable(value):
                try:
                    coerced = leaf.type.coerce_output_value(value)
                except Exception:
                    coerced = Undefined
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
