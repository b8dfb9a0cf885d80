"""Store queries of execution retries, dead letters and failure workflows.

A waiting retry is an execution QUEUED with `reason = 'retry'` and `resume_at` (its next
try); a dead letter is one FAILED with `reason = 'dead letter'` (docs/executions.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from gateway.core.statuses import ExecutionStatus
from gateway.store.errors import translated
from gateway.store.models import (
    Execution,
    ExecutionRequest,
    Workflow,
    WorkflowVersion,
    fits,
)

RETRY = "retry"
DEAD_LETTER = "dead letter"


async def current_version(workflow_key: str) -> tuple[int, int] | None:
    """(workflow id, current version id) of an enabled workflow; None if there is none."""
    if not fits(Workflow, "key", workflow_key):
        return None
    async with translated("find failure workflow"):
        workflow = await Workflow.get_or_none(key=workflow_key, enabled=True)
        if workflow is None:
            return None
        version_id = await WorkflowVersion.get(
            workflow_id=workflow.id, version=workflow.version
        ).values_list("id", flat=True)
    return workflow.id, int(str(version_id))


async def dead_letters_by_workflow() -> dict[str, int]:
    """Workflow key → number of dead letters stored."""
    async with translated("count dead letters"):
        rows = (
            await Execution.filter(status=ExecutionStatus.FAILED, reason=DEAD_LETTER)
            .annotate(n=Count("id"))
            .group_by("workflow__key")
            .values("workflow__key", "n")
        )
    return {str(row["workflow__key"]): int(row["n"]) for row in rows}


async def waiting_retries() -> int:
    async with translated("count waiting retries"):
        return await Execution.filter(status=ExecutionStatus.QUEUED, reason=RETRY).count()


@dataclass(frozen=True, slots=True)
class Selection:
    """Which executions a bulk operation takes: all given conditions hold."""

    workflow_key: str | None = None
    statuses: tuple[str, ...] = ()
    dead_letters: bool = False
    since: datetime | None = None
    until: datetime | None = None


def _selected(selection: Selection) -> Any:
    query = Execution.all()
    if selection.workflow_key is not None:
        query = query.filter(workflow__key=selection.workflow_key)
    if selection.statuses:
        query = query.filter(status__in=list(selection.statuses))
    if selection.dead_letters:
        query = query.filter(status=ExecutionStatus.FAILED, reason=DEAD_LETTER)
    if selection.since is not None:
        query = query.filter(created_at__gte=selection.since)
    if selection.until is not None:
        query = query.filter(created_at__lt=selection.until)
    return query


async def select_ids(selection: Selection, limit: int) -> tuple[list[uuid.UUID], int]:
    """Up to `limit` matching execution ids (oldest first) and how many match in all."""
    async with translated("select executions"):
        query = _selected(selection)
        total = await query.count()
        ids = await query.order_by("created_at", "id").limit(limit).values_list("id", flat=True)
    return [uuid.UUID(str(i)) for i in ids], total


RESUMABLE = (
    ExecutionStatus.FAILED,
    ExecutionStatus.ERROR,
    ExecutionStatus.ABORTED,
    ExecutionStatus.CANCELED,
)
RESUMED = "resumed"


async def resume(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Ended executions among `ids` (FAILED, ERROR, ABORTED, CANCELED) back to QUEUED
    (reason `resumed`), keeping where a failure stopped them and with a fresh retry
    schedule; each is changed only if it is still as it was read, so a resume sent twice
    queues each once. The ids queued."""
    queued = []
    async with translated("resume executions"), in_transaction():
        rows = await Execution.filter(id__in=ids, status__in=list(RESUMABLE)).values(
            "id", "status", "state"
        )
        for row in rows:
            state = row["state"] if isinstance(row["state"], dict) else None
            if state is not None and state.get("kind") == "retry":
                state = {**state, "retries": 0}
            else:
                state = None  # nowhere to resume from: from the start, as the same execution
            changed = await Execution.filter(id=row["id"], status=row["status"]).update(
                status=ExecutionStatus.QUEUED,
                reason=RESUMED,
                finished_at=None,
                resume_at=None,
                lease_until=None,
                state=state,
            )
            if changed:
                queued.append(uuid.UUID(str(row["id"])))
    return queued


async def replay(
    ids: list[uuid.UUID], new_id: Callable[[], uuid.UUID], now: datetime, same_key: bool
) -> list[uuid.UUID]:
    """A new QUEUED execution for each of `ids` not replayed before (on its workflow's
    current version, `replay_of` the original), with the original's request; `same_key`
    adds `replayOf` (the first original's id) to its context, from which its request nodes
    derive the original's `Idempotency-Key`. The new ids."""
    created = []
    async with translated("replay executions"), in_transaction():
        replays = await Execution.filter(replay_of__in=ids).values_list("replay_of", flat=True)
        done = {str(original) for original in replays}
        originals = await Execution.filter(id__in=ids).values("id", "workflow_id")
        versions = await _current_versions({int(o["workflow_id"]) for o in originals})
        requests = {
            str(r["execution_id"]): r
            for r in await ExecutionRequest.filter(execution_id__in=ids).values(
                "execution_id", "context", "raw_body"
            )
        }
        for original in originals:
            key = str(original["id"])
            if key in done or key not in requests:
                continue
            request = requests[key]
            context = dict(request["context"])
            if same_key:
                context.setdefault("replayOf", key)
            else:
                context.pop("replayOf", None)
            execution_id = new_id()
            await Execution.create(
                id=execution_id,
                workflow_id=original["workflow_id"],
                version_id=versions[int(original["workflow_id"])],
                status=ExecutionStatus.QUEUED,
                replay_of=uuid.UUID(key),
                created_at=now,
            )
            await ExecutionRequest.create(
                execution_id=execution_id, context=context, raw_body=request["raw_body"]
            )
            created.append(execution_id)
    return created


async def _current_versions(workflow_ids: set[int]) -> dict[int, int]:
    rows = await Workflow.filter(id__in=list(workflow_ids)).values("id", "version")
    found = {}
    for row in rows:
        version_id = await WorkflowVersion.get(
            workflow_id=row["id"], version=row["version"]
        ).values_list("id", flat=True)
        found[int(row["id"])] = int(str(version_id))
    return found
