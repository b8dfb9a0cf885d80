"""`condition`: a true/false test, either ending the execution or choosing branch 1 or 0."""

from __future__ import annotations

from typing import Any

from gateway.engine import calculators
from gateway.engine.templates import compile_template
from gateway.errors import Problem
from gateway.nodes.base import Branch, Done, Finish, NodeType, Outcome, register
from gateway.nodes.common import bool_problems, engine_problems, template_problems
from gateway.statuses import ExecutionStatus, JobStatus
from gateway.types import JSONObject, Scope

TRUE_BRANCH = 1
FALSE_BRANCH = 0


def check_test(config: Any, field: str) -> list[Problem]:
    """Problems with one test (`engine` + `calculation`), as condition and multi-conditions use."""
    if not isinstance(config, dict):
        return [Problem(field, "must be an object")]
    problems = engine_problems(config, field)
    calculation = config.get("calculation")
    problems += calculators.check_calculation(calculation, f"{field}.calculation")
    problems += template_problems(calculation, f"{field}.calculation")
    return problems


@register
class Condition(NodeType):
    type_name = "condition"
    title = "Condition"
    description = "Test values; end the execution on false, or branch (1 true, 0 false)."

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.reject_on_false = bool(config.get("rejectOnFalse", True))
        self.calculation = compile_template(config.get("calculation"))

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
        result = calculators.evaluate(self.calculation.render(scope))
        if self.reject_on_false:
            if result:
                return Done(result)
            return Finish(ExecutionStatus.FAILED, result, JobStatus.FAILED)
        return Branch(TRUE_BRANCH if result else FALSE_BRANCH, result)
