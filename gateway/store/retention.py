"""Retention: finished executions older than `GATEWAY_EXECUTION_MAX_AGE` are deleted, in
batches so no single statement holds locks for long (their jobs and requests with them),
and expired de-duplication keys with them."""

from __future__ import annotations

from datetime import timedelta

from gateway.core.clock import utcnow
from gateway.core.statuses import FINISHED
from gateway.store.dedup import prune_expired
from gateway.store.errors import translated
from gateway.store.models import Execution, ExecutionRequest, Job

BATCH = 1000


async def prune_executions(max_age: float, batch: int = BATCH, max_batches: int = 100) -> int:
    """Delete up to `batch * max_batches` finished executions older than `max_age` seconds;
    returns how many. Unfinished ones (queued, parked, running) are never pruned."""
    cutoff = utcnow() - timedelta(seconds=max_age)
    total = 0
    for _ in range(max_batches):
        async with translated("prune executions"):
            ids = list(
                await Execution.filter(status__in=list(FINISHED), finished_at__lt=cutoff)
                .limit(batch)
                .values_list("id", flat=True)
            )
            if ids:
                await Job.filter(execution_id__in=ids).delete()
                await ExecutionRequest.filter(execution_id__in=ids).delete()
                await Execution.filter(id__in=ids).delete()
        total += len(ids)
        if len(ids) < batch:
            break
    return total


async def prune(max_age: float) -> tuple[int, int]:
    """(executions, de-duplication keys) deleted."""
    executions = await prune_executions(max_age)
    keys = 0
    while (deleted := await prune_expired()) > 0:
        keys += deleted
    return executions, keys
