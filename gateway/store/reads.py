"""Recent executions as plain dicts: what `gateway executions` prints (`--json`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from gateway.store.errors import translated
from gateway.store.lookups import ExecutionRow
from gateway.store.models import Execution, Job, Workflow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def summary(row: Execution | ExecutionRow, workflow_key: str) -> dict[str, Any]:
    response = row.response or {}
    return {
        "id": str(row.id),
        "workflow": workflow_key,
        "status": row.status,
        "responseStatus": response.get("status"),
        "createdAt": _iso(row.created_at),
        "startedAt": _iso(row.started_at),
        "finishedAt": _iso(row.finished_at),
        "error": row.error,
        "reason": row.reason,
    }


def job_summary(job: Job) -> dict[str, Any]:
    return {
        "nodeKey": job.node_key,
        "nodeType": job.node_type,
        "status": job.status,
        "result": job.result,
        "position": job.position,
        "attempts": job.tries,
        "startedAt": _iso(job.started_at),
        "finishedAt": _iso(job.finished_at),
    }


async def list_executions(
    workflow_key: str | None = None,
    status: str | None = None,
    limit: int = 50,
    with_jobs: bool = False,
) -> list[dict[str, Any]]:
    """Newest first, as plain dicts (the CLI's `--json` shape)."""
    query = Execution.all()
    if workflow_key is not None:
        query = query.filter(workflow__key=workflow_key)
    if status is not None:
        query = query.filter(status=status)
    query = query.order_by("-created_at", "-id").limit(limit)
    async with translated("list executions"):
        rows = await query
        workflow_ids = {r.workflow_id for r in rows}
        keys = dict(await Workflow.filter(id__in=workflow_ids).values_list("id", "key"))
        jobs: dict[uuid.UUID, list[Job]] = {}
        if with_jobs and rows:
            for job in await Job.filter(execution_id__in=[r.id for r in rows]).order_by("id"):
                jobs.setdefault(job.execution_id, []).append(job)
    out = []
    for row in rows:
        item = summary(row, keys.get(row.workflow_id, ""))
        if with_jobs:
            item["jobs"] = [job_summary(j) for j in jobs.get(row.id, [])]
        out.append(item)
    return out
