"""`condition`: a true/false test, either ending the execution or choosing branch 1 or 0."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import Problem
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.core.types import JSONObject, Scope
from gateway.engine import js
from gateway.engine.node import Branch, Done, Finish, NodeType, Outcome
from gateway.nodes.common import Predicate, bool_problems, check_test
from gateway.nodes.registry import register

TRUE_BRANCH = 1
FALSE_BRANCH = 0


@register
class Condition(NodeType):
    """`engine: basic` tests a `calculation`; `engine: cel` an `expression` that must give
    true or false (anything else is a node error); `engine: math.js` or `formula.js` an
    `expression` read as NocoBase reads it: any truthy value passes `rejectOnFalse`, and
    only `true` and `false` choose a branch."""

    type_name = "condition"
    config_keys = frozenset({"rejectOnFalse", "engine", "calculation", "expression"})
    title = "Condition"
    description = "Test values; end the execution on false, or branch (1 true, 0 false)."

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.reject_on_false = bool(config.get("rejectOnFalse", True))
        self.test = Predicate(config)
        self.instant = self.test.instant

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        return bool_problems(config, "rejectOnFalse", field) + check_test(config, field)

    @classmethod
    def branch_indices(cls, config: JSONObject) -> frozenset[int] | None:
        if config.get("rejectOnFalse", True):
            return None
        return frozenset({TRUE_BRANCH, FALSE_BRANCH})

    async def run(self, scope: Scope) -> Outcome:
        result = await self.test.value(scope)
        if self.reject_on_false:
            if js.truthy(result):
                return Done(result)
            return Finish(ExecutionStatus.FAILED, result, JobStatus.FAILED)
        if result is True or result is False:
            return Branch(TRUE_BRANCH if result else FALSE_BRANCH, result)
        # A math.js or formula.js result that is neither: NocoBase takes no branch (it looks
        # for the branch whose Boolean(index) === result) and goes on after the node.
        return Done(result)
