"""What people do to one execution after the fact: replay it, cancel it."""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.transactions import in_transaction

from gateway.core.statuses import ExecutionStatus
from gateway.store.errors import translated
from gateway.store.models import Execution, ExecutionRequest, Workflow, WorkflowVersion


async def replay(
    execution_id: uuid.UUID,
    new_id: uuid.UUID,
    now: datetime,
    *,
    again: bool = False,
    same_key: bool = True,
) -> tuple[Execution | None, bool]:
    """A new QUEUED execution with the request of `execution_id` (its context and raw body),
    on its workflow's current version, linked by `replay_of`, and True; or, when it was
    replayed before and not `again`, its newest replay and False; (None, False) when there
    is no such execution. `same_key` adds `replayOf` (the first original's id) to the
    context, from which its request nodes derive the original's `Idempotency-Key`.

    The original's row is locked first (PostgreSQL; SQLite runs one transaction at a time),
    so two replays of one execution sent at once make one new execution."""
    async with translated("replay execution"), in_transaction():
        original = await Execution.filter(id=execution_id).select_for_update().first()
        if original is None:
            return None, False
        if not again:
            before = await Execution.filter(replay_of=execution_id).order_by("-created_at").first()
            if before is not None:
                return before, False
        request = await ExecutionRequest.get(execution_id=execution_id)
        context = dict(request.context)
        if same_key:
            context.setdefault("replayOf", str(original.id))
        else:
            context.pop("replayOf", None)
        workflow = await Workflow.get(id=original.workflow_id)
        version = await WorkflowVersion.get(workflow_id=workflow.id, version=workflow.version)
        execution = await Execution.create(
            id=new_id,
            workflow_id=workflow.id,
            version_id=version.id,
            status=ExecutionStatus.QUEUED,
            replay_of=original.id,
            created_at=now,
        )
        await ExecutionRequest.create(
            execution_id=new_id, context=context, raw_body=request.raw_body
        )
        return execution, True


async def cancel(execution_id: uuid.UUID, now: datetime) -> tuple[bool, Execution | None]:
    """QUEUED or STARTED → CANCELED with a conditional update (a running execution's end is
    then not recorded: finishing is conditional on STARTED). Returns whether this call
    canceled it, and the execution as it is now (None when there is none)."""
    async with translated("cancel execution"):
        canceled = await Execution.filter(
            id=execution_id, status__in=[ExecutionStatus.QUEUED, ExecutionStatus.STARTED]
        ).update(status=ExecutionStatus.CANCELED, finished_at=now, reason="canceled")
        return bool(canceled), await Execution.get_or_none(id=execution_id)
