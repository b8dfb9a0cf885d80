"""After a call is read and checked (`intake.py`): accept it (async) or run it (sync).

- Async: the execution is committed QUEUED (with its de-duplication key, in the same
  transaction), only then handed to the executor, and the trigger's answer returned.
- Sync: the plan runs now; the answer is returned without waiting for the execution's
  record, which the next group commit writes, unless the writer is backlogged or
  `sync_record_first` is set (docs/executions.md). With de-duplication the key is
  claimed before anything runs.
- A duplicate (a live key) runs nothing and gets the first call's answer and execution
  id; a duplicate of a sync call still running waits for its answer.

Every use case returns a `Reply`; the adapter turns it into its own kind of answer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.core import tracing
from gateway.core.clock import utcnow
from gateway.core.errors import Conflict
from gateway.core.ids import new_id
from gateway.core.statuses import ExecutionStatus
from gateway.engine.processor import Processor, RunResult
from gateway.executors.runner import raw_text, run_plan
from gateway.service.runtime import Runtime
from gateway.store import dedup as dedup_store
from gateway.store.operations import ClaimKey, NewExecution, SettleKey
from gateway.workflows.compiled import CompiledWorkflow

log = logging.getLogger("gateway.webhook")
Sent = tuple[int, list[tuple[str, str]], Any]
# A duplicate of a sync call that is still running polls for its answer, this fast at first.
_FIRST_POLL, _MAX_POLL = 0.01, 0.5


class Call:
    """One parsed webhook call: the `$context` data and the raw body."""

    __slots__ = ("context", "raw", "received_at")

    def __init__(self, context: dict[str, Any], raw: bytes, received_at: datetime) -> None:
        self.context = context
        self.raw = raw
        self.received_at = received_at

    def scope_context(self) -> dict[str, Any]:
        return {**self.context, "rawBody": raw_text(self.raw)}


def sync_answer(result: RunResult, execution_id: str) -> Sent:
    if result.response is not None:
        response = result.response
        return response.status_code, response.headers, response.body
    body: dict[str, Any] = {"executionId": execution_id, "status": result.status.value}
    if result.reason == "timeout":
        return 408, [], {**body, "error": "timeout"}
    return (200 if result.status is ExecutionStatus.RESOLVED else 500), [], body


def keeps(policy: str, status: ExecutionStatus) -> bool:
    return policy == "all" or (policy == "failed" and status is not ExecutionStatus.RESOLVED)


def stored(sent: Sent) -> dict[str, Any]:
    return {"status": sent[0], "headers": dict(sent[1]), "body": sent[2]}


@dataclass(frozen=True, slots=True)
class Reply:
    """What the sender gets: status, headers, body (a JSON value, text or None) and the id
    of the execution it started (or repeats)."""

    status: int
    headers: list[tuple[str, str]]
    body: Any
    execution_id: str | None = None


def ran_execution(
    workflow: CompiledWorkflow,
    call: Call,
    execution_id: uuid.UUID,
    started_at: datetime,
    result: RunResult,
    response: dict[str, Any],
) -> NewExecution:
    """The record of an execution that has run to its end (a sync call's, a recorded test
    run's), written in one insert with its jobs."""
    return NewExecution(
        id=execution_id,
        workflow_id=workflow.workflow_id,
        version_id=workflow.version_id,
        status=result.status,
        context=call.context,
        raw_body=call.raw,
        created_at=call.received_at,
        started_at=started_at,
        finished_at=utcnow(),
        response=response,
        error=result.error,
        reason=result.reason,
        jobs=result.jobs,
    )


def replay(response: MutableMapping[str, Any], execution_id: uuid.UUID) -> Reply:
    headers = list((response.get("headers") or {}).items())
    return Reply(int(response["status"]), headers, response.get("body"), str(execution_id))


class Calls:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _scope(self, call: Call) -> dict[str, Any]:
        return {
            "$context": call.scope_context(),
            "$system": {"now": utcnow().isoformat()},
            "$env": self.runtime.env,
        }

    def _dedup_key(self, workflow: CompiledWorkflow, scope: dict[str, Any]) -> str | None:
        return workflow.dedup.render(scope) if workflow.dedup is not None else None

    async def accept(self, workflow: CompiledWorkflow, call: Call) -> Reply:
        execution_id = new_id()
        scope = self._scope(call)
        sent: Sent = (
            workflow.response_status,
            workflow.response_headers.render(scope),
            workflow.response_body.render(scope),
        )
        key = self._dedup_key(workflow, scope)
        claim = None
        if key is not None and workflow.dedup is not None:
            claim = workflow.dedup.claim(
                workflow.workflow_id, key, execution_id, call.received_at, stored(sent)
            )
        try:
            await self.runtime.writer.write(
                NewExecution(
                    id=execution_id,
                    workflow_id=workflow.workflow_id,
                    version_id=workflow.version_id,
                    status=ExecutionStatus.QUEUED,
                    context=call.context,
                    raw_body=call.raw,
                    created_at=call.received_at,
                    response=stored(sent),
                    dedup=claim,
                )
            )
        except Conflict:
            if key is None:
                raise
            return await self.duplicate(workflow, key, wait=0)
        self.runtime.events.publish(
            execution_id, workflow.workflow_id, ExecutionStatus.QUEUED.value
        )
        if tracing.ON:  # the execution's span joins this call's trace when it runs here
            tracing.accepted(str(execution_id))
        self.runtime.executor.submit(execution_id, (call.context, call.raw))
        return Reply(*sent, str(execution_id))

    async def run_sync(self, workflow: CompiledWorkflow, call: Call) -> Reply:
        execution_id = new_id()
        key = self._dedup_key(workflow, self._scope(call)) if workflow.dedup else None
        if key is not None and workflow.dedup is not None:
            claim = workflow.dedup.claim(workflow.workflow_id, key, execution_id, utcnow())
            try:
                await self.runtime.writer.write(ClaimKey(claim))
            except Conflict:
                return await self.duplicate(workflow, key, wait=(workflow.timeout or 30) + 5)
        started_at = utcnow()
        id_text = str(execution_id)
        processor = Processor(
            workflow.plan,
            call.scope_context(),
            self.runtime.env,
            execution_id=id_text,
            workflow=workflow.workflow_key,
            version_id=workflow.version_id,
            max_outbound=workflow.max_outbound,
        )
        result = await run_plan(workflow, processor)
        sent = sync_answer(result, id_text)
        writes: list[asyncio.Future[Any]] = []
        if keeps(workflow.keep_executions, result.status):
            record = self._record(workflow, call, execution_id, started_at, result, sent)
            if self.runtime.events.active:
                record.add_done_callback(self._published(workflow, execution_id, result))
            writes.append(record)
        if key is not None:
            op = SettleKey(workflow.workflow_id, key, execution_id, stored(sent))
            writes.append(self.runtime.writer.write_soon(op))
        if self.runtime.settings.sync_record_first:
            for done in await asyncio.gather(*writes, return_exceptions=True):
                if isinstance(done, BaseException):
                    raise done  # StoreUnavailable: 503, the run's answer is not sent
        elif writes:
            # The run earned the answer (its side effects happened): it does not wait for
            # the next group commit, and a record that cannot be written is logged. Only
            # when the writer falls behind do answers wait for it, to bound the backlog.
            for write in writes:
                write.add_done_callback(self._logged(workflow, id_text))
            if self.runtime.writer.backlogged():
                await asyncio.wait(writes)
        return Reply(*sent, id_text)

    @staticmethod
    def _logged(
        workflow: CompiledWorkflow, execution_id: str
    ) -> Callable[[asyncio.Future[Any]], None]:
        def logged(future: asyncio.Future[Any]) -> None:
            if not future.cancelled() and future.exception() is not None:
                log.error(
                    "a sync call's record could not be written: %s",
                    future.exception(),
                    extra={"execution_id": execution_id, "workflow": workflow.workflow_key},
                )

        return logged

    def _published(
        self, workflow: CompiledWorkflow, execution_id: uuid.UUID, result: RunResult
    ) -> Callable[[asyncio.Future[Any]], None]:
        """Once the record is committed, its creation is published (with its end status)."""

        def published(future: asyncio.Future[Any]) -> None:
            if not future.cancelled() and future.exception() is None:
                self.runtime.events.publish(execution_id, workflow.workflow_id, result.status.value)

        return published

    async def duplicate(self, workflow: CompiledWorkflow, key: str, wait: float) -> Reply:
        """The first call's answer for a repeated key; runs nothing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        pause = _FIRST_POLL
        while True:
            first = await dedup_store.first_call(workflow.workflow_id, key)
            if first is not None and first.response is not None:
                return replay(first.response, first.execution_id)
            if first is None or loop.time() >= deadline:
                break
            await asyncio.sleep(pause)  # the first call is still running, in some process
            pause = min(pause * 2, _MAX_POLL)
        body: dict[str, Any] = {
            "error": "duplicate",
            "message": "a call with the same de-duplication key is still being processed",
        }
        if first is not None:
            body["executionId"] = str(first.execution_id)
        return Reply(409, [("retry-after", "1")], body)

    def _record(
        self,
        workflow: CompiledWorkflow,
        call: Call,
        execution_id: uuid.UUID,
        started_at: datetime,
        result: RunResult,
        sent: Sent,
    ) -> asyncio.Future[Any]:
        return self.runtime.writer.write_soon(
            ran_execution(workflow, call, execution_id, started_at, result, stored(sent))
        )
