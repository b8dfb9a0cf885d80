"""Run a plan against one request context, recording a job per node.

The processor is the only place that sequences nodes: a chain runs in order, a `Branch`
outcome runs that branch and then continues the chain, `Finish` and `Respond` end the whole
execution. A node raising `NodeFailure` ends it ERROR with the node's message; any other
exception is logged with context and ends it ERROR as an internal error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.engine.plan import Plan, Step
from gateway.errors import NodeFailure
from gateway.nodes.base import Branch, Done, Finish, Outcome, Respond
from gateway.statuses import ExecutionStatus, JobStatus

log = logging.getLogger("gateway.engine")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class JobRecord:
    node_key: str
    node_type: str
    started_at: datetime
    status: JobStatus = JobStatus.PENDING
    result: Any = None
    finished_at: datetime | None = None

    def finish(self, status: JobStatus, result: Any) -> None:
        self.status = status
        self.result = result
        self.finished_at = utcnow()


@dataclass(slots=True)
class RunResult:
    status: ExecutionStatus
    jobs: list[JobRecord] = field(default_factory=list)
    response: Respond | None = None
    error: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Ending:
    status: ExecutionStatus
    response: Respond | None = None
    error: str | None = None


class Processor:
    """One execution's run. `run()` may be cancelled (timeout); `abort()` then says why."""

    def __init__(
        self,
        plan: Plan,
        context: dict[str, Any],
        env: dict[str, str] | None = None,
        *,
        execution_id: str = "",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.plan = plan
        self.execution_id = execution_id
        self.jobs: list[JobRecord] = []
        self.results: dict[str, Any] = {}
        self.scope: dict[str, Any] = {
            "$context": context,
            "$jobsMapByNodeKey": self.results,
            "$scopes": {},
            "$system": {"now": clock().isoformat()},
            "$env": env or {},
        }

    async def run(self) -> RunResult:
        ending = await self._run_chain(self.plan.chain)
        if ending is None:
            return RunResult(ExecutionStatus.RESOLVED, self.jobs)
        return RunResult(ending.status, self.jobs, ending.response, ending.error)

    def abort(self, reason: str, status: ExecutionStatus = ExecutionStatus.ABORTED) -> RunResult:
        """The result of a run stopped from outside (timeout, cancel): open jobs end ABORTED."""
        for job in self.jobs:
            if job.status is JobStatus.PENDING:
                job.finish(JobStatus.ABORTED, None)
        return RunResult(status, self.jobs, reason=reason, error=f"execution {reason}")

    async def _run_chain(self, chain: tuple[Step, ...]) -> _Ending | None:
        for step in chain:
            ending = await self._run_step(step)
            if ending is not None:
                return ending
        return None

    async def _run_step(self, step: Step) -> _Ending | None:
        job = JobRecord(step.key, step.type, utcnow())
        self.jobs.append(job)
        try:
            outcome = await step.node.run(self.scope)
        except NodeFailure as exc:
            job.finish(JobStatus.ERROR, {"error": str(exc)})
            return _Ending(ExecutionStatus.ERROR, error=f"node {step.key}: {exc}")
        except Exception:
            log.exception(
                "node raised", extra={"execution_id": self.execution_id, "node": step.key}
            )
            job.finish(JobStatus.ERROR, {"error": "internal error"})
            return _Ending(ExecutionStatus.ERROR, error=f"node {step.key}: internal error")
        return await self._follow(step, job, outcome)

    async def _follow(self, step: Step, job: JobRecord, outcome: Outcome) -> _Ending | None:
        if isinstance(outcome, Done):
            self._record(job, JobStatus.RESOLVED, outcome.result)
            return None
        if isinstance(outcome, Branch):
            self._record(job, outcome.job_status, outcome.result)
            ending = await self._run_chain(step.branches.get(outcome.index, ()))
            if ending is None and outcome.then is not None:
                return _Ending(outcome.then)
            return ending
        if isinstance(outcome, Finish):
            self._record(job, outcome.job_status, outcome.result)
            return _Ending(outcome.status)
        self._record(job, JobStatus.RESOLVED, outcome.result)
        return _Ending(ExecutionStatus.RESOLVED, response=outcome)

    def _record(self, job: JobRecord, status: JobStatus, result: Any) -> None:
        job.finish(status, result)
        # A new map, never mutated once templates can see it: a result that is (or holds)
        # an earlier map, e.g. `{{$jobsMapByNodeKey}}`, can then never contain itself.
        self.results = {**self.results, job.node_key: result}
        self.scope["$jobsMapByNodeKey"] = self.results
