"""What happens when an async execution fails: a retry later, or a dead letter and its
failure workflow (docs/executions.md, `options.retry` and `options.onFailure`).

`next_wait` decides (pure); the runner writes. A failure workflow's execution is an
ordinary QUEUED execution of that workflow whose request is made up here: `POST` with the
failed execution's details as the JSON body, and `failureOf` (the failed execution's id)
in its context, so that its own failure never starts another failure workflow (two
workflows naming each other would otherwise run forever).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import orjson

from gateway.core.ids import new_id
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.engine.processor import RunResult
from gateway.store import retries
from gateway.store.operations import NewExecution
from gateway.workflows.compiled import CompiledWorkflow

log = logging.getLogger("gateway.executor")


def retries_so_far(state: dict[str, Any] | None) -> int:
    """Execution retries already made: kept in the resume state across parks and retries."""
    return int(state.get("retries", 0)) if state else 0


def next_wait(workflow: CompiledWorkflow, result: RunResult, retries_made: int) -> float | None:
    """Seconds before the next execution retry, or None: not a retryable failure of an
    async workflow, or its schedule is used up."""
    if not result.retryable or result.status is not ExecutionStatus.FAILED or workflow.sync:
        return None
    if retries_made >= len(workflow.retry_schedule):
        return None
    return workflow.retry_schedule[retries_made]


def is_dead_letter(workflow: CompiledWorkflow, result: RunResult) -> bool:
    """A retryable failure of an async workflow with no retry left."""
    return result.retryable and not workflow.sync


def failed_node(result: RunResult) -> str | None:
    for job in reversed(result.jobs):
        if job.status in (JobStatus.FAILED, JobStatus.ERROR):
            return job.node_key
    return None


async def failure_execution(
    workflow: CompiledWorkflow,
    execution_id: uuid.UUID,
    context: dict[str, Any],
    result: RunResult,
    dead_letter: bool,
    retries_made: int,
    now: datetime,
) -> NewExecution | None:
    """The failure workflow's execution for this failure, if one is due; None when the
    workflow has none, this failure does not call for it, or it was itself a failure run."""
    on_failure = workflow.on_failure
    if on_failure is None or context.get("failureOf") is not None:
        return None
    if not dead_letter and not on_failure.every_failure:
        return None
    target = await retries.current_version(on_failure.workflow)
    if target is None:
        log.warning(
            "failure workflow %r does not exist or is disabled",
            on_failure.workflow,
            extra={"execution_id": str(execution_id), "workflow": workflow.workflow_key},
        )
        return None
    request = {k: v for k, v in context.items() if k != "rawBody"}
    body = {
        "executionId": str(execution_id),
        "workflow": workflow.workflow_key,
        "status": result.status.value,
        "error": result.error,
        "reason": result.reason,
        "failedNode": failed_node(result),
        "deadLetter": dead_letter,
        "retries": retries_made,
        "request": request,
    }
    failure_context = {
        "method": "POST",
        "path": "",
        "headers": {"content-type": "application/json"},
        "query": {},
        "body": body,
        "receivedAt": now.isoformat(),
        "failureOf": str(execution_id),
    }
    return NewExecution(
        id=new_id(),
        workflow_id=target[0],
        version_id=target[1],
        status=ExecutionStatus.QUEUED,
        context=failure_context,
        raw_body=orjson.dumps(body),
        created_at=now,
    )
