"""Checks and compiled pieces shared by several node types."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import Problem
from gateway.core.types import Scope
from gateway.engine import calculators, js
from gateway.engine.evaluators import ENGINES as FORMULA_ENGINES
from gateway.engine.evaluators import compile_formula, formula_problems
from gateway.engine.expressions import Expression, compile_expression, expression_problems
from gateway.engine.formulas import Formula
from gateway.engine.templates import Template, compile_template, template_problems

ENGINES = ("basic", "cel", *FORMULA_ENGINES)


def bool_problems(config: dict[str, Any], name: str, field: str) -> list[Problem]:
    if name in config and not isinstance(config[name], bool):
        return [Problem(f"{field}.{name}", "must be true or false")]
    return []


def engine_problems(config: dict[str, Any], field: str) -> list[Problem]:
    engine = config.get("engine", "basic")
    if engine is None or engine in ENGINES:
        return []
    return [Problem(f"{field}.engine", f"unknown engine {engine!r}", hint=", ".join(ENGINES))]


def check_test(config: Any, field: str) -> list[Problem]:
    """Problems with one test: `engine: basic` + `calculation`, or `engine: cel`,
    `math.js` or `formula.js` + `expression` (condition, multi-conditions and the loop's
    condition use it)."""
    if not isinstance(config, dict):
        return [Problem(field, "must be an object")]
    problems = engine_problems(config, field)
    engine = config.get("engine")
    if engine == "cel":
        return expression_problems(config.get("expression"), f"{field}.expression", boolean=True)
    if engine in FORMULA_ENGINES:
        return formula_problems(engine, config.get("expression"), f"{field}.expression")
    calculation = config.get("calculation")
    problems += calculators.check_calculation(calculation, f"{field}.calculation")
    problems += template_problems(calculation, f"{field}.calculation")
    return problems


class Predicate:
    """A compiled test. `value(scope)` is what it gives — true or false, except for
    NocoBase's math.js and formula.js, whose result is any value (each node reads it as
    NocoBase does); `holds(scope)` is that value's truth (JavaScript's)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.expression: Expression | None = None
        self.formula: Formula | None = None
        self.calculation: Template | None = None
        engine = config.get("engine")
        if engine == "cel":
            self.expression = compile_expression(config["expression"])
        elif engine in FORMULA_ENGINES:
            self.formula = compile_formula(engine, config["expression"])
        else:
            self.calculation = compile_template(config.get("calculation"), undefined=True)

    @property
    def instant(self) -> bool:
        """No sandbox round trip: nothing to time out."""
        return self.expression is None

    async def value(self, scope: Scope) -> Any:
        if self.expression is not None:
            return await self.expression.test(scope)
        if self.formula is not None:
            return self.formula.evaluate(scope)
        assert self.calculation is not None
        return calculators.evaluate(self.calculation.render(scope))

    async def holds(self, scope: Scope) -> bool:
        return js.truthy(await self.value(scope))


def number_problems(
    value: Any, field: str, *, minimum: float = 0, maximum: float | None = None
) -> list[Problem]:
    """A number in range, or a string that is a placeholder (checked when it renders)."""
    if isinstance(value, str):
        problems = template_problems(value, field)
        if not problems and compile_template(value).is_constant:
            problems.append(Problem(field, "must be a number or a {{$...}} placeholder"))
        return problems
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [Problem(field, "must be a number")]
    if value < minimum or (maximum is not None and value > maximum):
        top = f" to {maximum:g}" if maximum is not None else " or more"
        return [Problem(field, f"must be from {minimum:g}{top}")]
    return []


def pairs_problems(value: Any, field: str) -> list[Problem]:
    """Problems with a `[{name, value}]` list (request headers and params)."""
    if value is None:
        return []
    if not isinstance(value, list):
        return [Problem(field, "must be a list of {name, value}")]
    problems: list[Problem] = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            problems.append(Problem(where, "must be an object with a non-empty name and a value"))
            continue
        problems += template_problems(item.get("value", ""), f"{where}.value")
    return problems
