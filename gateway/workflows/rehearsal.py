"""A workflow's plan compiled for a test run: every node traced, side effects held back.

Each node type is subclassed for the run (the production classes and plans are left as
they are): the subclass notes what the node's config renders to in its scope, the branch
it takes and how long it took, and — unless side effects were asked for — stands in for
the node's side effects:

- `request` is not sent: its result is the node's `pinned` value when the document gives
  one, else a "not sent" marker with the request it would have made;
- `delay` does not wait: the run goes straight on (or ends FAILED for `endStatus: -1`),
  whether or not side effects were asked for.

The processor records a job per node run and calls `execute` right after creating the job,
so the n-th trace belongs to the n-th job.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter
from typing import Any

from gateway.core.errors import NodeFailure
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine import plan as plans
from gateway.engine.node import Branch, Done, Finish, NodeType, Outcome, Park, RunContext
from gateway.engine.templates import compile_template, to_text
from gateway.nodes import REGISTRY
from gateway.nodes.request import Request, idempotency_key

NOT_SENT = "not sent: side effects are off"


@dataclass
class NodeTrace:
    """What a test run saw of one node run, beside its job."""

    rendered: Any = None
    branch: int | None = None
    duration_ms: float | None = None
    note: str | None = None
    request: dict[str, Any] | None = None


class Rehearsal:
    def __init__(self, definition: dict[str, Any], side_effects: bool) -> None:
        self.side_effects = side_effects
        self.traces: list[NodeTrace] = []
        self.pinned = {
            node["key"]: node["pinned"]
            for node in definition.get("nodes") or []
            if node.get("pinned") is not None
        }
        types = {name: self._traced(cls) for name, cls in REGISTRY.items()}
        self.plan = plans.compile_plan(definition, types)

    def _traced(self, cls: type[NodeType]) -> type[NodeType]:
        rehearsal = self

        def init(node: NodeType, key: str, config: JSONObject) -> None:
            cls.__init__(node, key, config)
            node.rendering = compile_template(config)  # type: ignore[attr-defined]

        async def execute(node: NodeType, scope: Scope, run: RunContext) -> Outcome:
            return await rehearsal.execute(cls, node, scope, run)

        return type(cls.__name__, (cls,), {"__init__": init, "execute": execute})

    async def execute(
        self, cls: type[NodeType], node: NodeType, scope: Scope, run: RunContext
    ) -> Outcome:
        trace = NodeTrace(rendered=_rendered(node, scope))
        self.traces.append(trace)
        started = perf_counter()
        try:
            outcome = await self._outcome(cls, node, scope, run, trace)
        except NodeFailure:
            trace.duration_ms = _since(started)
            raise
        trace.duration_ms = _since(started)
        if isinstance(outcome, Branch):
            trace.branch = outcome.index
        return outcome

    async def _outcome(
        self, cls: type[NodeType], node: NodeType, scope: Scope, run: RunContext, trace: NodeTrace
    ) -> Outcome:
        if isinstance(node, Request) and not self.side_effects:
            return self._held_back(node, scope, run, trace)
        outcome = await cls.execute(node, scope, run)
        if isinstance(outcome, Park):
            return _not_waited(outcome, trace)
        return outcome

    def _held_back(self, node: Request, scope: Scope, run: RunContext, trace: NodeTrace) -> Outcome:
        call = node.call(scope, idempotency_key(run.execution_id, run.node_key, run.position))
        trace.request = {
            "method": call.method,
            "url": call.url,
            "headers": dict(call.headers),
            "params": dict(call.params),
            "body": call.content.decode("utf-8", errors="replace") if call.content else None,
        }
        if node.key in self.pinned:
            trace.note = "not sent: the node's pinned result stands in"
            return Done(self.pinned[node.key])
        trace.note = NOT_SENT
        return Done({"sent": False, "message": NOT_SENT})


def _not_waited(outcome: Park, trace: NodeTrace) -> Outcome:
    trace.note = f"did not wait (would resume at {outcome.resume_at.isoformat()})"
    if outcome.then is ExecutionStatus.FAILED:
        return Finish(ExecutionStatus.FAILED, outcome.result, JobStatus.FAILED)
    return Done(outcome.result)


def _rendered(node: NodeType, scope: Scope) -> Any:
    """The node's config with every `{{...}}` replaced by its value in this scope."""
    template = node.rendering  # type: ignore[attr-defined]
    if template.is_constant:
        return None
    try:
        return template.render(scope)
    except Exception as exc:  # the node itself reports the failure; keep the trace going
        return {"error": to_text(str(exc))}


def _since(started: float) -> float:
    return round((perf_counter() - started) * 1000, 3)
