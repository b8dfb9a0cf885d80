"""Running one queued execution: claim it, run its version's plan, record the end.

Shared by every executor. The claim is a conditional update (QUEUED → STARTED), so a second
delivery of the same execution does nothing. With a lease, a heartbeat renews it while the
plan runs; if the execution was taken away meanwhile (recovered after a lease expiry,
canceled), the run stops and its result is not written — the finish only applies to the
claim attempt that made it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gateway.core.clock import utcnow
from gateway.core.errors import GatewayError
from gateway.core.statuses import ExecutionStatus
from gateway.core.stopping import Stop, stop_task
from gateway.engine.processor import Processor, RunResult
from gateway.executors import failures
from gateway.store import claims, retries
from gateway.store.finishes import FinishExecution
from gateway.store.operations import ClaimBatch
from gateway.store.writer import ExecutionWriter
from gateway.workflows.compiled import CompiledWorkflow
from gateway.workflows.registry import Registry

log = logging.getLogger("gateway.executor")


def raw_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


async def run_plan(workflow: CompiledWorkflow, processor: Processor) -> RunResult:
    """Run with the workflow's timeout; a timeout ends the execution ABORTED. A plan whose
    nodes never wait runs without a timer: nothing in it could overrun, and a timer costs
    every call."""
    if workflow.untimed:
        return await processor.run()
    try:
        async with asyncio.timeout(workflow.timeout) as timer:
            processor.deadline = timer.when()
            return await processor.run()
    except TimeoutError:
        return processor.abort("timeout")


@dataclass
class RetryCounts:
    """Execution retries scheduled and dead letters, by workflow key, in this process."""

    retries: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)
    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Tries of I/O nodes by (workflow key, outcome)."""

    def count_attempts(self, workflow_key: str, result: RunResult) -> None:
        for job in result.jobs:
            for attempt in job.attempts or ():
                self.attempts[workflow_key, str(attempt.get("outcome"))] += 1


class LostOwnership(Exception):
    """The execution was taken away from this runner while it ran."""


class Runner:
    def __init__(
        self,
        registry: Registry,
        writer: ExecutionWriter,
        env: dict[str, str],
        lease: float | None = None,
    ) -> None:
        self.registry = registry
        self.writer = writer
        self.env = env
        self.lease = lease
        self.on_parked: Callable[[uuid.UUID, datetime], None] = _nowhere
        """How a parked execution (a delay, a retry, a failure workflow's new execution)
        gets run at its time: set by the executor."""
        self.on_changed: Callable[[uuid.UUID, int, str], None] = _unheard
        """Told (execution id, workflow id, status) after each change of status this runner
        commits: set by the process (the events bus, service/events.py)."""
        self.metrics = RetryCounts()

    async def run(self, execution_id: uuid.UUID) -> ExecutionStatus | None:
        """Claim and run one execution to its end; None when it was not ours to run. The
        claim rides the writer's group commit, with other runners' claims and finishes."""
        found = await self.writer.write(ClaimBatch([execution_id], self.lease))
        if not found:
            return None
        claimed: claims.Claimed = found[0]
        return await self.run_claimed(claimed)

    async def run_claimed(self, claimed: claims.Claimed) -> ExecutionStatus | None:
        """Run an execution this process has claimed."""
        execution_id = claimed.id
        self.on_changed(execution_id, claimed.workflow_id, ExecutionStatus.STARTED.value)
        workflow = await self.registry.version(claimed.version_id)
        if workflow is None:
            await self._finish(claimed, RunResult(ExecutionStatus.ERROR, error="version missing"))
            return ExecutionStatus.ERROR
        context = {**claimed.context, "rawBody": raw_text(claimed.raw_body)}
        processor = Processor(
            workflow.plan,
            context,
            self.env,
            execution_id=str(execution_id),
            workflow=workflow.workflow_key,
            version_id=workflow.version_id,
            resume=claimed.state,
            key_id=str(claimed.context.get("replayOf") or ""),
            max_outbound=workflow.max_outbound,
        )
        try:
            result = await self._run_leased(execution_id, workflow, processor)
        except LostOwnership:
            log.warning("execution taken away while running", extra=_ids(execution_id, workflow))
            return None
        self.metrics.count_attempts(workflow.workflow_key, result)
        if result.parked is not None:
            await self._park(claimed, result)
            return ExecutionStatus.QUEUED
        handled = None
        if result.status is not ExecutionStatus.RESOLVED:
            handled = await self._failed(claimed, workflow, result)
        if handled is ExecutionStatus.QUEUED:
            return handled
        if handled is None:
            await self._finish(claimed, result, workflow)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "execution finished",
                extra={**_ids(execution_id, workflow), "status": result.status.value},
            )
        return result.status

    async def _run_leased(
        self, execution_id: uuid.UUID, workflow: CompiledWorkflow, processor: Processor
    ) -> RunResult:
        if not self.lease or workflow.plan.instant:  # it ends before any renewal
            return await run_plan(workflow, processor)
        work = asyncio.create_task(run_plan(workflow, processor))
        stop = Stop()
        heartbeat = asyncio.create_task(self._heartbeat(execution_id, work, self.lease, stop))
        try:
            return await work
        except asyncio.CancelledError:
            if heartbeat.done() and not heartbeat.cancelled() and heartbeat.result():
                raise LostOwnership from None
            raise
        finally:
            await stop_task(heartbeat, stop)  # a renewal in flight ends first

    @staticmethod
    async def _heartbeat(
        execution_id: uuid.UUID, work: asyncio.Task[RunResult], lease: float, stop: Stop
    ) -> bool:
        """Renew the lease every third of it until `stop`; True (and `work` cancelled) when
        it is lost."""
        while not await stop.wait(lease / 3):
            try:
                still_ours = await claims.renew_lease(execution_id, lease)
            except GatewayError as exc:  # keep working: the finish decides who wins
                log.warning(
                    "lease renewal failed: %s", exc, extra={"execution_id": str(execution_id)}
                )
                continue
            if not still_ours:
                work.cancel()
                return True
        return False

    async def _finish(
        self,
        claimed: claims.Claimed,
        result: RunResult,
        workflow: CompiledWorkflow | None = None,
    ) -> None:
        await self.writer.write(self._finish_of(claimed, result, workflow))
        self.on_changed(claimed.id, claimed.workflow_id, result.status.value)

    def _finish_of(
        self,
        claimed: claims.Claimed,
        result: RunResult,
        workflow: CompiledWorkflow | None = None,
    ) -> FinishExecution:
        keep = workflow.keep_executions if workflow is not None else "all"
        made = failures.retries_so_far(claimed.state)
        return FinishExecution(
            id=claimed.id,
            status=result.status,
            finished_at=utcnow(),
            error=result.error,
            reason=result.reason,
            jobs=result.jobs,
            delete=keep != "all" and result.status is ExecutionStatus.RESOLVED,
            state=_ended_state(result, made),
            attempt=claimed.attempts,
            fresh=claimed.attempts == 1 and claimed.state is None,
        )

    async def _failed(
        self, claimed: claims.Claimed, workflow: CompiledWorkflow, result: RunResult
    ) -> ExecutionStatus | None:
        """A failed run: QUEUED when a retry is scheduled (written here); else the result
        is marked a dead letter if it is one, and when a failure workflow is due its
        execution is written with the finish (the writer's group commit) and the status
        returned; None leaves the finish to the caller."""
        made = failures.retries_so_far(claimed.state)
        wait = failures.next_wait(workflow, result, made)
        if wait is not None:
            await self._retry(claimed, workflow, result, wait, made + 1)
            return ExecutionStatus.QUEUED
        dead = failures.is_dead_letter(workflow, result)
        if dead:
            result.reason = retries.DEAD_LETTER
            self.metrics.dead_letters[workflow.workflow_key] += 1
            log.warning(
                "execution is a dead letter after %d retries: %s",
                made,
                result.error,
                extra=_ids(claimed.id, workflow),
            )
        context = {**claimed.context}
        new = await failures.failure_execution(
            workflow, claimed.id, context, result, dead, made, utcnow()
        )
        if new is None:
            return None
        finish = self.writer.write_soon(self._finish_of(claimed, result, workflow))
        await asyncio.gather(finish, self.writer.write_soon(new))
        self.on_changed(claimed.id, claimed.workflow_id, result.status.value)
        self.on_parked(new.id, new.created_at)
        log.info(
            "failure workflow started",
            extra={**_ids(claimed.id, workflow), "failure_execution_id": str(new.id)},
        )
        return result.status

    async def _retry(
        self,
        claimed: claims.Claimed,
        workflow: CompiledWorkflow,
        result: RunResult,
        wait: float,
        retry: int,
    ) -> None:
        assert result.retry is not None
        at = utcnow() + timedelta(seconds=wait)
        await self.writer.write(
            FinishExecution(
                id=claimed.id,
                status=ExecutionStatus.QUEUED,
                finished_at=utcnow(),
                error=result.error,
                reason=retries.RETRY,
                jobs=result.jobs,
                resume_at=at,
                state={**result.retry, "retries": retry},
                attempt=claimed.attempts,
            )
        )
        self.metrics.retries[workflow.workflow_key] += 1
        self.on_parked(claimed.id, at)
        self.on_changed(claimed.id, claimed.workflow_id, ExecutionStatus.QUEUED.value)
        log.info(
            "execution retry %d of %d at %s: %s",
            retry,
            len(workflow.retry_schedule),
            at.isoformat(),
            result.error,
            extra=_ids(claimed.id, workflow),
        )

    async def _park(self, claimed: claims.Claimed, result: RunResult) -> None:
        parked = result.parked
        assert parked is not None
        made = failures.retries_so_far(claimed.state)
        await self.writer.write(
            FinishExecution(
                id=claimed.id,
                status=ExecutionStatus.QUEUED,
                finished_at=utcnow(),
                jobs=result.jobs,
                resume_at=parked.resume_at,
                state={**parked.state, "retries": made} if made else parked.state,
                attempt=claimed.attempts,
            )
        )
        self.on_parked(claimed.id, parked.resume_at)
        self.on_changed(claimed.id, claimed.workflow_id, ExecutionStatus.QUEUED.value)
        log.info(
            "execution parked until %s",
            parked.resume_at.isoformat(),
            extra={"execution_id": str(claimed.id)},
        )

    async def recover(self, lease_expired: bool) -> tuple[list[uuid.UUID], int]:
        """Executions that lost their runner: re-queued, or marked ERROR `worker lost`, as
        their version's `onWorkerLost` says. `lease_expired=False` takes every STARTED one
        (the embedded executor at start-up: the previous process is gone); True only those
        whose lease ran out. Returns (re-queued ids, number marked lost)."""
        rerun: list[uuid.UUID] = []
        lost: list[uuid.UUID] = []
        for execution_id, version_id in await claims.started_executions(lease_expired):
            workflow = await self.registry.version(version_id)
            policy = workflow.on_worker_lost if workflow is not None else "error"
            (rerun if policy == "rerun" else lost).append(execution_id)
        requeued = await claims.requeue(rerun, lease_expired) if rerun else []
        if lost:
            await claims.mark_lost(lost, "worker lost", lease_expired)
        return requeued, len(lost)


def _ended_state(result: RunResult, made: int) -> dict[str, Any] | None:
    """What an ended execution keeps in `state`: where a failure stopped (a bulk resume
    starts there) and how many retries it had."""
    state = dict(result.retry) if result.retry is not None else {}
    if made:
        state["retries"] = made
    return state or None


def _nowhere(execution_id: uuid.UUID, at: datetime) -> None:
    """No scheduler: the sweeps pick a parked execution up once it is due."""


def _unheard(execution_id: uuid.UUID, workflow_id: int, status: str) -> None:
    """Nobody to tell."""


def _ids(execution_id: uuid.UUID, workflow: CompiledWorkflow) -> dict[str, str]:
    return {"execution_id": str(execution_id), "workflow": workflow.workflow_key}
