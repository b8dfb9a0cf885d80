"""The node contract between the engine and the node types: what a run returns.

A node type validates its config at save time (`check`, every problem at once), is built
once per workflow version (`__init__`, where templates are compiled) and runs per execution
(`run`), returning an `Outcome` that tells the processor what happens next. Deciding is
kept apart from doing: most nodes only render templates and compute a value.

The processor calls `execute(scope, run)`, which by default is `run(scope)`. A node that
needs to know more about the run overrides `execute`: `run.execution_id`, `run.node_key`
and `run.position` (the enclosing loops' indices) identify this node run (the request
node derives its `Idempotency-Key` from them), `run.deadline` is when the run times out,
`run.attempts` collects the tries of a node that retries (recorded on its job), and
`run.branches` runs the node's own branches (loop: once per item with extra `$scopes`;
parallel: concurrently). Each branch run records its jobs like any chain and reports how
it ended (`Ended`, or None when it ran to its end); a control node turns that into its own
outcome, `Stop` when the execution must end with the branch's ending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from gateway.core.errors import Problem
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.core.types import JSONObject, Scope

# The cancel message of a parallel branch no longer needed: its running jobs end CANCELED.
CANCEL_BRANCH = "branch no longer needed"


@dataclass(frozen=True, slots=True)
class Done:
    """The node finished; the chain goes on to the next node."""

    result: Any = None


@dataclass(frozen=True, slots=True)
class Branch:
    """Run branch `index` (if the workflow has one), then go on with the chain.

    `then` ends the execution with that status once the branch has finished normally
    (multi-conditions without a match and without `continueOnNoMatch`).
    """

    index: int
    result: Any = None
    then: ExecutionStatus | None = None
    job_status: JobStatus = JobStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class Finish:
    """End the execution now with `status`; the job itself ends with `job_status`."""

    status: ExecutionStatus
    result: Any = None
    job_status: JobStatus = JobStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer the webhook call (sync workflows) and end the execution RESOLVED."""

    status_code: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None

    @property
    def result(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "headers": dict(self.headers), "body": self.body}


@dataclass(frozen=True, slots=True)
class Assign:
    """The node's result is `value`, which also becomes the result of node `target`
    (a `variable` node assigning an earlier one)."""

    target: str
    value: Any

    @property
    def result(self) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class Ended:
    """How a chain ended before its last node: the execution's status, the answer (a
    `response` node) and the error. `failed` is every ending but RESOLVED."""

    status: ExecutionStatus
    response: Respond | None = None
    error: str | None = None
    retryable: bool = False
    """A failure that running the execution again may cure (a request node's network error,
    timeout, 429 or 5xx): an async workflow's retry schedule applies to it."""

    @property
    def failed(self) -> bool:
        return self.status is not ExecutionStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class Stop:
    """End the execution as a branch ended (`ended`); the job ends with `job_status`."""

    ended: Ended
    result: Any = None
    job_status: JobStatus = JobStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class Park:
    """Stop the execution until `resume_at` (delay); it then goes on after this node,
    or ends with `then` (FAILED for `endStatus: -1`)."""

    resume_at: datetime
    result: Any = None
    then: ExecutionStatus | None = None


Outcome = Done | Branch | Finish | Respond | Assign | Stop | Park


class Branches(Protocol):
    """A control node's own branches, as the processor runs them."""

    def indices(self) -> list[int]:
        """The branch indices that have nodes, in order."""
        ...

    def scope(self, scopes: Mapping[str, Any]) -> Mapping[str, Any]:
        """The node's scope with `scopes` added under `$scopes` (a loop's own condition)."""
        ...

    async def run(
        self, index: int, scopes: Mapping[str, Any] | None = None, iteration: int | None = None
    ) -> Ended | None:
        """Run branch `index` once, with `scopes` added to `$scopes`; `iteration` (a loop's
        index) is appended to the position of the jobs it records and counts against the
        execution's iteration cap."""
        ...


@dataclass(frozen=True, slots=True)
class RunContext:
    """What a node run knows beyond its scope (see the module docstring)."""

    execution_id: str
    node_key: str
    position: tuple[int, ...]
    branches: Branches
    deadline: float | None = None
    """The event loop time (`loop.time()`) at which the run times out, if it does: a node
    does not start a wait (a retry's) that would end after it."""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    """Each try of an I/O node (time, outcome, status or error), which its job records."""
    key_id: str = ""
    """The execution id idempotency keys derive from when not this one's: a replay's
    original (`replayOf` in its context), so a downstream that de-duplicates sees a repeat."""
    workflow: str = ""
    max_outbound: int | None = None
    """The workflow's bound on its calls in flight in this process (`options.maxOutbound`)."""


class NodeType:
    """Base of every node type; subclasses register themselves with `register`."""

    type_name: ClassVar[str]
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    sync_only: ClassVar[bool] = False
    async_only: ClassVar[bool] = False
    # `parks`: the node may park the execution (delay). `repeats_branches`: its branches run
    # several times or concurrently (loop, parallel), so no node below it may park.
    parks: ClassVar[bool] = False
    repeats_branches: ClassVar[bool] = False
    # `own_scope`: the node's config may read `$scopes.<its own key>` (a loop's condition).
    own_scope: ClassVar[bool] = False
    # `config_keys`: every key the config may hold; any other is refused at save with a
    # "did you mean" (a misspelled key would otherwise be ignored). None: not checked.
    config_keys: ClassVar[frozenset[str] | None] = None
    # `instant`: `run` never waits (no I/O, no sandbox), so nothing can time it out; a
    # node sets it per instance when that depends on its config.
    instant: bool = False

    def __init__(self, key: str, config: JSONObject) -> None:
        self.key = key
        self.config = config

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        """Every problem with `config`; `field` prefixes each problem's location."""
        if not isinstance(config, dict):
            return [Problem(field, "config must be an object")]
        return []

    @classmethod
    def branch_indices(cls, config: JSONObject) -> frozenset[int] | None:
        """The branch indices children may hang on, or None for a node without branches."""
        return None

    @classmethod
    def earlier_nodes(cls, config: JSONObject) -> dict[str, tuple[str, str | None]]:
        """Node keys the config names outside templates, which must run before this node:
        `{field: (node key, required node type or None)}` (a variable node's `target`)."""
        return {}

    async def run(self, scope: Scope) -> Outcome:
        raise NotImplementedError

    async def execute(self, scope: Scope, run: RunContext) -> Outcome:
        """What the processor calls for nodes that need `run` (they override it); for the
        others it calls `run` straight away (`uses_run`)."""
        return await self.run(scope)

    @classmethod
    def uses_run(cls) -> bool:
        return cls.execute is not NodeType.execute
