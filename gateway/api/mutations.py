"""The Mutation root. Every definition change goes through the service the CLI uses:
`applyWorkflows` and `createWorkflow` through `apply_documents`, single-item edits through
`gateway.workflows.edits` (which re-applies the whole document), so validation, versioning
and trigger keys follow the same rules everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from gateway.api.context import Info
from gateway.api.inputs import (
    NodeInput,
    ParseRuleInput,
    TriggerInput,
    UpdateNodeInput,
    UpdateParseRuleInput,
    UpdateWorkflowInput,
    WorkflowInput,
    to_document,
)
from gateway.api.queries import examples, execution_id, item_id, utc
from gateway.api.types import (
    ExamplePath,
    Execution,
    Node,
    ParseRule,
    ParseSource,
    Trigger,
    Workflow,
    found,
)
from gateway.service import executions, reads, retries
from gateway.workflows import edits
from gateway.workflows.apply import Change, apply_documents, trigger_url
from gateway.workflows.documents import Source
from gateway.workflows.edits import Edited


@strawberry.input(description="Which executions a bulk resume or replay takes")
class ExecutionSelection:
    workflow: str | None = strawberry.field(default=None, description="A workflow key")
    status: str | None = strawberry.field(
        default=None, description="An execution status, or DEAD_LETTER; default FAILED"
    )
    since: datetime | None = strawberry.field(default=None, description="Created at or after")
    until: datetime | None = strawberry.field(default=None, description="Created before")

    def selection(self) -> retries.Selection:
        return retries.selection(self.workflow, self.status, utc(self.since), utc(self.until))


@strawberry.type(description="What a bulk resume or replay did")
class BulkResult:
    matched: int = strawberry.field(description="Executions matching the filter")
    considered: int = strawberry.field(description="The oldest of them, up to the limit")
    queued: int = strawberry.field(
        description="Queued now (the others were already resumed or replayed)"
    )

    @classmethod
    def from_bulk(cls, bulk: retries.Bulk) -> BulkResult:
        return cls(matched=bulk.matched, considered=bulk.considered, queued=bulk.queued)


@strawberry.type(description="What applying did (or, in a dry run, would do) to one workflow")
class WorkflowChange:
    action: str = strawberry.field(description="create, update, unchanged or delete")
    key: str
    version: int | None
    previous_version: int | None
    changed: list[str]
    trigger_key: str | None
    url: str | None

    @strawberry.field(description="The workflow now; null for a delete or a dry run's create")
    async def workflow(self, info: Info) -> Workflow | None:
        row = await reads.workflow_by_key(self.key)
        return Workflow.from_row(row) if row is not None else None

    @classmethod
    def from_change(cls, change: Change, info: Info) -> WorkflowChange:
        key = change.trigger_key
        return cls(
            action=change.action,
            key=change.key,
            version=change.version,
            previous_version=change.previous_version,
            changed=list(change.changed),
            trigger_key=key,
            url=trigger_url(info.context.settings, key) if key else None,
        )


async def _workflow(info: Info, workflow_id: int) -> Workflow:
    return Workflow.from_row(found(await info.context.loaders.workflow.load(workflow_id)))


async def _by_key(info: Info, key: str) -> Workflow:
    return Workflow.from_row(found(await reads.workflow_by_key(key)))


async def _trigger(info: Info, edited: Edited) -> Trigger:
    row = await info.context.loaders.workflow_trigger.load(edited.workflow_id)
    return Trigger.from_row(found(row))


async def _rule(edited: Edited) -> ParseRule:
    assert edited.source is not None and edited.index is not None
    row = await reads.rule_at(edited.workflow_id, edited.source, edited.index)
    return ParseRule.from_row(found(row))


async def _node(edited: Edited) -> Node:
    row = await reads.node_by_key(edited.workflow_id, str(edited.node_key))
    return Node.from_row(found(row))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a workflow from a whole document, in one call")
    async def create_workflow(self, info: Info, input: WorkflowInput) -> Workflow:
        change = await edits.create_workflow(to_document(input), info.context.settings)
        info.context.changed()
        return await _by_key(info, change.key)

    @strawberry.mutation(description="Replace the given fields of a workflow")
    async def update_workflow(
        self, info: Info, id: strawberry.ID, input: UpdateWorkflowInput
    ) -> Workflow:
        edited = await edits.update_workflow(item_id(id), to_document(input), info.context.settings)
        info.context.changed()
        return await _workflow(info, edited.workflow_id)

    @strawberry.mutation(description="Delete a workflow and its executions; returns its id")
    async def delete_workflow(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        await edits.delete_workflow(item_id(id))
        info.context.changed()
        return id

    @strawberry.mutation(
        description="Replace the given fields (in request, the given sources); keep the rest"
    )
    async def update_trigger(
        self, info: Info, workflow_id: strawberry.ID, input: TriggerInput
    ) -> Trigger:
        workflow = item_id(workflow_id, "workflowId")
        edited = await edits.update_trigger(workflow, to_document(input), info.context.settings)
        info.context.changed()
        return await _trigger(info, edited)

    @strawberry.mutation(description="A new random URL key: the old URL stops working")
    async def regenerate_trigger_key(self, info: Info, workflow_id: strawberry.ID) -> Trigger:
        workflow = item_id(workflow_id, "workflowId")
        edited = await edits.regenerate_trigger_key(workflow, info.context.settings)
        info.context.changed()
        return await _trigger(info, edited)

    @strawberry.mutation(
        description="Add a rule at `position` in its source's list (default: last)"
    )
    async def create_parse_rule(
        self,
        info: Info,
        trigger_id: strawberry.ID,
        input: ParseRuleInput,
        position: int | None = None,
    ) -> ParseRule:
        rule = to_document(input)
        source = rule.pop("source")
        trigger = item_id(trigger_id, "triggerId", "trigger")
        edited = await edits.create_parse_rule(
            trigger, source, rule, position, info.context.settings
        )
        info.context.changed()
        return await _rule(edited)

    @strawberry.mutation(description="Change the given fields of a parse rule")
    async def update_parse_rule(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateParseRuleInput,
        position: int | None = None,
    ) -> ParseRule:
        rule = item_id(id, what="parse rule")
        edited = await edits.update_parse_rule(
            rule, to_document(input), position, info.context.settings
        )
        info.context.changed()
        return await _rule(edited)

    @strawberry.mutation(description="Delete a parse rule; returns its trigger")
    async def delete_parse_rule(self, info: Info, id: strawberry.ID) -> Trigger:
        rule = item_id(id, what="parse rule")
        edited = await edits.delete_parse_rule(rule, info.context.settings)
        info.context.changed()
        return await _trigger(info, edited)

    @strawberry.mutation(description="Add a node at `position` in its chain (default: last)")
    async def create_node(
        self,
        info: Info,
        workflow_id: strawberry.ID,
        input: NodeInput,
        position: int | None = None,
    ) -> Node:
        workflow = item_id(workflow_id, "workflowId")
        node = to_document(input)
        edited = await edits.create_node(workflow, node, position, info.context.settings)
        info.context.changed()
        return await _node(edited)

    @strawberry.mutation(description="Change the given fields of a node (move it, rename it)")
    async def update_node(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateNodeInput,
        position: int | None = None,
    ) -> Node:
        node = item_id(id, what="node")
        edited = await edits.update_node(node, to_document(input), position, info.context.settings)
        info.context.changed()
        return await _node(edited)

    @strawberry.mutation(description="Delete a node and its branches; returns the workflow")
    async def delete_node(self, info: Info, id: strawberry.ID) -> Workflow:
        edited = await edits.delete_node(item_id(id, what="node"), info.context.settings)
        info.context.changed()
        return await _workflow(info, edited.workflow_id)

    @strawberry.mutation(
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

    @strawberry.mutation(description="Upsert workflow documents by key, as `gateway apply` does")
    async def apply_workflows(
        self,
        info: Info,
        documents: list[JSON],
        prune: bool = False,
        dry_run: bool = False,
    ) -> list[WorkflowChange]:
        sources = [
            Source(f"graphql#{i}", doc, environment=False)
            for i, doc in enumerate(documents, start=1)
        ]
        changes = await apply_documents(
            sources, info.context.settings, prune=prune, dry_run=dry_run
        )
        if not dry_run:
            info.context.changed()
        return [WorkflowChange.from_change(change, info) for change in changes]

    @strawberry.mutation(
        description="Run an execution's request again, as a new execution on the current "
        "version; sent twice, the second answers the first's replay unless `again`. It sends "
        "the original's Idempotency-Keys unless freshIdempotencyKey"
    )
    async def replay_execution(
        self,
        info: Info,
        id: strawberry.ID,
        again: bool = False,
        fresh_idempotency_key: bool = False,
    ) -> Execution:
        runtime = info.context.runtime
        row, _ = await executions.replay(
            execution_id(id),
            runtime.executor,
            runtime.events,
            again=again,
            fresh_key=fresh_idempotency_key,
        )
        return Execution.from_row(row)

    @strawberry.mutation(
        description="Queue again, from the node where each stopped and as the same execution "
        "(same Idempotency-Keys), the oldest `limit` ended executions matching the filter "
        "(default FAILED); sent twice, the second queues none of the same ones"
    )
    async def resume_executions(
        self,
        info: Info,
        filter: ExecutionSelection,
        limit: int = retries.DEFAULT_BULK,
    ) -> BulkResult:
        done = await retries.resume_matching(
            filter.selection(), limit, info.context.runtime.executor
        )
        return BulkResult.from_bulk(done)

    @strawberry.mutation(
        description="Run again from the start, as a new execution on the current version, "
        "each of the oldest `limit` executions matching the filter (default FAILED) not "
        "replayed before; it sends the original's Idempotency-Keys unless freshIdempotencyKey"
    )
    async def replay_executions(
        self,
        info: Info,
        filter: ExecutionSelection,
        limit: int = retries.DEFAULT_BULK,
        fresh_idempotency_key: bool = False,
    ) -> BulkResult:
        done = await retries.replay_matching(
            filter.selection(), limit, info.context.runtime.executor, fresh_idempotency_key
        )
        return BulkResult.from_bulk(done)

    @strawberry.mutation(description="Cancel a QUEUED or STARTED execution")
    async def cancel_execution(self, info: Info, id: strawberry.ID) -> Execution:
        row = await executions.cancel(execution_id(id), info.context.runtime.events)
        return Execution.from_row(row)
