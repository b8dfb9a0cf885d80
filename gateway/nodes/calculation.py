"""`calculation`: the value of a CEL expression (`engine: cel`, `expression`)."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import Problem
from gateway.core.types import JSONObject, Scope
from gateway.engine.expressions import compile_expression, expression_problems
from gateway.engine.node import Done, NodeType, Outcome
from gateway.nodes.registry import register

ENGINES = ("cel",)


@register
class Calculation(NodeType):
    """The job's result is the expression's value (JSON: timestamps as RFC 3339 text,
    durations as `"<seconds>s"`, bytes as base64)."""

    type_name = "calculation"
    title = "Calculation"
    description = "Compute a value with a CEL expression."

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.expression = compile_expression(config["expression"])

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        if config.get("engine", "cel") not in ENGINES:
            problems.append(
                Problem(f"{field}.engine", f"unknown engine {config['engine']!r}", hint="use cel")
            )
        return problems + expression_problems(config.get("expression"), f"{field}.expression")

    async def run(self, scope: Scope) -> Outcome:
        return Done(await self.expression.evaluate(scope))
