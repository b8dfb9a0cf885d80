"""Running one queued execution: claim it, run its version's plan, record the end.

Shared by every executor. The claim is a conditional update (QUEUED → STARTED), so a
second delivery of the same execution does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from gateway.engine.processor import Processor, RunResult, utcnow
from gateway.statuses import ExecutionStatus
from gateway.store import executions
from gateway.store.executions import ExecutionWriter, FinishExecution
from gateway.workflows.compiled import CompiledWorkflow
from gateway.workflows.registry import Registry

log = logging.getLogger("gateway.executor")


def raw_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


async def run_plan(workflow: CompiledWorkflow, processor: Processor) -> RunResult:
    """Run with the workflow's timeout; a timeout ends the execution ABORTED."""
    try:
        async with asyncio.timeout(workflow.timeout):
            return await processor.run()
    except TimeoutError:
        return processor.abort("timeout")


class Runner:
    def __init__(self, registry: Registry, writer: ExecutionWriter, env: dict[str, str]) -> None:
        self.registry = registry
        self.writer = writer
        self.env = env

    async def run(self, execution_id: uuid.UUID) -> ExecutionStatus | None:
        """Run one execution to its end; None when it was not QUEUED (already claimed)."""
        claimed = await executions.claim(execution_id)
        if claimed is None:
            return None
        workflow = await self.registry.version(claimed.version_id)
        if workflow is None:
            await self._finish(execution_id, ExecutionStatus.ERROR, None, "version missing")
            return ExecutionStatus.ERROR
        context = {**claimed.context, "rawBody": raw_text(claimed.raw_body)}
        processor = Processor(workflow.plan, context, self.env, execution_id=str(execution_id))
        result = await run_plan(workflow, processor)
        delete = workflow.keep_executions != "all" and result.status is ExecutionStatus.RESOLVED
        await self.writer.write(
            FinishExecution(
                id=execution_id,
                status=result.status,
                finished_at=utcnow(),
                error=result.error,
                reason=result.reason,
                jobs=result.jobs,
                delete=delete,
            )
        )
        log.info(
            "execution finished",
            extra={
                "execution_id": str(execution_id),
                "workflow": workflow.workflow_key,
                "status": result.status.value,
            },
        )
        return result.status

    async def _finish(
        self, execution_id: uuid.UUID, status: ExecutionStatus, error: str | None, reason: str
    ) -> None:
        await self.writer.write(
            FinishExecution(execution_id, status, utcnow(), error=error or reason, reason=reason)
        )

    async def recover(self) -> tuple[int, int]:
        """Executions left STARTED by a process that died: re-queued or marked ERROR
        (`onWorkerLost` of their version). Returns (re-queued, marked lost)."""
        rerun: list[uuid.UUID] = []
        lost: list[uuid.UUID] = []
        for execution_id, version_id in await executions.started_executions():
            workflow = await self.registry.version(version_id)
            policy = workflow.on_worker_lost if workflow is not None else "error"
            (rerun if policy == "rerun" else lost).append(execution_id)
        if rerun:
            await executions.requeue(rerun)
        if lost:
            await executions.mark_lost(lost, "worker lost")
        return len(rerun), len(lost)
