"""`multi-conditions`: the first true condition picks its branch (1..n); none picks 0."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import NodeFailure, Problem
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import Branch, NodeType, Outcome
from gateway.nodes.common import Predicate, bool_problems, check_test
from gateway.nodes.registry import register

OTHERWISE = 0


@register
class MultiConditions(NodeType):
    """The job's result is the index of the branch taken (0 when nothing matched).

    Without a match and without `continueOnNoMatch`, branch 0 still runs (when there is one)
    and the execution then ends FAILED, as NocoBase does.
    """

    type_name = "multi-conditions"
    config_keys = frozenset({"conditions", "continueOnNoMatch"})
    title = "Multi-conditions"
    description = "Branch on the first of several conditions that holds."

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.tests = [Predicate(item) for item in config.get("conditions", [])]
        self.continue_on_no_match = bool(config.get("continueOnNoMatch", False))

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        problems = bool_problems(config, "continueOnNoMatch", field)
        conditions = config.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            return [*problems, Problem(f"{field}.conditions", "must be a non-empty list")]
        for index, item in enumerate(conditions):
            problems += check_test(item, f"{field}.conditions[{index}]")
        return problems

    @classmethod
    def branch_indices(cls, config: JSONObject) -> frozenset[int] | None:
        conditions = config.get("conditions")
        count = len(conditions) if isinstance(conditions, list) else 0
        return frozenset(range(count + 1))

    async def run(self, scope: Scope) -> Outcome:
        for index, test in enumerate(self.tests, start=1):
            result = await test.value(scope)
            if isinstance(result, str):
                # NocoBase records a failed condition as its error text, so any text ends
                # the node ERROR there; the gateway says which condition gave it.
                raise NodeFailure(f"condition {index} gave text {result[:60]!r}, not true")
            if result is True:
                return Branch(index, index)
        if self.continue_on_no_match:
            return Branch(OTHERWISE, OTHERWISE)
        return Branch(
            OTHERWISE, OTHERWISE, then=ExecutionStatus.FAILED, job_status=JobStatus.FAILED
        )
