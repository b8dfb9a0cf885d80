"""Executions and jobs in the database: group-committed writes, claims, recovery, reads.

`ExecutionWriter` is the one path by which executions are written on the request path and
by executors. Callers hand it an operation and await it; a single flusher commits every
operation pending at that moment in one transaction (group commit) and only then resolves
the callers' futures, so an answer that depends on a write is sent after its commit. If a
batch fails, its operations are retried one by one so one bad write fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from gateway.engine.processor import JobRecord, utcnow
from gateway.errors import GatewayError
from gateway.statuses import ExecutionStatus
from gateway.store.errors import translated
from gateway.store.models import Execution, Job, Workflow

log = logging.getLogger("gateway.store")


@dataclass
class NewExecution:
    """An execution to insert: QUEUED (async accept) or already finished (sync)."""

    id: uuid.UUID
    workflow_id: int
    version_id: int
    status: ExecutionStatus
    context: dict[str, Any]
    raw_body: bytes
    created_at: datetime
    event_key: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    response: dict[str, Any] | None = None
    error: str | None = None
    reason: str | None = None
    jobs: list[JobRecord] = field(default_factory=list)


@dataclass
class FinishExecution:
    """The end of a claimed execution: its status, answer, error and jobs."""

    id: uuid.UUID
    status: ExecutionStatus
    finished_at: datetime
    response: dict[str, Any] | None = None
    error: str | None = None
    reason: str | None = None
    jobs: list[JobRecord] = field(default_factory=list)
    delete: bool = False


Operation = NewExecution | FinishExecution


def _job_rows(execution_id: uuid.UUID, jobs: Sequence[JobRecord]) -> list[Job]:
    return [
        Job(
            execution_id=execution_id,
            node_key=job.node_key,
            node_type=job.node_type,
            status=job.status.value,
            result=job.result,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
        for job in jobs
    ]


def _execution_row(op: NewExecution) -> Execution:
    return Execution(
        id=op.id,
        workflow_id=op.workflow_id,
        version_id=op.version_id,
        status=op.status.value,
        context=op.context,
        raw_body=op.raw_body,
        response=op.response,
        error=op.error,
        reason=op.reason,
        event_key=op.event_key,
        attempts=1 if op.started_at else 0,
        created_at=op.created_at,
        started_at=op.started_at,
        finished_at=op.finished_at,
    )


async def _commit(ops: Sequence[Operation]) -> None:
    inserts = [op for op in ops if isinstance(op, NewExecution)]
    finishes = [op for op in ops if isinstance(op, FinishExecution)]
    jobs: list[Job] = []
    async with translated("write executions"), in_transaction() as conn:
        if inserts:
            await Execution.bulk_create([_execution_row(op) for op in inserts], using_db=conn)
        for op in inserts:
            jobs += _job_rows(op.id, op.jobs)
        for fin in finishes:
            # Only a STARTED execution is finished: one canceled meanwhile stays CANCELED.
            mine = Execution.filter(id=fin.id, status=ExecutionStatus.STARTED).using_db(conn)
            if fin.delete:
                await mine.delete()
                continue
            values: dict[str, Any] = {
                "status": fin.status.value,
                "finished_at": fin.finished_at,
                "error": fin.error,
                "reason": fin.reason,
            }
            if fin.response is not None:
                values["response"] = fin.response
            if not await mine.update(**values):
                continue
            await Job.filter(execution_id=fin.id).using_db(conn).delete()
            jobs += _job_rows(fin.id, fin.jobs)
        if jobs:
            await Job.bulk_create(jobs, using_db=conn)


class ExecutionWriter:
    def __init__(self, max_batch: int = 500) -> None:
        self.max_batch = max_batch
        self._pending: list[tuple[Operation, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._flush_forever(), name="execution-writer")

    async def stop(self) -> None:
        """Commit what is pending, then stop."""
        if self._task is None:
            return
        await self._flush()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def write(self, op: Operation) -> None:
        """Resolve once `op` is committed; raise StoreUnavailable (or Conflict) otherwise."""
        if self._task is None:
            await _commit([op])
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        self._wake.set()
        await future

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                await _commit([op for op, _ in batch])
            except GatewayError as exc:
                if len(batch) == 1:
                    _settle(batch, exc)
                else:
                    await self._one_by_one(batch)
            except Exception as exc:  # a bug, not an outage: each caller logs and answers 500
                log.exception("execution write failed")
                _settle(batch, exc)
            else:
                _settle(batch, None)

    async def _one_by_one(self, batch: list[tuple[Operation, asyncio.Future[None]]]) -> None:
        for op, future in batch:
            try:
                await _commit([op])
            except GatewayError as exc:
                _settle([(op, future)], exc)
            else:
                _settle([(op, future)], None)


def _settle(batch: list[tuple[Operation, asyncio.Future[None]]], exc: Exception | None) -> None:
    for _, future in batch:
        if future.done():
            continue
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    workflow_id: int
    version_id: int
    context: dict[str, Any]
    raw_body: bytes
    attempts: int


async def claim(execution_id: uuid.UUID) -> Claimed | None:
    """QUEUED → STARTED with a conditional update; None when someone else has it."""
    async with translated("claim execution"):
        updated = await Execution.filter(id=execution_id, status=ExecutionStatus.QUEUED).update(
            status=ExecutionStatus.STARTED, started_at=utcnow(), attempts=F("attempts") + 1
        )
        if not updated:
            return None
        row = await Execution.get(id=execution_id)
    return Claimed(
        row.id, row.workflow_id, row.version_id, row.context, bytes(row.raw_body), row.attempts
    )


async def queued_ids(limit: int | None = None) -> list[uuid.UUID]:
    """Ids of QUEUED executions, oldest first."""
    query = Execution.filter(status=ExecutionStatus.QUEUED).order_by("created_at")
    if limit is not None:
        query = query.limit(limit)
    async with translated("list queued executions"):
        return [uuid.UUID(str(value)) for value in await query.values_list("id", flat=True)]


async def started_executions() -> list[tuple[uuid.UUID, int]]:
    """(id, version id) of every STARTED execution."""
    async with translated("list started executions"):
        rows = await Execution.filter(status=ExecutionStatus.STARTED).values_list(
            "id", "version_id"
        )
    return [(row[0], row[1]) for row in rows]


async def requeue(ids: Sequence[uuid.UUID]) -> None:
    async with translated("requeue executions"):
        await Execution.filter(id__in=list(ids), status=ExecutionStatus.STARTED).update(
            status=ExecutionStatus.QUEUED, started_at=None
        )


async def mark_lost(ids: Sequence[uuid.UUID], reason: str) -> None:
    async with translated("mark executions lost"):
        await Execution.filter(id__in=list(ids), status=ExecutionStatus.STARTED).update(
            status=ExecutionStatus.ERROR, reason=reason, error=reason, finished_at=utcnow()
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def summary(row: Execution, workflow_key: str) -> dict[str, Any]:
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
