"""The Query root: workflows, executions, node types, and parseExample (which changes
nothing, so it is a query as well as a mutation; docs/api.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import strawberry

from gateway.api.context import Info
from gateway.api.errors import bad_input
from gateway.api.limits import DEFAULT_PAGE
from gateway.api.pagination import Connection, connection, decode_cursor, encode_cursor, page_size
from gateway.api.preload import preload_workflows
from gateway.api.types import ExamplePath, Execution, NodeTypeInfo, ParseSource, Workflow
from gateway.core.statuses import ExecutionStatus
from gateway.service import captures, reads
from gateway.service.reads import ExecutionFilter
from gateway.workflows.catalog import node_kinds
from gateway.workflows.examples import parse_example

WORKFLOW_CURSOR = "workflow:"
MAX_SEARCH = 200
EXECUTION_CURSOR = "execution:"


def item_id(value: strawberry.ID, argument: str = "id", what: str = "workflow") -> int:
    try:
        return int(value)
    except ValueError:
        raise bad_input(argument, f"{value!r} is not a {what} id") from None


def execution_id(value: strawberry.ID, argument: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise bad_input(argument, f"{value!r} is not an execution id") from None


def utc(value: datetime | None) -> datetime | None:
    """A time in UTC; one without an offset is taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _execution_cursor(execution: Execution) -> str:
    return encode_cursor(f"{EXECUTION_CURSOR}{execution.created_at.isoformat()}|{execution.id}")


def _after_workflow(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        return int(decode_cursor(after, WORKFLOW_CURSOR))
    except ValueError:
        raise bad_input("after", "not a cursor of this list") from None


def _after_execution(after: str | None) -> tuple[datetime, uuid.UUID] | None:
    if after is None:
        return None
    created, _, last_id = decode_cursor(after, EXECUTION_CURSOR).partition("|")
    try:
        return datetime.fromisoformat(created).astimezone(UTC), uuid.UUID(last_id)
    except ValueError:
        raise bad_input("after", "not a cursor of this list") from None


async def find_workflow(info: Info, id: strawberry.ID | None, key: str | None) -> Workflow | None:
    if (id is None) == (key is None):
        raise bad_input("id", "give either id or key")
    if id is not None:
        row = await info.context.loaders.workflow.load(item_id(id))
    else:
        row = await reads.workflow_by_key(str(key))
    return Workflow.from_row(row) if row is not None else None


async def examples(
    info: Info,
    source: ParseSource,
    example: str | None,
    captured_call_id: strawberry.ID | None = None,
) -> list[ExamplePath]:
    """Paths of a pasted `example`, or of part `source` of a captured call."""
    settings = info.context.settings
    if (example is None) == (captured_call_id is None):
        raise bad_input("example", "give either example or capturedCallId")
    if captured_call_id is not None:
        call_id = item_id(captured_call_id, "capturedCallId", "captured call")
        call, _ = await captures.captured_call(call_id)
        example = captures.example_text(call, source.value)
    assert example is not None
    found = parse_example(source.value, example, settings.json_depth, settings.body_limit)
    return [
        ExamplePath(path=p.path, type=p.type, example=p.example, rule_type=p.rule_type)
        for p in found
    ]


@strawberry.type
class Query:
    @strawberry.field(description="Workflows in creation order")
    async def workflows(
        self,
        info: Info,
        enabled: bool | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        sync: bool | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(description="Text in the key, title or description (any case)"),
        ] = None,
    ) -> Connection[Workflow]:
        size = page_size(first)
        if search is not None and len(search) > MAX_SEARCH:
            raise bad_input("search", f"at most {MAX_SEARCH} characters")
        where = reads.WorkflowFilter(enabled=enabled, sync=sync, search=search or None)
        rows = await reads.workflows_page(where, _after_workflow(after), size + 1)
        items = [Workflow.from_row(row) for row in rows]
        await preload_workflows(info, items[:size], "edges", "node")
        return connection(
            items,
            size,
            lambda w: encode_cursor(f"{WORKFLOW_CURSOR}{w.id}"),
            lambda: reads.count_workflows(where),
        )

    @strawberry.field(description="One workflow by id or by key; null when there is none")
    async def workflow(
        self, info: Info, id: strawberry.ID | None = None, key: str | None = None
    ) -> Workflow | None:
        return await find_workflow(info, id, key)

    @strawberry.field(description="Executions, newest first")
    async def executions(
        self,
        workflow_id: strawberry.ID | None = None,
        status: ExecutionStatus | None = None,
        since: Annotated[
            datetime | None, strawberry.argument(description="Created at or after")
        ] = None,
        until: Annotated[datetime | None, strawberry.argument(description="Created before")] = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> Connection[Execution]:
        size = page_size(first)
        where = ExecutionFilter(
            workflow_id=item_id(workflow_id, "workflowId", "workflow") if workflow_id else None,
            status=status.value if status is not None else None,
            since=utc(since),
            until=utc(until),
        )
        rows = await reads.executions_page(where, _after_execution(after), size + 1)
        return connection(
            [Execution.from_row(row) for row in rows],
            size,
            _execution_cursor,
            lambda: reads.count_executions(where),
        )

    @strawberry.field(description="One execution with its jobs; null when there is none")
    async def execution(self, info: Info, id: strawberry.ID) -> Execution | None:
        row = await info.context.loaders.execution.load(execution_id(id))
        return Execution.from_row(row) if row is not None else None

    @strawberry.field(description="The node types a workflow may use")
    def node_types(self) -> list[NodeTypeInfo]:
        return [NodeTypeInfo.from_kind(kind) for kind in node_kinds()]

    @strawberry.field(
        description="Every path of a pasted example (query, body or headers), as parse rules"
    )
    async def parse_example(
        self,
        info: Info,
        source: ParseSource,
        example: str | None = None,
        captured_call_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Read the part of this captured call instead"),
        ] = None,
    ) -> list[ExamplePath]:
        return await examples(info, source, example, captured_call_id)
