"""What people do to executions: list recent ones, show one, replay one, cancel one.

The API, the CLI and the console call these; the store does the reads and the
conditional writes.
"""

from __future__ import annotations

import uuid
from typing import Any

from gateway.core.clock import utcnow
from gateway.core.errors import Conflict, NotFound
from gateway.core.ids import new_id
from gateway.core.statuses import ExecutionStatus
from gateway.executors.base import Executor
from gateway.service import reads
from gateway.service.events import Events
from gateway.service.reads import ExecutionRecord
from gateway.store import interventions
from gateway.store import reads as stored


async def recent(
    workflow_key: str | None = None,
    status: str | None = None,
    limit: int = 50,
    with_jobs: bool = False,
) -> list[dict[str, Any]]:
    """Newest first, as plain dicts (the CLI's `--json` shape, docs/documents.md);
    NotFound when `workflow_key` names no workflow."""
    if workflow_key is not None and await reads.workflow_by_key(workflow_key) is None:
        raise NotFound(f"no workflow {workflow_key}")
    return await stored.list_executions(workflow_key, status, limit, with_jobs)


async def one(execution_id: uuid.UUID) -> dict[str, Any]:
    """One execution as `recent` shows it with its jobs, answer, request context and
    `replayOf`; NotFound when there is none."""
    rows = await reads.executions_by_id([execution_id])
    if not rows:
        raise NotFound(f"no execution with id {execution_id}")
    row = rows[0]
    workflows = await reads.workflows_by_id([row.workflow_id])
    item = stored.summary(row, workflows[0]["key"] if workflows else "")
    item["replayOf"] = str(row.replay_of) if row.replay_of else None
    item["response"] = row.response
    requests = await reads.requests_by_execution([execution_id])
    item["request"] = requests[0].context if requests else None
    jobs = await reads.jobs_by_execution([execution_id])
    item["jobs"] = [stored.job_summary(job) for job in sorted(jobs, key=lambda j: j.id)]
    return item


async def replay(
    execution_id: uuid.UUID,
    executor: Executor,
    events: Events | None = None,
    *,
    again: bool = False,
    fresh_key: bool = False,
) -> tuple[ExecutionRecord, bool]:
    """Run the request of `execution_id` again: a new QUEUED execution on its workflow's
    current version, handed to `executor` (and published on `events`), and True. Sent
    twice, the second answers the first's replay and False, unless `again`. The replay
    sends the original's `Idempotency-Key`s unless `fresh_key`. NotFound when there is no
    such execution."""
    row, created = await interventions.replay(
        execution_id, new_id(), utcnow(), again=again, same_key=not fresh_key
    )
    if row is None:
        raise NotFound(f"no execution with id {execution_id}")
    if created:
        if events is not None:
            events.publish(row.id, row.workflow_id, ExecutionStatus.QUEUED.value)
        executor.submit(row.id)
    return row, created


async def cancel(execution_id: uuid.UUID, events: Events | None = None) -> ExecutionRecord:
    """QUEUED or STARTED → CANCELED (published on `events`); NotFound, or Conflict when it
    has already ended."""
    canceled, row = await interventions.cancel(execution_id, utcnow())
    if row is None:
        raise NotFound(f"no execution with id {execution_id}")
    if not canceled:
        raise Conflict(
            f"execution {execution_id} is {ExecutionStatus(row.status).value}: only QUEUED "
            "or STARTED executions can be canceled"
        )
    if events is not None:
        events.publish(row.id, row.workflow_id, ExecutionStatus.CANCELED.value)
    return row
