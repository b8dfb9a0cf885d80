"""Store queries of execution retries, dead letters and failure workflows.

A waiting retry is an execution QUEUED with `reason = 'retry'` and `resume_at` (its next
try); a dead letter is one FAILED with `reason = 'dead letter'` (docs/executions.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.functions import Count

from gateway.core.statuses import ExecutionStatus
from gateway.store.errors import translated
from gateway.store.models import Execution, Workflow, WorkflowVersion, fits

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
