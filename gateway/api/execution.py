"""A faster way through graphql-core for the fields that only read an attribute.

Most fields of an answer are plain attributes with a scalar or enum type (a workflow's key, a
parse rule's type …). graphql-core handles each one like any field: a path, a resolve-info
object, Strawberry's resolver wrappers, two awaitable checks and a recursive completion —
about four microseconds, and a page of 100 workflows with trigger, parse rules and nodes has
some 4,000 of them (docs/performance.md).

For such a field this context reads the attribute and coerces it with the field's type
itself, in the loop over an object's fields (no path, no call per field). Anything out of
the ordinary (an error, a null for a non-null field, a value the type refuses) goes the
usual way, so errors and their paths are exactly graphql-core's.

A field whose resolver answers with a preloaded attribute when it is set (a page's
trigger, nodes and parse rules: gateway/api/preload.py) says so with
`metadata={PRELOADED: "<attribute>"}`; when the attribute is set, its value is completed
directly, without Strawberry's resolver wrappers.
"""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


class _Leaf(NamedTuple):
    attr: str
    type: GraphQLLeafType
    non_null: bool
    exact: builtins.type | None
    """Values of exactly this class are their own output (a str for a String or an ID, a
    bool for a Boolean): no coercion call."""


_EXACT: dict[GraphQLLeafType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
}


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
    return _Leaf(definition.python_name, inner, non_null, _EXACT.get(inner))


PRELOADED = "gateway.preloaded"
"""Metadata key of a field whose resolver returns this attribute whenever it is not None."""


class _Relation(NamedTuple):
    attr: str
    field: GraphQLField


def preloaded_relation(field: GraphQLField) -> _Relation | None:
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or field.args:
        return None
    metadata: dict[str, Any] = dict(definition.metadata or {})
    attr = metadata.get(PRELOADED)
    return _Relation(attr, field) if isinstance(attr, str) else None


# Per object type (by identity: a process builds its schemas once), per field name.
_leaves: dict[GraphQLObjectType, dict[str, _Leaf | None]] = {}
_relations: dict[GraphQLObjectType, dict[str, _Relation | None]] = {}


def _relation(parent_type: GraphQLObjectType, name: str) -> _Relation | None:
    fields = _relations.setdefault(parent_type, {})
    try:
        return fields[name]
    except KeyError:
        field = parent_type.fields.get(name)
        relation = fields[name] = preloaded_relation(field) if field is not None else None
        return relation


def _leaf(parent_type: GraphQLObjectType, name: str) -> _Leaf | None:
    fields = _leaves.setdefault(parent_type, {})
    try:
        return fields[name]
    except KeyError:
        field = parent_type.fields.get(name)
        leaf = fields[name] = plain_leaf(field) if field is not None else None
        return leaf


_Plan = list[tuple[str, FieldDetailsList, _Leaf | None]]


class LeafFastContext(StrawberryGraphQLCoreExecutionContext):
    _plans: dict[tuple[GraphQLObjectType, int], tuple[GroupedFieldSet, _Plan]]

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> _Plan:
        """Each field of the set with its shortcut, per object type and field set (graphql-
        core collects one set for all the items of a list); the set is kept alive with it,
        so its id is not reused while this execution runs."""
        try:
            plans = self._plans
        except AttributeError:
            plans = self._plans = {}
        key = (parent_type, id(fields))
        cached = plans.get(key)
        if cached is None:
            plan = [
                (name, details, _leaf(parent_type, details[0].node.name.value))
                for name, details in fields.items()
            ]
            cached = plans[key] = (fields, plan)
        return cached[1]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's `execute_fields`, reading plain leaf fields in place."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for name, details, leaf in self._plan(parent_type, grouped_field_set):
                if leaf is not None:
                    value = _read(leaf, source_value, is_awaitable)
                    if value is not _USUAL:
                        results[name] = value
                        continue
                here = Path(path, name, parent_type.name)
                result = self._other(parent_type, source_value, details, here, position_context)
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

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
            value = _read(leaf, source, self.is_awaitable)
            if value is not _USUAL:
                return value
        return self._other(parent_type, source, field_details_list, path, position_context)

    def _other(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        details: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A field that is not a plain leaf: a preloaded relation is completed from its
        attribute (graphql-core's execute_field, with the attribute as the resolver's
        answer); anything else the usual way."""
        relation = _relation(parent_type, details[0].node.name.value)
        value = None if relation is None else getattr(source, relation.attr, None)
        if relation is None or value is None:
            return super().execute_field(parent_type, source, details, path, position_context)
        field = relation.field
        return_type = field.type
        info = self.build_resolve_info(field, to_nodes(details), parent_type, path)
        try:
            completed = self.complete_value(
                return_type, details, info, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, details, path)
                return None

        return await_completed()


_USUAL = object()


def _read(leaf: _Leaf, source: Any, is_awaitable: Any) -> Any:
    """The field's output value, or `_USUAL` when it must take the usual way."""
    value = getattr(source, leaf.attr, Undefined)
    if value.__class__ is leaf.exact:
        return value
    if value is None:
        return _USUAL if leaf.non_null else None
    if value is Undefined or isinstance(value, Exception) or is_awaitable(value):
        return _USUAL
    try:
        coerced = leaf.type.coerce_output_value(value)
    except Exception:
        return _USUAL
    return _USUAL if coerced is None or coerced is Undefined else coerced
