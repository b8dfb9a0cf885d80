"""The plain-field shortcut through graphql-core (gateway/api/execution.py) answers exactly
what graphql-core answers: same data, same errors at the same paths. These tests are about
the shortcut itself, so they turn it on whatever `GATEWAY_SHORTCUTS` says, and check that
the switch turns it off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

import pytest
import strawberry
from strawberry.scalars import JSON

from gateway.api.execution import PRELOADED, LeafFastContext, plain_leaf, preloaded_relation
from gateway.api.schema import build_schema
from gateway.core import shortcuts


@pytest.fixture(autouse=True)
def shortcuts_on() -> Iterator[None]:
    was = shortcuts.enabled()
    shortcuts.configure(True)
    yield
    shortcuts.configure(was)


@strawberry.enum
class Color(Enum):
    RED = "red"


@strawberry.type
class Item:
    name: str
    maybe: str | None
    count: int
    color: Color
    data: JSON
    when: datetime

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


GOOD = {
    "name": "a",
    "maybe": None,
    "count": 3,
    "color": Color.RED,
    "data": {"k": [1, None, "x"]},
    "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
}
BROKEN: list[dict[str, Any]] = [
    {"name": None},  # null for a non-null field
    {"count": "three"},  # a value the type refuses
    {"count": 2**40},  # beyond GraphQL's Int
    {"color": "blue"},  # not a value of the enum
    {"maybe": 5},  # coerced, as graphql-core does
    {"name": ValueError("kept as an attribute")},
]


def items() -> list[Item]:
    return [Item(**GOOD), *(Item(**{**GOOD, **change}) for change in BROKEN)]  # type: ignore[arg-type]


@strawberry.type
class Box:
    """Items preloaded or not: the resolver answers with the attribute when it is set."""

    preloaded: strawberry.Private[list[Item] | None] = None
    main: Item | None = None  # plain attributes, objects and lists of lists
    grid: list[list[Item]] | None = None

    @strawberry.field(metadata={PRELOADED: "preloaded"})  # type: ignore[untyped-decorator]
    def items(self) -> list[Item | None]:
        return list(self.preloaded if self.preloaded is not None else items()[:2])

    @strawberry.field(metadata={PRELOADED: "preloaded"})  # type: ignore[untyped-decorator]
    def strict(self) -> list[Item] | None:  # an error in an item nulls the whole list
        return list(self.preloaded if self.preloaded is not None else items()[:2])


@strawberry.type
class Query:
    @strawberry.field  # nullable items: an error nulls out its item only
    def items(self) -> list[Item | None]:
        return list(items())

    @strawberry.field
    def first(self) -> Item | None:
        return items()[1]

    @strawberry.field
    def boxes(self) -> list[Box]:
        good, broken = items()[0], items()[1]
        return [
            Box(preloaded=items(), main=broken, grid=[[good], [broken]]),
            Box(),
            Box(preloaded=[good, good], main=good, grid=[[good], [good, good]]),
        ]


QUERY = (
    "{ items { name maybe count color data when shout } first { name count }"
    " boxes { items { name count shout } strict { name }"
    " plain: strict { name maybe count color data when } main { name } grid { name } } }"
)


class CountingContext(LeafFastContext):
    built: ClassVar[list[Any]] = []

    def _tree(self, return_type: Any, details: Any, value: Any) -> Any:
        tree = super()._tree(return_type, details, value)
        self.built.append(tree)
        return tree


def test_the_shortcut_answers_exactly_as_graphql_core_does() -> None:
    usual = strawberry.Schema(query=Query).execute_sync(QUERY)
    fast = strawberry.Schema(query=Query, execution_context_class=CountingContext)
    result = fast.execute_sync(QUERY)
    assert result.data == usual.data
    assert result.data is not None and result.data["items"][0]["data"] == GOOD["data"]
    assert result.data["items"][5]["maybe"] == "5"  # an Int for a String: coerced as usual
    assert [e.formatted for e in result.errors or []] == [e.formatted for e in usual.errors or []]
    assert result.data["boxes"][0]["items"][0] == {"name": "a", "count": 3, "shout": "A"}
    assert result.data["boxes"][0]["strict"] is None  # a null name in the list
    assert result.data["boxes"][1]["strict"] is None  # loaded: items()[:2] has one too
    clean = result.data["boxes"][2]
    assert clean["plain"][1]["when"] == "2026-01-02T03:04:05+00:00"
    assert clean["main"] == {"name": "a"}
    assert clean["grid"] == [[{"name": "a"}], [{"name": "a"}, {"name": "a"}]]
    assert result.data["boxes"][0]["main"] is None  # a null name: the usual way, an error
    assert clean["plain"] in CountingContext.built  # read in one pass
    # name twice (items, first), count twice, color, name; in the boxes: the preloaded
    # items' five, the loaded items' one, one for each strict list (its first null), and
    # the first box's main and grid
    assert len(usual.errors or []) == 17


def test_with_the_shortcuts_off_graphql_core_executes_on_its_own() -> None:
    usual = strawberry.Schema(query=Query).execute_sync(QUERY)
    CountingContext.built.clear()
    shortcuts.configure(False)
    result = strawberry.Schema(query=Query, execution_context_class=CountingContext).execute_sync(
        QUERY
    )
    assert CountingContext.built == []
    assert result.data == usual.data
    assert [e.formatted for e in result.errors or []] == [e.formatted for e in usual.errors or []]


def test_only_plain_attribute_fields_take_the_shortcut() -> None:
    schema = build_schema(introspection=False)._schema
    workflow = schema.type_map["Workflow"].fields  # type: ignore[attr-defined]
    key = plain_leaf(workflow["key"])
    assert key is not None and key.exact is str  # a str is its own output: no coercion call
    assert plain_leaf(workflow["createdAt"]) is not None
    # resolvers, objects and lists take graphql-core's usual way
    assert plain_leaf(workflow["trigger"]) is None
    assert plain_leaf(workflow["nodes"]) is None
    trigger = schema.type_map["Trigger"].fields  # type: ignore[attr-defined]
    assert plain_leaf(trigger["url"]) is None
    assert plain_leaf(trigger["basicAuthentication"]) is None


def test_preloaded_relations_are_marked_on_the_api_types() -> None:
    schema = build_schema(introspection=False)._schema
    workflow = schema.type_map["Workflow"].fields  # type: ignore[attr-defined]
    trigger = schema.type_map["Trigger"].fields  # type: ignore[attr-defined]
    marked = {
        name: relation.attr if (relation := preloaded_relation(field)) else None
        for name, field in [
            ("trigger", workflow["trigger"]),
            ("nodes", workflow["nodes"]),
            ("parseRules", trigger["parseRules"]),
            ("url", trigger["url"]),
            ("document", workflow["document"]),
        ]
    }
    assert marked == {
        "trigger": "preloaded_trigger",
        "nodes": "preloaded_nodes",
        "parseRules": "preloaded_rules",
        "url": "preloaded_url",
        "document": None,
    }
