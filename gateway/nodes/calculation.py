"""`calculation`: the value of an expression — CEL (`engine: cel`), or NocoBase's
`math.js` or `formula.js` (docs/nocobase.md, Expression engines)."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import Problem
from gateway.core.types import JSONObject, Scope
from gateway.engine.evaluators import ENGINES as FORMULA_ENGINES
from gateway.engine.evaluators import compile_formula, formula_problems
from gateway.engine.expressions import Expression, compile_expression, expression_problems
from gateway.engine.formulas import Formula
from gateway.engine.node import Done, NodeType, Outcome
from gateway.nodes.registry import register

ENGINES = ("cel", *FORMULA_ENGINES)


@register
class Calculation(NodeType):
    """The job's result is the expression's value (JSON: CEL timestamps as RFC 3339 text,
    durations as `"<seconds>s"`, bytes as base64; math.js and formula.js numbers rounded
    to 9 decimals, NaN and Infinity as null, as NocoBase does)."""

    type_name = "calculation"
    config_keys = frozenset({"engine", "expression"})
    title = "Calculation"
    description = "Compute a value with a CEL, math.js or formula.js expression."

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        engine = config.get("engine", "cel")
        self.formula: Formula | None = None
        self.expression: Expression | None = None
        if engine in FORMULA_ENGINES:
            self.formula = compile_formula(engine, config["expression"])
            self.instant = True
        else:
            self.expression = compile_expression(config["expression"])

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        engine = config.get("engine", "cel")
        if engine not in ENGINES:
            hint = ", ".join(ENGINES)
            return [Problem(f"{field}.engine", f"unknown engine {engine!r}", hint=hint)]
        if engine in FORMULA_ENGINES:
            return formula_problems(engine, config.get("expression"), f"{field}.expression")
        return expression_problems(config.get("expression"), f"{field}.expression")

    async def run(self, scope: Scope) -> Outcome:
        if self.formula is not None:
            return Done(self.formula.evaluate(scope))
        assert self.expression is not None
        return Done(await self.expression.evaluate(scope))
