"""Executions and jobs in the database: group-committed writes, claims, recovery, reads.

`ExecutionWriter` is the one path by which executions are written on the request path and
by executors. Callers hand it an operation and await it (`write_soon` queues one without
waiting); a single flusher commits every operation pending at that moment in one
transaction (group commit) and only then resolves the callers' futures, so an answer that
depends on a write is sent after its commit. If a batch fails, its operations are retried
one by one so one bad write fails alone. Finishes are in `finishes.py`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from gateway.core.errors import GatewayError
from gateway.core.records import JobRecord
from gateway.core.statuses import ExecutionStatus
from gateway.store import pg_trip, sqlite_trip
from gateway.store.claims import Claimed, Known, claim_statement, claimed_rows
from gateway.store.dedup import DedupClaim, insert_claims, settle_key
from gateway.store.errors import translate, translated
from gateway.store.finishes import (
    SQLITE_BATCH_UPDATE,
    FinishExecution,
    finish_one,
    finish_plain,
    plain,
    plain_jobs,
    plain_statements,
)
from gateway.store.models import Execution, ExecutionRequest, Job, Workflow
from gateway.store.rows import (
    EXECUTION_COLUMNS,
    JOB_COLUMNS,
    REQUEST_COLUMNS,
    Statement,
    insert,
    job_values,
    pg_inserts,
    sqlite_chunks,
    sqlite_inserts,
    to_json,
)
from gateway.store.sqlite_trip import Trip

log = logging.getLogger("gateway.store")
_WRITE = "write executions"


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
    dedup: DedupClaim | None = None
    """Claimed in the same transaction: a live duplicate key fails this write (Conflict)."""


@dataclass
class ClaimKey:
    """A de-duplication key claimed on its own, before a sync call runs."""

    claim: DedupClaim


@dataclass
class ClaimBatch:
    """Claim these QUEUED executions (QUEUED → STARTED) in the same group commit as other
    writes; the write returns the `Claimed` executions."""

    ids: list[uuid.UUID]
    lease: float | None = None
    known: Known | None = None
    """Context and raw body of some of them, as accepted: not read back."""


@dataclass
class SettleKey:
    """The answer a sync call gave, for its duplicates to repeat."""

    workflow_id: int
    key: str
    execution_id: uuid.UUID
    response: dict[str, Any]


Operation = NewExecution | FinishExecution | ClaimKey | ClaimBatch | SettleKey


def _execution_values(op: NewExecution) -> list[Any]:
    return [
        str(op.id),
        op.workflow_id,
        op.version_id,
        op.status.value,
        to_json(op.response),
        op.error,
        op.reason,
        op.event_key,
        1 if op.started_at else 0,
        op.created_at,
        op.started_at,
        op.finished_at,
    ]


def _request_values(op: NewExecution) -> list[Any]:
    return [str(op.id), to_json(op.context), op.raw_body]


def _new_rows(inserts: Sequence[NewExecution]) -> list[tuple[str, Sequence[str], list[list[Any]]]]:
    """The rows of new executions, by table, in the order they are inserted."""
    return [
        ("executions", EXECUTION_COLUMNS, [_execution_values(op) for op in inserts]),
        ("execution_requests", REQUEST_COLUMNS, [_request_values(op) for op in inserts]),
    ]


async def _commit(ops: Sequence[Operation]) -> list[Any]:
    """Every operation in one transaction; each operation's result (claims), in order."""
    results: list[Any] = [None] * len(ops)
    inserts = [op for op in ops if isinstance(op, NewExecution)]
    finishes = [op for op in ops if isinstance(op, FinishExecution)]
    keys = [op.claim for op in ops if isinstance(op, ClaimKey)]
    keys += [op.dedup for op in inserts if op.dedup is not None]
    jobs: list[list[Any]] = []
    async with translated(_WRITE), in_transaction() as conn:
        if keys:
            await insert_claims(keys, conn)
        for table, columns, rows in _new_rows(inserts):
            await insert(conn, table, columns, rows)
        for new in inserts:
            jobs += job_values(new.id, new.jobs)
        await _claim_all(ops, results, conn)
        jobs += await finish_plain([fin for fin in finishes if plain(fin)], conn)
        for fin in finishes:
            if not plain(fin):
                jobs += await finish_one(fin, conn)
        await insert(conn, "jobs", JOB_COLUMNS, jobs)
        for settle in (op for op in ops if isinstance(op, SettleKey)):
            await settle_key(
                settle.workflow_id, settle.key, settle.execution_id, settle.response, conn
            )
    return results


async def _claim_all(ops: Sequence[Operation], results: list[Any], conn: Any) -> None:
    """Every ClaimBatch of the commit in one statement per lease (each runner claims one
    execution: one round trip for all of them, not one each); each op gets its own."""
    statements, known = _claim_statements(conn.capabilities.dialect, ops)
    claimed: dict[uuid.UUID, Claimed] = {}
    for sql, values in statements:
        rows = await conn.execute_query_dict(sql, values)
        claimed.update((c.id, c) for c in claimed_rows(rows, known))
    _hand_out(ops, claimed, results)


def _claim_statements(dialect: str, ops: Sequence[Operation]) -> tuple[list[Statement], Known]:
    """The claim statements of a commit (per lease: one for the executions whose context
    the claimers know, one for the rest), and what they know."""
    batches = [op for op in ops if isinstance(op, ClaimBatch)]
    known: Known = {}
    for op in batches:
        known.update(op.known or {})
    statements = []
    for lease in dict.fromkeys(op.lease for op in batches):
        ids = list(dict.fromkeys(i for op in batches if op.lease == lease for i in op.ids))
        for lean in (True, False):
            part = [i for i in ids if (i in known) == lean]
            statements += [claim_statement(dialect, c, lease, lean) for c in _chunks(dialect, part)]
    return statements, known


def _chunks(dialect: str, ids: list[uuid.UUID]) -> list[Sequence[uuid.UUID]]:
    if dialect == "sqlite":
        return list(sqlite_chunks(ids, 1))
    return [ids[start : start + _CLAIM_CHUNK] for start in range(0, len(ids), _CLAIM_CHUNK)]


def _hand_out(
    ops: Sequence[Operation], claimed: dict[uuid.UUID, Claimed], results: list[Any]
) -> None:
    for index, op in enumerate(ops):
        if isinstance(op, ClaimBatch):
            results[index] = [claimed.pop(i) for i in op.ids if i in claimed]


def _in_one_trip(op: Operation) -> bool:
    """Whether `op` is of the common kinds `sqlite_trip` runs: a new execution without a
    de-duplication key, a claim, a plain finish."""
    return SQLITE_BATCH_UPDATE and (
        isinstance(op, ClaimBatch)
        or (isinstance(op, NewExecution) and op.dedup is None)
        or (isinstance(op, FinishExecution) and plain(op))
    )


def _trip(ops: Sequence[Operation]) -> tuple[Trip, Known]:
    inserts = [op for op in ops if isinstance(op, NewExecution)]
    finishes = [op for op in ops if isinstance(op, FinishExecution)]
    jobs = [row for new in inserts for row in job_values(new.id, new.jobs)]
    claims, known = _claim_statements("sqlite", ops)
    writes = [statement for part in _new_rows(inserts) for statement in sqlite_inserts(*part)]
    trip = Trip(
        writes=writes + sqlite_inserts("jobs", JOB_COLUMNS, jobs),
        claims=claims,
        finishes=plain_statements("sqlite", finishes),
        after=lambda finished: sqlite_inserts("jobs", JOB_COLUMNS, plain_jobs(finishes, finished)),
    )
    return trip, known


def _trip_results(ops: Sequence[Operation], done: sqlite_trip.Done, known: Known) -> list[Any]:
    results: list[Any] = [None] * len(ops)
    claimed = {c.id: c for rows in done.claimed for c in claimed_rows(rows, known)}
    _hand_out(ops, claimed, results)
    return results


async def _commit_in_one_trip(ops: Sequence[Operation]) -> list[Any]:
    trip, known = _trip(ops)
    async with translated(_WRITE):
        done = await sqlite_trip.commit(trip)
    return _trip_results(ops, done, known)


def _commit_pending(run: Callable[[Trip], sqlite_trip.Done], batch: Sequence[Pending]) -> Any:
    """A drained batch, in the database thread (`sqlite_trip.drain`)."""
    ops = [op for op, _ in batch]
    trip, known = _trip(ops)
    return _trip_results(ops, run(trip), known)


_CLAIM_CHUNK = 5000
Pending = tuple[Operation, "asyncio.Future[Any]"]


async def _commit_one(op: Operation) -> Any:
    return (await _isolated([op]))[0]


class ExecutionWriter:
    def __init__(self, max_batch: int = 500) -> None:
        self.max_batch = max_batch
        self._pending: list[Pending] = []
        self._unsettled: set[asyncio.Future[Any]] = set()
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

    async def write(self, op: Operation) -> Any:
        """Resolve once `op` is committed, with its result (the claims of a ClaimBatch);
        raise StoreUnavailable (or Conflict) otherwise."""
        if self._task is None:
            return (await _commit([op]))[0]
        return await self.write_soon(op)

    def write_soon(self, op: Operation) -> asyncio.Future[Any]:
        """Queue `op` for the next group commit without waiting for it; the future settles
        with the commit. `settled()` waits for every such write."""
        if self._task is None:  # not started (a command, not a server): commit right away
            direct = asyncio.ensure_future(_commit_one(op))
            self._unsettled.add(direct)
            direct.add_done_callback(self._unsettled.discard)
            return direct
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._unsettled.add(future)
        future.add_done_callback(self._unsettled.discard)
        self._pending.append((op, future))
        self._wake.set()
        return future

    def backlogged(self) -> bool:
        """More writes waiting than two group commits take: callers that do not wait for
        their commit should, so the backlog (memory) stays bounded."""
        return len(self._unsettled) >= 2 * self.max_batch

    async def settled(self) -> None:
        """Wait until every write queued so far is committed (or failed)."""
        while self._unsettled:
            await asyncio.gather(*list(self._unsettled), return_exceptions=True)

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        while self._pending:
            if _in_one_trip(self._pending[0][0]) and sqlite_trip.available():
                failed = await sqlite_trip.drain(self._drain_plan())
                if failed is not None:
                    await self._failed(list(failed[0]), failed[1])
                continue
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                results = await _isolated([op for op, _ in batch])
            except Exception as exc:
                await self._failed(batch, exc)
            else:
                _resolve(batch, results)

    def _drain_plan(self) -> sqlite_trip.Drain[Pending]:
        loop = asyncio.get_running_loop()

        def deliver(batch: Sequence[Pending], results: Any) -> None:
            with suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_resolve, batch, results)

        return sqlite_trip.Drain(self._take_one_trip, _commit_pending, deliver)

    def _take_one_trip(self) -> list[Pending]:
        """The pending writes from the front that one trip can commit (in the database
        thread: the loop only appends meanwhile, so the front is this thread's to take)."""
        pending = self._pending
        limit = min(len(pending), self.max_batch)
        count = 0
        while count < limit and _in_one_trip(pending[count][0]):
            count += 1
        batch = pending[:count]
        del pending[:count]
        return batch

    async def _failed(self, batch: list[Pending], exc: Exception) -> None:
        error = exc if isinstance(exc, GatewayError) else translate(_WRITE, exc)
        if isinstance(error, GatewayError):
            if len(batch) == 1:
                _fail(batch, error)
            else:
                await self._one_by_one(batch)
            return
        # a bug, not an outage: each caller logs and answers 500
        log.error("execution write failed", exc_info=exc)
        _fail(batch, error)

    async def _one_by_one(self, batch: list[Pending]) -> None:
        for op, future in batch:
            try:
                results = await _isolated([op])
            except GatewayError as exc:
                _fail([(op, future)], exc)
            else:
                _resolve([(op, future)], results)


def _inserts_only(ops: Sequence[Operation]) -> bool:
    """Whether the commit is only new executions without jobs or de-duplication keys (an
    async accept's): one statement (`pg_inserts`), which `pg_trip` runs in one round trip."""
    return all(isinstance(op, NewExecution) and op.dedup is None and not op.jobs for op in ops)


async def _isolated(ops: list[Operation]) -> list[Any]:
    """Commit in a task of its own. When a connection dies mid-transaction, Tortoise can
    leave its transaction in the task's context (returning the broken connection to the
    pool raises before the context is reset); in a child task that leak dies with the
    task instead of poisoning every later commit of the long-lived flusher. A commit in
    one SQLite or PostgreSQL trip opens no Tortoise transaction and needs no task."""
    if all(_in_one_trip(op) for op in ops) and sqlite_trip.available():
        return await _commit_in_one_trip(ops)
    if _inserts_only(ops) and pg_trip.available():
        async with translated(_WRITE):
            inserts = [op for op in ops if isinstance(op, NewExecution)]
            await pg_trip.execute(*pg_inserts(_new_rows(inserts)))
        return [None] * len(ops)
    return await asyncio.create_task(_commit(ops))


def _resolve(batch: Sequence[Pending], results: Sequence[Any]) -> None:
    for (_, future), result in zip(batch, results, strict=True):
        if not future.done():
            future.set_result(result)


def _fail(batch: list[Pending], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)


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


# --- management API: replay and cancel --------------------------------------------------


async def replay(execution_id: uuid.UUID, new_id: uuid.UUID, now: datetime) -> Execution | None:
    """A new QUEUED execution with the request of `execution_id` (its context and raw body),
    on its workflow's current version, linked by `replay_of`; None when there is none."""
    from gateway.store.models import WorkflowVersion  # here: the top of this file is shared

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
