"""Input types, shaped as `createWorkflow`'s input (docs/api.md, Shapes), and their
conversion to the workflow document form the service applies.

Fields left out are left out of the document too (`UNSET`), so in an update they keep their
stored value, while an explicit `null` clears a field (`alias: null`, `basicAuthentication:
null` turns authentication off). Values are not checked here beyond their GraphQL types:
the document's validation reports every problem with its field.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.api.types import ParseSource


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_document(value: Any) -> Any:
    """An input object as document data: camelCase names, enums as their values, and
    fields left out (`UNSET`) absent."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [to_document(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            _camel(f.name): to_document(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not strawberry.UNSET
        }
    return value


@strawberry.input(description="Basic authentication; leave out the password to keep the stored one")
class BasicAuthInput:
    username: str
    password: str | None = strawberry.UNSET


@strawberry.input(description="A parse rule inside a trigger's request block")
class RuleInput:
    key: str
    alias: str | None = strawberry.UNSET
    var: str | None = strawberry.UNSET
    required: bool | None = strawberry.UNSET
    type: str | None = strawberry.UNSET


@strawberry.input
class RequestInput:
    headers: list[RuleInput] | None = strawberry.UNSET
    query: list[RuleInput] | None = strawberry.UNSET
    body: list[RuleInput] | None = strawberry.UNSET


@strawberry.input
class HeaderInput:
    name: str
    value: JSON


@strawberry.input(description="The answer an async call gets (default 200, ok)")
class ResponseInput:
    status_code: int | None = strawberry.UNSET
    headers: list[HeaderInput] | None = strawberry.UNSET
    body: JSON | None = strawberry.UNSET


@strawberry.input
class TriggerInput:
    key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Pin the URL key (22+ URL-safe characters); left out: kept or random",
    )
    basic_authentication: BasicAuthInput | None = strawberry.UNSET
    request: RequestInput | None = strawberry.UNSET
    response: ResponseInput | None = strawberry.UNSET
    signature: JSON | None = strawberry.UNSET
    deduplicate: JSON | None = strawberry.UNSET
    rate_limit: JSON | None = strawberry.UNSET


@strawberry.input(description="A node, flat: upstream names an earlier branching node")
class NodeInput:
    key: str
    type: str
    title: str | None = strawberry.UNSET
    config: JSON | None = strawberry.UNSET
    upstream: str | None = strawberry.UNSET
    branch_index: int | None = strawberry.UNSET
    pinned: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="The result a test run gives it (not sent)"
    )


@strawberry.input(description="A whole workflow document, as `gateway apply` takes it")
class WorkflowInput:
    key: str
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    enabled: bool | None = strawberry.UNSET
    sync: bool | None = strawberry.UNSET
    options: JSON | None = strawberry.UNSET
    trigger: TriggerInput | None = strawberry.UNSET
    nodes: list[NodeInput] | None = strawberry.UNSET


@strawberry.input(description="Fields to replace; trigger and nodes are replaced whole")
class UpdateWorkflowInput:
    key: str | None = strawberry.field(
        default=strawberry.UNSET, description="Must be the current key: keys do not change"
    )
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    enabled: bool | None = strawberry.UNSET
    sync: bool | None = strawberry.UNSET
    options: JSON | None = strawberry.UNSET
    trigger: TriggerInput | None = strawberry.UNSET
    nodes: list[NodeInput] | None = strawberry.UNSET


@strawberry.input
class ParseRuleInput:
    source: ParseSource
    key: str
    alias: str | None = strawberry.UNSET
    var: str | None = strawberry.UNSET
    required: bool | None = strawberry.UNSET
    type: str | None = strawberry.UNSET


@strawberry.input(description="Fields to change; a new source moves the rule to that list")
class UpdateParseRuleInput:
    source: ParseSource | None = strawberry.UNSET
    key: str | None = strawberry.UNSET
    alias: str | None = strawberry.UNSET
    var: str | None = strawberry.UNSET
    required: bool | None = strawberry.UNSET
    type: str | None = strawberry.UNSET


@strawberry.input(description="Fields to change; a new upstream or branch moves the node")
class UpdateNodeInput:
    key: str | None = strawberry.UNSET
    type: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    config: JSON | None = strawberry.UNSET
    upstream: str | None = strawberry.UNSET
    branch_index: int | None = strawberry.UNSET
    pinned: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="The result a test run gives it; null: none"
    )
