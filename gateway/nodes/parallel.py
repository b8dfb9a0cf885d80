"""`parallel`: run branches 1..n concurrently and settle by `mode`."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.core.errors import Problem
from gateway.core.statuses import JobStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import CANCEL_BRANCH, Done, Ended, NodeType, Outcome, RunContext, Stop
from gateway.nodes.registry import register

MODES = ("all", "any", "race", "allSettled")
MAX_BRANCHES = 20

Settled = tuple[int, Ended | None]


@register
class Parallel(NodeType):
    """Branches `1..n` run at once; each branch's nodes run in order.

    - `all` (default): goes on when every branch finished; the first failed branch ends
      the execution with its ending and the others are cancelled.
    - `any`: goes on as soon as one branch finished (the others are cancelled); when every
      branch failed, the execution ends with the last failure.
    - `race`: the first branch to finish or fail decides, the others are cancelled.
    - `allSettled`: waits for every branch and always goes on.

    A `response` or an `end` with status 1 in any branch ends the execution at once. The
    job's result maps each branch index to how it ended: `RESOLVED`, the failed ending's
    status, or `CANCELED`. Jobs of cancelled branches that were running end CANCELED.
    """

    type_name = "parallel"
    config_keys = frozenset({"mode"})
    title = "Parallel"
    description = "Run branches concurrently."
    repeats_branches = True

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.mode = config.get("mode", "all")

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        if config.get("mode", "all") not in MODES:
            problems.append(Problem(f"{field}.mode", f"must be one of {', '.join(MODES)}"))
        return problems

    @classmethod
    def branch_indices(cls, config: JSONObject) -> frozenset[int] | None:
        return frozenset(range(1, MAX_BRANCHES + 1))

    async def execute(self, scope: Scope, run: RunContext) -> Outcome:
        tasks = {
            asyncio.create_task(self._branch(run, index), name=f"{self.key}[{index}]"): index
            for index in run.branches.indices()
        }
        states: dict[str, str] = {str(index): "CANCELED" for index in tasks.values()}
        try:
            decided = await self._settle(tasks, states)
        except asyncio.CancelledError:
            await _cancel(tasks, None)  # stopped from outside: their jobs end ABORTED
            raise
        await _cancel(tasks, CANCEL_BRANCH)
        if decided is not None:
            return Stop(decided, states, JobStatus.FAILED if decided.failed else JobStatus.RESOLVED)
        return Done(states)

    async def _settle(
        self, tasks: dict[asyncio.Task[Settled], int], states: dict[str, str]
    ) -> Ended | None:
        """The ending that decides the node (None: go on), once the mode says so."""
        pending, last_failure = set(tasks), None
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            settled = sorted(task.result() for task in done)  # at once: lowest index first
            for index, ended in settled:
                states[str(index)] = ended.status.value if ended else "RESOLVED"
            for _, ended in settled:
                if ended is not None and not ended.failed:
                    return ended  # response / end: the execution is over
                decided, stop = self._decide(ended)
                if stop:
                    return decided
                last_failure = ended or last_failure
        if self.mode == "any" and last_failure is not None:
            return last_failure
        return None

    def _decide(self, ended: Ended | None) -> tuple[Ended | None, bool]:
        """After one branch settled: (the deciding ending, whether the node settles now)."""
        if self.mode == "race":
            return ended, True
        if self.mode == "all":
            return ended, ended is not None
        if self.mode == "any":
            return None, ended is None
        return None, False  # allSettled

    @staticmethod
    async def _branch(run: RunContext, index: int) -> Settled:
        return index, await run.branches.run(index)


async def _cancel(tasks: dict[asyncio.Task[Settled], int], message: str | None) -> None:
    for task in tasks:
        if not task.done():
            task.cancel(message)
    await asyncio.gather(*tasks, return_exceptions=True)
