"""Run a plan against one request context, recording a job per node run.

The processor is the only place that sequences nodes: a chain runs in order, a `Branch`
outcome runs that branch and then continues the chain, `Finish`, `Respond` and `Stop` end
the whole execution. A node raising `NodeFailure` ends it ERROR with the node's message;
any other exception is logged with context and ends it ERROR as an internal error.

Control nodes (loop, parallel) run their own branches through `RunContext.branches`. Every
node run inside them is a job of its own: a loop over three items with two nodes in its
branch records the loop's job, then six jobs (two per iteration, in order), each with the
iteration in `JobRecord.position`; `$jobsMapByNodeKey` holds the latest run's result.
Jobs of concurrent branches are recorded in the order they start. Loop iterations across
the whole execution are capped at `MAX_ITERATIONS`; the loop that would pass the cap fails.

Parking and resuming (delay, async workflows only):

- A node returning `Park` (delay) stops the run: `run()` returns a `RunResult` with
  status QUEUED, `parked.resume_at` (an aware UTC datetime) and `parked.state`, a JSON
  object. `jobs` are those of this run; the delay's job is last, PENDING, result
  `{"resumeAt": ...}`. The caller stores the execution QUEUED with `resume_at` and `state`
  (and the jobs), and at `resume_at` (or later) builds a new
  `Processor(plan, context, env, execution_id=..., resume=state)` for the same workflow
  version and context, and calls `run()` again.
- The resumed run's first job is the delay's job again, same `node_key` and `started_at`,
  now finished (RESOLVED, or FAILED when the delay's `endStatus` is -1, which then ends the
  execution FAILED). It supersedes the PENDING job stored at parking: update that row
  rather than add one. The run then continues after the delay node, with the results of
  the earlier run visible in `$jobsMapByNodeKey`; it may park again.
- `state` is opaque to the caller: `{"version": 1, "node", "startedAt", "then", "result",
  "stack", "results", "scopes"}`. A state that does not fit the plan ends the run ERROR.
- A delay inside a loop or parallel branch is refused when the workflow is saved; should
  one run anyway, it fails as a node error.

Retrying from the failed node: a run that ends in a failure returns `RunResult.retry`
(and `retryable` when a retry may cure it: `Ended.retryable`, a request node's network
error, timeout, 429 or 5xx), a state
`{"version": 1, "kind": "retry", "stack", "results", "scopes"}`. A new `Processor` with
`resume=` that state runs the failed node again (a loop or parallel node whose branch
failed runs again whole) and goes on from there, with the earlier nodes' results in
`$jobsMapByNodeKey`; nodes before it are not run again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.core import tracing
from gateway.core.clock import utcnow
from gateway.core.errors import NodeFailure
from gateway.core.records import JobRecord
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.engine import sandbox
from gateway.engine.node import (
    CANCEL_BRANCH,
    Assign,
    Branch,
    Done,
    Ended,
    Finish,
    Outcome,
    Park,
    Respond,
    RunContext,
    Stop,
)
from gateway.engine.plan import Plan, Step

log = logging.getLogger("gateway.engine")

MAX_ITERATIONS = 10_000
STATE_VERSION = 1

ChainId = tuple[str | None, int | None]
MAIN: ChainId = (None, None)


@dataclass(frozen=True, slots=True)
class Parked:
    resume_at: datetime
    state: dict[str, Any]


@dataclass(slots=True)
class RunResult:
    status: ExecutionStatus
    jobs: list[JobRecord] = field(default_factory=list)
    response: Respond | None = None
    error: str | None = None
    reason: str | None = None
    parked: Parked | None = None
    retry: dict[str, Any] | None = None
    """A failure's resume state: run again with it, the execution starts at the failed
    node (see the module docstring)."""
    retryable: bool = False
    """The failure is one a retry may cure (`Ended.retryable`)."""


@dataclass(slots=True)
class _Parking:
    """A park on its way out: the chains to go on with, innermost first."""

    job: JobRecord
    outcome: Park
    stack: list[dict[str, Any]] = field(default_factory=list)


_Stopped = Ended | _Parking


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where a chain runs: the `$scopes` it sees, its loop position, its own jobs."""

    scopes: Mapping[str, Any]
    position: tuple[int, ...] = ()
    jobs: list[JobRecord] = field(default_factory=list)
    in_branch: bool = False


class Processor:
    """One execution's run. `run()` may be cancelled (timeout); `abort()` then says why."""

    def __init__(
        self,
        plan: Plan,
        context: dict[str, Any],
        env: dict[str, str] | None = None,
        *,
        execution_id: str = "",
        workflow: str = "",
        version_id: int = 0,
        clock: Callable[[], datetime] = utcnow,
        resume: dict[str, Any] | None = None,
        key_id: str = "",
        max_outbound: int | None = None,
    ) -> None:
        self.plan = plan
        self.execution_id = execution_id
        self.workflow = workflow
        self.version_id = version_id
        self.key_id = key_id
        self.max_outbound = max_outbound
        self.jobs: list[JobRecord] = []
        self.results: dict[str, Any] = dict(resume.get("results") or {}) if resume else {}
        self.iterations = 0
        self.resume = resume
        self.deadline: float | None = None
        self.failed_at: list[dict[str, Any]] = []
        """Where a failure stopped the run, innermost chain first (as a park's stack)."""
        """`loop.time()` at which the run times out (set by whoever times it)."""
        self.roots: dict[str, Any] = {
            "$context": context,
            "$system": {"now": clock().isoformat()},
            "$env": env or {},
        }

    def scope(self, scopes: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.roots, "$jobsMapByNodeKey": self.results, "$scopes": scopes}

    async def run(self) -> RunResult:
        token = sandbox.tenant.set(self.workflow)
        try:
            if tracing.ON:
                return await self._traced_run()
            return await self._run()
        finally:
            sandbox.tenant.reset(token)

    async def _traced_run(self) -> RunResult:
        attributes = {
            "gateway.workflow": self.workflow,
            "gateway.workflow.version_id": self.version_id,
            "gateway.execution_id": self.execution_id,
        }
        parent = tracing.accepted_context(self.execution_id)  # an async call accepted here
        with tracing.span("execution", attributes, parent=parent) as span:
            result = await self._run()
            span.set_attribute("gateway.execution.status", result.status.value)
            if result.status is not ExecutionStatus.RESOLVED:
                tracing.failed(span, result.status.value)  # not the error: it may hold a URL
            return result

    async def _run(self) -> RunResult:
        if self.resume is not None:
            stopped = await self._resume(self.resume)
        else:
            stopped = await self._run_chain(MAIN, 0, _Frame({}))
        if stopped is None:
            return RunResult(ExecutionStatus.RESOLVED, self.jobs)
        if isinstance(stopped, _Parking):
            return self._parked(stopped)
        result = RunResult(stopped.status, self.jobs, stopped.response, stopped.error)
        if stopped.failed and self.failed_at:
            result.retry = self._retry_state()
            result.retryable = stopped.retryable
        return result

    def abort(self, reason: str, status: ExecutionStatus = ExecutionStatus.ABORTED) -> RunResult:
        """The result of a run stopped from outside (timeout, cancel): open jobs end ABORTED."""
        for job in self.jobs:
            if job.status is JobStatus.PENDING:
                job.finish(JobStatus.ABORTED, None)
        return RunResult(status, self.jobs, reason=reason, error=f"execution {reason}")

    def _chain(self, chain: ChainId) -> tuple[Step, ...]:
        upstream, index = chain
        if upstream is None:
            return self.plan.chain
        return self.plan.steps[upstream].branches.get(index or 0, ())

    async def _run_chain(self, chain: ChainId, start: int, frame: _Frame) -> _Stopped | None:
        steps = self._chain(chain)
        for position in range(start, len(steps)):
            stopped = await self._run_step(steps[position], frame)
            if isinstance(stopped, _Parking):
                stopped.stack.append({"chain": list(chain), "next": position + 1, "then": None})
            elif isinstance(stopped, Ended) and stopped.failed and not frame.in_branch:
                # The innermost chain starts again at the failed node (a loop or parallel
                # node whose branch failed runs again whole); outer ones go on after it.
                again = position if not self.failed_at else position + 1
                self.failed_at.append({"chain": list(chain), "next": again, "then": None})
            if stopped is not None:
                return stopped
        return None

    async def _run_step(self, step: Step, frame: _Frame) -> _Stopped | None:
        if not tracing.ON:
            return await self._run_job(step, frame)
        attributes = {"gateway.node.key": step.key, "gateway.node.type": step.type}
        with tracing.span(f"node {step.key}", attributes) as span:
            stopped = await self._run_job(step, frame)
            status = frame.jobs[-1].status if frame.jobs else None
            if status is not None:
                span.set_attribute("gateway.job.status", status.value)
                if status in (JobStatus.ERROR, JobStatus.FAILED):
                    tracing.failed(span, status.value)
            return stopped

    async def _run_job(self, step: Step, frame: _Frame) -> _Stopped | None:
        job = JobRecord(step.key, step.type, utcnow(), position=frame.position)
        self.jobs.append(job)
        frame.jobs.append(job)
        try:
            if step.uses_run:
                branches = _Branches(self, step, frame)
                run = RunContext(
                    self.execution_id,
                    step.key,
                    frame.position,
                    branches,
                    self.deadline,
                    key_id=self.key_id,
                    workflow=self.workflow,
                    max_outbound=self.max_outbound,
                )
                try:
                    outcome = await step.node.execute(self.scope(frame.scopes), run)
                finally:
                    if run.attempts:
                        job.attempts = run.attempts
            else:
                outcome = await step.node.run(self.scope(frame.scopes))
        except NodeFailure as exc:
            job.finish(JobStatus.ERROR, {"error": str(exc)})
            return Ended(ExecutionStatus.ERROR, error=f"node {step.key}: {exc}")
        except Exception:
            log.exception(
                "node raised", extra={"execution_id": self.execution_id, "node": step.key}
            )
            job.finish(JobStatus.ERROR, {"error": "internal error"})
            return Ended(ExecutionStatus.ERROR, error=f"node {step.key}: internal error")
        return await self._follow(step, job, outcome, frame)

    async def _follow(
        self, step: Step, job: JobRecord, outcome: Outcome, frame: _Frame
    ) -> _Stopped | None:
        if isinstance(outcome, Branch):
            return await self._branch(step, job, outcome, frame)
        if isinstance(outcome, Park):
            return self._park(step, job, outcome, frame)
        if isinstance(outcome, Assign):
            self._record(job, JobStatus.RESOLVED, outcome.value)
            self.results = {**self.results, outcome.target: outcome.value}
            return None
        if isinstance(outcome, Done):
            self._record(job, JobStatus.RESOLVED, outcome.result)
            return None
        if isinstance(outcome, Finish):
            self._record(job, outcome.job_status, outcome.result)
            return Ended(outcome.status)
        if isinstance(outcome, Stop):
            self._record(job, outcome.job_status, outcome.result)
            return outcome.ended
        self._record(job, JobStatus.RESOLVED, outcome.result)
        return Ended(ExecutionStatus.RESOLVED, response=outcome)

    async def _branch(
        self, step: Step, job: JobRecord, outcome: Branch, frame: _Frame
    ) -> _Stopped | None:
        self._record(job, outcome.job_status, outcome.result)
        stopped = await self._run_chain((step.key, outcome.index), 0, frame)
        then = outcome.then.value if outcome.then else None
        if isinstance(stopped, _Parking):
            stopped.stack[-1]["then"] = then
        elif isinstance(stopped, Ended) and self.failed_at and not frame.in_branch:
            self.failed_at[-1]["then"] = then
        if stopped is None and outcome.then is not None:
            return Ended(outcome.then)
        return stopped

    def _park(self, step: Step, job: JobRecord, outcome: Park, frame: _Frame) -> _Stopped:
        if frame.in_branch:
            job.finish(JobStatus.ERROR, {"error": "cannot wait inside a loop or parallel branch"})
            return Ended(ExecutionStatus.ERROR, error=f"node {step.key}: cannot wait here")
        job.result = outcome.result
        return _Parking(job, outcome)

    def _record(self, job: JobRecord, status: JobStatus, result: Any) -> None:
        job.finish(status, result)
        # A new map, never mutated once templates can see it: a result that is (or holds)
        # an earlier map, e.g. `{{$jobsMapByNodeKey}}`, can then never contain itself.
        self.results = {**self.results, job.node_key: result}

    async def run_branch(
        self,
        step: Step,
        frame: _Frame,
        index: int,
        scopes: Mapping[str, Any],
        iteration: int | None,
    ) -> Ended | None:
        """A control node's branch run (see `Branches.run`)."""
        position = frame.position
        if iteration is not None:
            self.iterations += 1
            if self.iterations > MAX_ITERATIONS:
                raise NodeFailure(f"more than {MAX_ITERATIONS} loop iterations in one execution")
            position = (*position, iteration)
        inner = _Frame({**frame.scopes, **scopes}, position, [], in_branch=True)
        try:
            stopped = await self._run_chain((step.key, index), 0, inner)
        except asyncio.CancelledError as exc:
            status = JobStatus.CANCELED if CANCEL_BRANCH in exc.args else JobStatus.ABORTED
            for job in inner.jobs:
                if job.status is JobStatus.PENDING:
                    job.finish(status, None)
            raise
        assert not isinstance(stopped, _Parking)  # _park refuses inside branches
        return stopped

    def _parked(self, parking: _Parking) -> RunResult:
        outcome = parking.outcome
        state = {
            "version": STATE_VERSION,
            "node": parking.job.node_key,
            "startedAt": parking.job.started_at.isoformat(),
            "then": outcome.then.value if outcome.then else None,
            "result": outcome.result,
            "stack": parking.stack,
            "results": self.results,
            "scopes": {},
        }
        parked = Parked(outcome.resume_at.astimezone(UTC), state)
        return RunResult(ExecutionStatus.QUEUED, self.jobs, parked=parked)

    def _retry_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "kind": "retry",
            "stack": self.failed_at,
            "results": self.results,
            "scopes": {},
        }

    async def _resume(self, state: dict[str, Any]) -> _Stopped | None:
        try:
            if state.get("kind") == "retry":
                stack = self._stack(state)
            else:
                stack, job = self._resumed_job(state)
                if job.status is not JobStatus.RESOLVED:
                    return Ended(ExecutionStatus.FAILED)
        except (KeyError, TypeError, ValueError) as exc:
            return Ended(ExecutionStatus.ERROR, error=f"cannot resume: state does not fit ({exc})")
        for depth, entry in enumerate(stack):
            stopped = await self._run_chain(entry[0], entry[1], _Frame(state.get("scopes") or {}))
            if isinstance(stopped, _Parking):
                stopped.stack.extend(state["stack"][depth + 1 :])
            elif isinstance(stopped, Ended) and stopped.failed and self.failed_at:
                # Where this run stopped, in the chains the state still had to go on with.
                self.failed_at[-1]["then"] = state["stack"][depth]["then"]
                self.failed_at.extend(state["stack"][depth + 1 :])
            if stopped is not None:
                return stopped
            if entry[2] is not None:
                return Ended(entry[2])
        return None

    def _stack(self, state: dict[str, Any]) -> list[tuple[ChainId, int, ExecutionStatus | None]]:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown state version {state.get('version')!r}")
        stack = []
        for entry in state["stack"]:
            upstream, index = entry["chain"]
            if upstream is not None and upstream not in self.plan.steps:
                raise KeyError(upstream)
            then = ExecutionStatus(entry["then"]) if entry["then"] else None
            stack.append(((upstream, index), int(entry["next"]), then))
        return stack

    def _resumed_job(
        self, state: dict[str, Any]
    ) -> tuple[list[tuple[ChainId, int, ExecutionStatus | None]], JobRecord]:
        step = self.plan.steps[state["node"]]
        stack = self._stack(state)
        job = JobRecord(step.key, step.type, datetime.fromisoformat(state["startedAt"]))
        failed = state.get("then") == ExecutionStatus.FAILED.value
        self.jobs.append(job)
        self._record(job, JobStatus.FAILED if failed else JobStatus.RESOLVED, state.get("result"))
        return stack, job


class _Branches:
    """`Branches` for one step: runs its branch chains through the processor."""

    def __init__(self, processor: Processor, step: Step, frame: _Frame) -> None:
        self.processor = processor
        self.step = step
        self.frame = frame

    def indices(self) -> list[int]:
        return sorted(index for index, chain in self.step.branches.items() if chain)

    def scope(self, scopes: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.processor.scope({**self.frame.scopes, **scopes})

    async def run(
        self, index: int, scopes: Mapping[str, Any] | None = None, iteration: int | None = None
    ) -> Ended | None:
        return await self.processor.run_branch(
            self.step, self.frame, index, scopes or {}, iteration
        )
