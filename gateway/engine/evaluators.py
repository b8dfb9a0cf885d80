"""NocoBase's expression engines by name, as condition and calculation nodes name them
(`engine: math.js`, `engine: formula.js`; docs/nocobase.md, Expression engines)."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import Problem, TemplateError
from gateway.engine import formulajs, mathjs
from gateway.engine.formulas import Dialect, Evaluator, Formula, parse_formula

ENGINES: dict[str, tuple[Dialect, Evaluator]] = {
    "math.js": (mathjs.DIALECT, mathjs.evaluate),
    "formula.js": (formulajs.DIALECT, formulajs.evaluate),
}


def compile_formula(engine: str, text: str) -> Formula:
    """`text` parsed in `engine`'s language; `FormulaInvalid` names what it cannot run."""
    dialect, evaluator = ENGINES[engine]
    return parse_formula(text, dialect, evaluator)


def formula_problems(engine: str, text: Any, field: str) -> list[Problem]:
    if not isinstance(text, str) or not text.strip():
        hint = "e.g. {{$context.body.n}} > 1"
        return [Problem(field, f"required: a {engine} expression", hint=hint)]
    try:
        compile_formula(engine, text)
    except TemplateError as exc:
        hint = f"docs/nocobase.md lists what the gateway's {engine} supports"
        return [Problem(field, f"{engine}: {exc}", hint=hint)]
    return []
