"""A faster way through graphql-core for the fields that only read an attribute.

Most fields of an answer are plain attributes with a scalar or enum type (a workflow's key, a
parse rule's type …). graphql-core handles each one like any field: a path, a resolve-info
object, Strawberry's resolver wrappers, two awaitable checks and a recursive completion —
and a page of 100 workflows with trigger, parse rules and nodes has thousands of them
(docs/performance.md, scenario 7).

For such a field this context reads the attribute and coerces it with the field's type
itself, in the loop over an object's fields (no path, no call per field). Anything out of
the ordinary (an error, a null for a non-null field, a value the type refuses) goes the
usual way, so errors and their paths are exactly graphql-core's.

A field whose resolver answers with a preloaded attribute when it is set (a page's
trigger, nodes and parse rules: gateway/api/preload.py) says so with
`metadata={PRELOADED: "<attribute>"}`; when the attribute is set, its value is completed
directly, without Strawberry's resolver wrappers.

A shortcut through graphql-core's executor and Strawberry's field definitions, taken only
while `GATEWAY_SHORTCUTS` is on (gateway/core/shortcuts.py); off, `build` hands over to
Strawberry's own execution context. It saves most of an uncached page's time: without it,
scenario 7 misses its target (docs/performance.md, Shortcuts).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from types import CoroutineType, GeneratorType
from typing import Any, NamedTuple, TypeVar

from graphql import (
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import Executor, to_nodes
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from gateway.api.fanout import SharedEventContext
from gateway.core import shortcuts


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


class _Source(NamedTuple):
    """Where a field that is not a plain leaf finds its value without its resolver."""

    attr: str
    field: GraphQLField
    plain: bool
    """True: a plain attribute (None is its value); False: a preloaded one (None: not
    preloaded, the resolver must run)."""


def value_source(field: GraphQLField) -> _Source | None:
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or field.args:
        return None
    metadata: dict[str, Any] = dict(definition.metadata or {})
    attr = metadata.get(PRELOADED)
    if isinstance(attr, str):
        return _Source(attr, field, plain=False)
    if definition.is_basic_field and definition.default_resolver is getattr:
        return _Source(definition.python_name, field, plain=True)
    return None


def preloaded_relation(field: GraphQLField) -> _Source | None:
    source = value_source(field)
    return source if source is not None and not source.plain else None


T = TypeVar("T")
# Per object type (by identity: a process builds its schemas once), per field name.
_leaves: dict[GraphQLObjectType, dict[str, _Leaf | None]] = {}
_sources: dict[GraphQLObjectType, dict[str, _Source | None]] = {}


def _per_field(
    cache: dict[GraphQLObjectType, dict[str, T | None]],
    build: Callable[[GraphQLField], T | None],
    parent_type: GraphQLObjectType,
    name: str,
) -> T | None:
    fields = cache.setdefault(parent_type, {})
    try:
        return fields[name]
    except KeyError:
        field = parent_type.fields.get(name)
        built = fields[name] = build(field) if field is not None else None
        return built


def _source(parent_type: GraphQLObjectType, name: str) -> _Source | None:
    return _per_field(_sources, value_source, parent_type, name)


def _leaf(parent_type: GraphQLObjectType, name: str) -> _Leaf | None:
    return _per_field(_leaves, plain_leaf, parent_type, name)


_Plan = list[tuple[str, FieldDetailsList, _Leaf | None]]


class LeafFastContext(SharedEventContext):
    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        """This context while the shortcuts are on, else Strawberry's own (sharing a
        subscription event's results, api/fanout.py): the plain path."""
        if not shortcuts.enabled():
            return SharedEventContext.build(*args, **kwargs)
        return super().build(*args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Keyed by id: the field set or selection is kept alive beside its entry, so its
        # id is not reused while this execution runs.
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[GroupedFieldSet, _Plan]] = {}
        self._treeables: dict[tuple[GraphQLObjectType, int], tuple[FieldDetailsList, bool]] = {}
        self._renderers: dict[tuple[Any, int], tuple[FieldDetailsList, Render]] = {}

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> _Plan:
        """Each field of the set with its shortcut, per object type and field set (graphql-
        core collects one set for all the items of a list)."""
        key = (parent_type, id(fields))
        cached = self._plans.get(key)
        if cached is None:
            plan = [
                (name, details, _leaf(parent_type, details[0].node.name.value))
                for name, details in fields.items()
            ]
            cached = self._plans[key] = (fields, plan)
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
        """A field that is not a plain leaf. When its value and everything selected below
        it can be read without resolvers (plain and preloaded attributes all the way down)
        and hold no surprise, the answer is built in one pass (`_tree`). Otherwise a
        preloaded relation is completed from its attribute (graphql-core's execute_field,
        with the attribute as the resolver's answer), and anything else the usual way."""
        name = details[0].node.name.value
        if parent_type is self.schema.subscription_type:
            return self._event(parent_type, name, source, details, path, position_context)
        found = _source(parent_type, name)
        value = Undefined if found is None else getattr(source, found.attr, Undefined)
        if found is None or value is Undefined or (value is None and not found.plain):
            return super().execute_field(parent_type, source, details, path, position_context)
        field = found.field
        return_type = field.type
        if self._treeable(return_type, details):
            tree = self._tree(return_type, details, value)
            if tree is not _USUAL:
                return tree
        if found.plain:
            return super().execute_field(parent_type, source, details, path, position_context)
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

    def _event(
        self,
        parent_type: GraphQLObjectType,
        name: str,
        event: Any,
        details: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A subscription's field on one of its events: Strawberry resolves it to the event
        itself, so a plain selection of it is built in one pass (`_tree`)."""
        field = parent_type.fields.get(name)  # None: a meta field such as __typename
        if field is not None and self._treeable(field.type, details):
            tree = self._tree(field.type, details, event)
            if tree is not _USUAL:
                return tree
        return super().execute_field(parent_type, event, details, path, position_context)

    def _treeable(self, return_type: Any, details: FieldDetailsList) -> bool:
        """Whether every field selected below is a plain leaf or has a value source, down
        to the leaves (no resolver, no abstract type, no deferred part)."""
        named = return_type
        while isinstance(named, GraphQLNonNull | GraphQLList):
            named = named.of_type
        if is_leaf_type(named):
            return True
        if not isinstance(named, GraphQLObjectType) or named.is_type_of is not None:
            return False
        key = (named, id(details))
        known = self._treeables
        if key not in known:
            fields, deferred, _ = self.collect_subfields(named, details)
            result = not deferred
            for _, sub_details, leaf in self._plan(named, fields):
                if not result or leaf is not None:
                    continue
                found = _source(named, sub_details[0].node.name.value)
                result = found is not None and self._treeable(found.field.type, sub_details)
            known[key] = (details, result)
        return known[key][1]

    def _tree(self, return_type: Any, details: FieldDetailsList, value: Any) -> Any:
        """The completed value, built in one pass, or `_USUAL` at the first surprise (a
        null where none may be, a value a type refuses, an error, an awaitable, a relation
        not preloaded). Nothing is recorded on the way, so giving up leaves no trace."""
        return self._renderer(return_type, details)(value)

    def _renderer(self, return_type: Any, details: FieldDetailsList) -> Render:
        """`_tree` for one type and selection, compiled once per execution (the items of a
        list share it): the checks that depend only on the type are made here, and an
        object's fields are read from a list of (name, attribute, …) built here."""
        key = (return_type, id(details))
        known = self._renderers.get(key)
        if known is None:
            render = self._compile(return_type, details)
            known = self._renderers[key] = (details, render)
        return known[1]

    def _compile(self, return_type: Any, details: FieldDetailsList) -> Render:
        if isinstance(return_type, GraphQLNonNull):
            return _non_null(self._renderer(return_type.of_type, details))
        if isinstance(return_type, GraphQLList):
            return _items(self._renderer(return_type.of_type, details))
        if isinstance(return_type, GraphQLObjectType):
            return self._compile_object(return_type, details)
        return _leaf_value(return_type, self.is_awaitable)

    def _compile_object(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> Render:
        fields, _, _ = self.collect_subfields(object_type, details)
        # (answer name, attribute, the class whose values are their own output, the leaf,
        # or the renderer of a field with a value source and whether None is its value)
        shape: _Shape = []
        for name, sub_details, leaf in self._plan(object_type, fields):
            if leaf is not None:
                shape.append((name, leaf.attr, leaf.exact, leaf, None, True))
                continue
            found = _source(object_type, sub_details[0].node.name.value)
            assert found is not None  # _treeable said so
            sub = self._renderer(found.field.type, sub_details)
            shape.append((name, found.attr, _Never, None, sub, found.plain))

        return _object_value(shape, self.is_awaitable)


def _object_value(shape: _Shape, is_awaitable: Callable[[Any], bool]) -> Render:
    def render(value: Any) -> Any:
        if value is None:
            return None
        if not _inert(value.__class__) and (isinstance(value, Exception) or is_awaitable(value)):
            return _USUAL
        answer: dict[str, Any] = {}
        for name, attr, exact, leaf, sub, plain in shape:
            inner = getattr(value, attr, Undefined)
            if inner.__class__ is exact:
                answer[name] = inner
                continue
            if leaf is not None:
                if inner is None:
                    if leaf.non_null:
                        return _USUAL
                    answer[name] = None
                    continue
                completed = _coerce(leaf, inner, is_awaitable)
            elif inner is Undefined or (inner is None and not plain):
                return _USUAL  # missing, or not preloaded: the resolver decides
            else:
                completed = sub(inner)  # type: ignore[misc]  # set when leaf is None
            if completed is _USUAL:
                return _USUAL
            answer[name] = completed
        return answer

    return render


def _non_null(inner: Render) -> Render:
    def non_null(value: Any) -> Any:
        return _USUAL if value is None else inner(value)

    return non_null


def _items(item: Render) -> Render:
    def items(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list | tuple):
            return _USUAL
        rendered = []
        for one in value:
            completed = item(one)
            if completed is _USUAL:
                return _USUAL
            rendered.append(completed)
        return rendered

    return items


def _leaf_value(leaf_type: GraphQLLeafType, is_awaitable: Callable[[Any], bool]) -> Render:
    def leaf(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Exception) or is_awaitable(value):
            return _USUAL
        try:
            coerced = leaf_type.coerce_output_value(value)
        except Exception:
            return _USUAL
        return _USUAL if coerced is None or coerced is Undefined else coerced

    return leaf


@functools.cache
def _inert(cls: type) -> bool:
    """Whether values of `cls` are plain: neither an error nor awaitable (the checks
    graphql-core makes on every value, made once per class; a class's instances do not
    become awaitable one by one)."""
    return not issubclass(cls, BaseException | CoroutineType | GeneratorType) and not hasattr(
        cls, "__await__"
    )


class _Never:
    """A class no value has: a field that is not a plain leaf always takes the long way."""


Render = Callable[[Any], Any]
_Shape = list[tuple[str, str, type | None, _Leaf | None, Render | None, bool]]


_USUAL = object()


def _read(leaf: _Leaf, source: Any, is_awaitable: Any) -> Any:
    """The field's output value, or `_USUAL` when it must take the usual way."""
    value = getattr(source, leaf.attr, Undefined)
    if value.__class__ is leaf.exact:
        return value
    return _coerce(leaf, value, is_awaitable)


def _coerce(leaf: _Leaf, value: Any, is_awaitable: Any) -> Any:
    """`_read` for a value that is not of the leaf's exact class."""
    if value is None:
        return _USUAL if leaf.non_null else None
    if value is Undefined or (
        not _inert(value.__class__) and (isinstance(value, Exception) or is_awaitable(value))
    ):
        return _USUAL
    try:
        coerced = leaf.type.coerce_output_value(value)
    except Exception:
        return _USUAL
    return _USUAL if coerced is None or coerced is Undefined else coerced
