"""`loop`: run branch 0 once per item of `target`, with `$scopes.<key>` set per iteration."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gateway.core.errors import NodeFailure, Problem
from gateway.core.statuses import JobStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import Done, NodeType, Outcome, RunContext, Stop
from gateway.engine.templates import compile_template, template_problems
from gateway.nodes.common import Predicate, check_test
from gateway.nodes.registry import register

BODY = 0
BEFORE, AFTER = 0, 1
RETURN, BREAK, CONTINUE = 0, 1, 2  # NocoBase's `exit` values


def items_of(target: Any) -> Sequence[Any]:
    """What to loop over: a number n → 0..n-1; a list → its non-null items; null → none;
    anything else → that one value (NocoBase)."""
    if isinstance(target, bool):
        return [target]
    if isinstance(target, int | float):
        if not math.isfinite(target) or target < 0:
            raise NodeFailure(f"loop target {target!r} is not a count of 0 or more")
        return range(math.floor(target))
    if isinstance(target, list):
        return [item for item in target if item is not None]
    return [] if target is None else [target]


def condition_problems(condition: Any, field: str) -> list[Problem]:
    if condition is None or condition is False:
        return []
    problems = check_test(condition, field)
    if not isinstance(condition, dict):
        return problems
    if condition.get("checkpoint", BEFORE) not in (BEFORE, AFTER):
        problems.append(Problem(f"{field}.checkpoint", "must be 0 (before) or 1 (after)"))
    if not isinstance(condition.get("continueOnFalse", False), bool):
        problems.append(Problem(f"{field}.continueOnFalse", "must be true or false"))
    return problems


@register
class Loop(NodeType):
    """Each iteration sees `$scopes.<key>` = `{item, index, sequence, length}`.

    `condition` (optional, `engine` + `calculation`/`expression`, may read the loop's own
    scope) is tested before each iteration (`checkpoint: 0`) or after it (`1`); when false
    the loop stops (`continueOnFalse: false`, the default) or skips to the next item
    (`true`; after the iteration it then simply goes on).

    `exit` says what a failed iteration (a FAILED or ERROR ending inside the branch) does:
    `0` ends the execution with it (default), `1` stops the loop and goes on after it,
    `2` goes on with the next item. A `response` or an `end` with status 1 inside the branch
    always ends the execution. The job's result is `{"looped": n}` (iterations run), plus
    `"broken": true` when the loop stopped early.
    """

    type_name = "loop"
    config_keys = frozenset({"target", "condition", "exit"})
    title = "Loop"
    description = "Run a branch once per item of a list (or n times)."
    repeats_branches = True
    own_scope = True

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.target = compile_template(config.get("target"))
        condition = config.get("condition") or None
        self.condition = Predicate(condition) if condition else None
        self.checkpoint = condition.get("checkpoint", BEFORE) if condition else BEFORE
        self.continue_on_false = bool(condition.get("continueOnFalse")) if condition else False
        self.exit = config.get("exit", RETURN)

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        if "target" not in config:
            problems.append(Problem(f"{field}.target", "required: a number, list or placeholder"))
        problems += template_problems(config.get("target"), f"{field}.target")
        problems += condition_problems(config.get("condition"), f"{field}.condition")
        if config.get("exit", RETURN) not in (RETURN, BREAK, CONTINUE) or isinstance(
            config.get("exit"), bool
        ):
            problems.append(Problem(f"{field}.exit", "must be 0 (end), 1 (break) or 2 (continue)"))
        return problems

    @classmethod
    def branch_indices(cls, config: JSONObject) -> frozenset[int] | None:
        return frozenset({BODY})

    async def execute(self, scope: Scope, run: RunContext) -> Outcome:
        items = items_of(self.target.render(scope))
        if BODY not in run.branches.indices():
            return Done({"looped": 0})
        looped = 0
        for index, item in enumerate(items):
            scopes = {self.key: self._scope(item, index, len(items))}
            if self.checkpoint == BEFORE and not await self._holds(run, scopes):
                if self.continue_on_false:
                    continue
                return Done({"looped": looped, "broken": True})
            ended = await run.branches.run(BODY, scopes, iteration=index)
            looped += 1
            if ended is not None and (not ended.failed or self.exit == RETURN):
                status = JobStatus.FAILED if ended.failed else JobStatus.RESOLVED
                return Stop(ended, {"looped": looped}, status)
            if ended is not None and self.exit == BREAK:
                return Done({"looped": looped, "broken": True})
            if self.checkpoint == AFTER and not await self._holds(run, scopes):
                if not self.continue_on_false:
                    return Done({"looped": looped, "broken": True})
        return Done({"looped": looped})

    async def _holds(self, run: RunContext, scopes: dict[str, Any]) -> bool:
        return self.condition is None or await self.condition.holds(run.branches.scope(scopes))

    @staticmethod
    def _scope(item: Any, index: int, length: int) -> dict[str, Any]:
        return {"item": item, "index": index, "sequence": index + 1, "length": length}
