"""What people do to executions: list recent ones, replay one, cancel one.

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
from gateway.service.events import Events
from gateway.service.reads import ExecutionRecord
from gateway.store import interventions, reads


async def recent(
    workflow_key: str | None = None,
    status: str | None = None,
    limit: int = 50,
    with_jobs: bool = False,
) -> list[dict[str, Any]]:
    """Newest first, as plain dicts (the CLI's `--json` shape, docs/documents.md)."""
    return await reads.list_executions(workflow_key, status, limit, with_jobs)


async def replay(
    execution_id: uuid.UUID, executor: Executor, events: Events | None = None
) -> ExecutionRecord:
    """A new QUEUED execution with the request of `execution_id`, on its workflow's current
    version, handed to `executor` (and published on `events`); NotFound when there is no
    such execution."""
    row = await interventions.replay(execution_id, new_id(), utcnow())
    if row is None:
        raise NotFound(f"no execution with id {execution_id}")
    if events is not None:
        events.publish(row.id, row.workflow_id, ExecutionStatus.QUEUED.value)
    executor.submit(row.id)
    return row


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
