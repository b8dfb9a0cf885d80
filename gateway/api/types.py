"""Output types: of definitions (Workflow, Trigger, ParseRule, Node, NodeType) and of runs
(Execution with its request, answer and jobs; Job), which refer to each other.

Each is built from its database row; relations are resolved through the request's
DataLoaders. Secrets are write-only: no type has a password, a hash or a `secret` field.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from gateway.api.budget import spend_text
from gateway.api.context import Info
from gateway.api.execution import PRELOADED
from gateway.core.errors import NotFound
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.service.reads import ExecutionRecord, JobRow, RequestRecord, Row
from gateway.service.retries import DEAD_LETTER, waiting_retry
from gateway.workflows.apply import trigger_url
from gateway.workflows.catalog import NodeKind
from gateway.workflows.export import to_export

R = TypeVar("R")
_SECRET = re.compile(r"secret|password|hash", re.IGNORECASE)


def without_secrets(value: Any) -> Any:
    """`value` with every key that names a secret left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if not _SECRET.search(str(k))}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def public_document(stored: dict[str, Any]) -> dict[str, Any]:
    """The export form, with the trigger options (signature …) stripped of secrets at any
    depth; node configs and the response are the user's data and are left as they are."""
    doc = to_export(stored)
    kept = ("key", "basicAuthentication", "request", "response")
    doc["trigger"] = {
        name: value if name in kept else without_secrets(value)
        for name, value in doc["trigger"].items()
    }
    return doc


@strawberry.enum(description="Where a parse rule reads its value")
class ParseSource(Enum):
    HEADERS = "headers"
    QUERY = "query"
    BODY = "body"


@strawberry.type
class BasicAuthentication:
    enabled: bool
    username: str | None


@strawberry.type
class Header:
    name: str
    value: JSON | None = strawberry.field(
        description="A template: text with {{ $context… }} placeholders"
    )


@strawberry.type(description="The answer an async call gets at once")
class TriggerResponse:
    status_code: int
    headers: list[Header]
    body: JSON | None

    @classmethod
    def from_stored(cls, response: dict[str, Any]) -> TriggerResponse:
        headers = [Header(name=h.get("name"), value=h.get("value")) for h in response["headers"]]
        return cls(status_code=response["statusCode"], headers=headers, body=response.get("body"))


@strawberry.type(description="One variable a trigger extracts from the request")
class ParseRule:
    id: strawberry.ID
    source: ParseSource
    key: str = strawberry.field(description='The path: b.c, items[0].id, ["a.b"]')
    alias: str | None
    var: str | None
    required: bool
    type: str | None = strawberry.field(
        description="string, number, integer, boolean, object, array or json"
    )
    trigger_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row) -> ParseRule:
        return cls(
            id=strawberry.ID(str(row["id"])),
            source=ParseSource(row["source"]),
            key=row["key"],
            alias=row["alias"],
            var=row["var"],
            required=row["required"],
            type=row["type"],
            trigger_id=row["trigger_id"],
        )

    @strawberry.field
    async def trigger(self, info: Info) -> Trigger:
        return Trigger.from_row(found(await info.context.loaders.trigger.load(self.trigger_id)))


def later(pending: Awaitable[R]) -> R:
    """An awaitable typed as its value, for a resolver that answers with a value when it
    has one (preloaded) and with an awaitable when it must load: graphql-core awaits what a
    resolver returns, and a plain value skips its awaitable path (gateway/api/preload.py)."""
    return cast(R, pending)


def found(row: R | None) -> R:
    """A loaded row, or NotFound when it went between two reads of one request."""
    if row is None:
        raise NotFound("it was deleted meanwhile")
    return row


@strawberry.type(description="The webhook trigger of a workflow")
class Trigger:
    id: strawberry.ID
    key: str = strawberry.field(description="The URL key (regenerable)")
    basic_authentication: BasicAuthentication
    response: TriggerResponse
    options: JSON = strawberry.field(
        description="signature, deduplicate, rateLimit … as configured, secrets left out"
    )
    workflow_id: strawberry.Private[int]
    row_id: strawberry.Private[int]
    preloaded_rules: strawberry.Private[list[ParseRule] | None] = None
    preloaded_url: strawberry.Private[str | None] = None

    @classmethod
    def from_row(cls, row: Row) -> Trigger:
        username = row["basic_auth_username"]
        return cls(
            id=strawberry.ID(str(row["id"])),
            key=row["key"],
            basic_authentication=BasicAuthentication(
                enabled=username is not None, username=username
            ),
            response=TriggerResponse.from_stored(row["response"]),
            options=without_secrets(row["options"]),
            workflow_id=row["workflow_id"],
            row_id=row["id"],
        )

    @strawberry.field(
        description="The webhook URL: GATEWAY_PUBLIC_URL + /api/webhook:trigger/key",
        metadata={PRELOADED: "preloaded_url"},
    )
    def url(self, info: Info) -> str:
        if self.preloaded_url is not None:
            return self.preloaded_url
        return trigger_url(info.context.settings, self.key)

    @strawberry.field(
        description="Headers, then query, then body rules, each in order",
        metadata={PRELOADED: "preloaded_rules"},
    )
    def parse_rules(self, info: Info) -> list[ParseRule]:
        if self.preloaded_rules is not None:
            return self.preloaded_rules
        return later(self._load_rules(info))

    async def _load_rules(self, info: Info) -> list[ParseRule]:
        rows = await info.context.loaders.rules.load(self.row_id)
        return [ParseRule.from_row(row) for row in rows]

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        return Workflow.from_row(found(await info.context.loaders.workflow.load(self.workflow_id)))


@strawberry.type(description="One step of a workflow's graph")
class Node:
    id: strawberry.ID
    key: str
    type: str
    title: str
    config: JSON
    upstream: str | None = strawberry.field(
        description="The branching node this node's chain hangs below; null: the main chain"
    )
    branch_index: int | None
    pinned: JSON | None = strawberry.field(
        description="The result a test run gives this node instead of its side effect"
    )
    workflow_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Row) -> Node:
        return cls(
            id=strawberry.ID(str(row["id"])),
            key=row["key"],
            type=row["type"],
            title=row["title"],
            config=row["config"],
            upstream=row["upstream"],
            branch_index=row["branch_index"],
            pinned=row.get("pinned"),
            workflow_id=row["workflow_id"],
        )

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        return Workflow.from_row(found(await info.context.loaders.workflow.load(self.workflow_id)))


@strawberry.type
class Workflow:
    id: strawberry.ID
    key: str
    title: str
    description: str
    enabled: bool
    sync: bool
    version: int = strawberry.field(description="Bumped by every change of what runs")
    options: JSON = strawberry.field(
        description="timeout (ms), keepExecutions, onWorkerLost, retry, onFailure, maxOutbound"
    )
    created_at: datetime
    updated_at: datetime
    row_id: strawberry.Private[int]
    preloaded_trigger: strawberry.Private[Trigger | None] = None
    preloaded_nodes: strawberry.Private[list[Node] | None] = None

    @classmethod
    def from_row(cls, row: Row) -> Workflow:
        return cls(
            id=strawberry.ID(str(row["id"])),
            key=row["key"],
            title=row["title"],
            description=row["description"],
            enabled=row["enabled"],
            sync=row["sync"],
            version=row["version"],
            options=row["options"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            row_id=row["id"],
        )

    @strawberry.field(metadata={PRELOADED: "preloaded_trigger"})
    def trigger(self, info: Info) -> Trigger:
        if self.preloaded_trigger is not None:
            return self.preloaded_trigger
        return later(self._load_trigger(info))

    async def _load_trigger(self, info: Info) -> Trigger:
        row = await info.context.loaders.workflow_trigger.load(self.row_id)
        return Trigger.from_row(found(row))

    @strawberry.field(
        description="In document order: each node followed by its branches",
        metadata={PRELOADED: "preloaded_nodes"},
    )
    def nodes(self, info: Info) -> list[Node]:
        if self.preloaded_nodes is not None:
            return self.preloaded_nodes
        return later(self._load_nodes(info))

    async def _load_nodes(self, info: Info) -> list[Node]:
        rows = await info.context.loaders.nodes.load(self.row_id)
        return [Node.from_row(row) for row in rows]

    @strawberry.field(description="Its newest execution; null when it has none")
    async def last_execution(self, info: Info) -> Execution | None:
        row = await info.context.loaders.last_execution.load(self.row_id)
        return Execution.from_row(row) if row is not None else None

    @strawberry.field(description="The workflow as a document (gateway export), secrets left out")
    async def document(self, info: Info) -> JSON:
        document = public_document(found(await info.context.loaders.document.load(self.key)))
        return cast(JSON, document)


@strawberry.type(name="NodeType", description="A node type of the registry")
class NodeTypeInfo:
    name: str
    title: str
    description: str
    branching: bool = strawberry.field(description="Whether nodes of this type have branches")
    sync_only: bool
    async_only: bool

    @classmethod
    def from_kind(cls, kind: NodeKind) -> NodeTypeInfo:
        return cls(
            name=kind.name,
            title=kind.title,
            description=kind.description,
            branching=kind.branching,
            sync_only=kind.sync_only,
            async_only=kind.async_only,
        )


@strawberry.type(description="One path found in an example")
class ExamplePath:
    path: str
    type: str = strawberry.field(description="string, number, boolean, object, array or null")
    example: JSON | None
    rule_type: str | None = strawberry.field(description="A parse-rule type to suggest")


strawberry.enum(ExecutionStatus, description="NocoBase's execution statuses")
strawberry.enum(JobStatus, description="NocoBase's job statuses")


@strawberry.type(description="One node's run inside an execution")
class Job:
    id: strawberry.ID
    node_key: str
    node_type: str
    status: JobStatus
    result: JSON | None
    started_at: datetime
    finished_at: datetime | None
    attempts: JSON | None = strawberry.field(
        description="Each try of a node that retries (request): at, outcome (ok, status, "
        "network, timeout, other), status or error, retryInMs when another try followed"
    )

    @classmethod
    def from_row(cls, row: JobRow) -> Job:
        return cls(
            id=strawberry.ID(str(row.id)),
            node_key=row.node_key,
            node_type=row.node_type,
            status=JobStatus(row.status),
            result=row.result,
            started_at=row.started_at,
            finished_at=row.finished_at,
            attempts=row.tries,
        )


@strawberry.type(description="One run of a workflow")
class Execution:
    id: strawberry.ID
    status: ExecutionStatus
    response: JSON | None = strawberry.field(description="The answer sent: status, headers, body")
    error: str | None
    reason: str | None
    event_key: str | None
    attempts: int
    replay_of: strawberry.ID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    retries: int = strawberry.field(
        description="Execution retries made so far (async workflows, options.retry)"
    )
    next_retry_at: datetime | None = strawberry.field(
        description="When the next execution retry runs, while one is waiting "
        "(status QUEUED, reason retry); cancel the execution to stop it"
    )
    dead_letter: bool = strawberry.field(
        description="FAILED after its retries ran out (reason dead letter)"
    )
    workflow_id: strawberry.Private[int]
    version_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: ExecutionRecord) -> Execution:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=ExecutionStatus(row.status),
            response=row.response,
            error=row.error,
            reason=row.reason,
            event_key=row.event_key,
            attempts=row.attempts,
            replay_of=strawberry.ID(str(row.replay_of)) if row.replay_of else None,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            retries=int(row.state.get("retries", 0)) if isinstance(row.state, dict) else 0,
            next_retry_at=row.resume_at if waiting_retry(row) else None,
            dead_letter=row.status == "FAILED" and row.reason == DEAD_LETTER,
            workflow_id=row.workflow_id,
            version_id=row.version_id,
        )

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        return Workflow.from_row(found(await info.context.loaders.workflow.load(self.workflow_id)))

    @strawberry.field(description="The workflow version this execution ran")
    async def version(self, info: Info) -> int:
        return int(found(await info.context.loaders.version.load(self.version_id)))

    @strawberry.field(
        description="The request: method, path, headers (never authorization or cookies "
        "unless a rule names them), query, body, receivedAt"
    )
    async def context(self, info: Info) -> JSON:
        return cast(JSON, (await self._request(info)).context)

    @strawberry.field(description="The request body as text (UTF-8)")
    async def raw_body(self, info: Info) -> str:
        raw = bytes((await self._request(info)).raw_body)
        return spend_text(raw.decode("utf-8", errors="replace"))

    async def _request(self, info: Info) -> RequestRecord:
        return found(await info.context.loaders.request.load(uuid.UUID(str(self.id))))

    @strawberry.field(description="In the order they ran")
    async def jobs(self, info: Info) -> list[Job]:
        rows = await info.context.loaders.jobs.load(uuid.UUID(str(self.id)))
        return [Job.from_row(row) for row in rows]
