"""What people do to one execution after the fact: replay it, cancel it."""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.transactions import in_transaction

from gateway.core.statuses import ExecutionStatus
from gateway.store.errors import translated
from gateway.store.models import Execution, ExecutionRequest, Workflow, WorkflowVersion


async def replay(execution_id: uuid.UUID, new_id: uuid.UUID, now: datetime) -> Execution | None:
    """A new QUEUED execution with the request of `execution_id` (its context and raw body),
    on its workflow's current version, linked by `replay_of`; None when there is none."""
    async with translated("replay execution"), in_transaction():
        original = await Execution.get_or_none(id=execution_id)
        if original is None:
            return None
        request = await ExecutionRequest.get(execution_id=execution_id)
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
            execution_id=new_id, context=request.context, raw_body=request.raw_body
        )
        return execution


async def cancel(execution_id: uuid.UUID, now: datetime) -> tuple[bool, Execution | None]:
    """QUEUED or STARTED → CANCELED with a conditional update (a running execution's end is
    then not recorded: finishing is conditional on STARTED). Returns whether this call
    canceled it, and the execution as it is now (None when there is none)."""
    async with translated("cancel execution"):
        canceled = await Execution.filter(
            id=execution_id, status__in=[ExecutionStatus.QUEUED, ExecutionStatus.STARTED]
        ).update(status=ExecutionStatus.CANCELED, finished_at=now, reason="canceled")
        return bool(canceled), await Execution.get_or_none(id=execution_id)
