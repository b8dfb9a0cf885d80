"""CEL expressions with templates bound as typed variables, never spliced as text
(docs/expressions.md).

Each `{{ $path }}` placeholder in an expression becomes a CEL variable of the value's own
type (`dyn`): the text is rewritten with an identifier of the same length in its place, the
placeholder is compiled as a template, and at run time the template's value is bound to
that identifier. A request value can therefore never change the program:

    compile_expression("{{$context.body.amount}} > 100 && {{$context.body.tags}}.size() > 0")
    # program: "_v0_____________________ > 100 && _v1___________________.size() > 0"

Keeping the length keeps the columns of CEL's error messages true to what the user wrote.
A placeholder inside a CEL string literal would not be replaced, so it is refused: write
`'order-' + {{$context.body.id}}`.

Expressions are checked when a workflow is saved (`expression_problems`: syntax, types,
unknown names, the result type where a node needs a bool) and evaluated in the sandbox
(`gateway.engine.sandbox`), which bounds time, memory, input and result size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gateway.core.errors import NodeFailure, Problem, TemplateError
from gateway.core.types import Scope
from gateway.engine import sandbox
from gateway.engine.sandbox_worker import clean, new_env
from gateway.engine.templates import Template, compile_template

MAX_LENGTH = 4096
MAX_PLACEHOLDERS = 100
_PLACEHOLDER = re.compile(r"\{\{\s*(?:ctx\.)?\$[^{}]*?\s*\}\}")
_STRING_PREFIX = re.compile(r"(?<![A-Za-z0-9_])([rRbB]{1,2})$")


class ExpressionInvalid(TemplateError):
    """Expression text that cannot be compiled; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression: the CEL `program` and the templates bound to its variables."""

    source: str
    program: str
    variables: tuple[tuple[str, Template], ...]

    def bind(self, scope: Scope) -> dict[str, Any]:
        return {name: template.render(scope) for name, template in self.variables}

    async def evaluate(self, scope: Scope) -> Any:
        """The expression's value in `scope`; `NodeFailure` when evaluation fails."""
        try:
            return await sandbox.evaluate(self.program, self.bind(scope))
        except NodeFailure as exc:
            raise NodeFailure(self._restore(str(exc))) from None

    async def test(self, scope: Scope) -> bool:
        """The value of an expression that must be true or false (conditions)."""
        value = await self.evaluate(scope)
        if not isinstance(value, bool):
            raise NodeFailure(f"expression gave {_describe(value)}, not true or false")
        return value

    def _restore(self, message: str) -> str:
        """A message about the program, with the placeholders the user wrote put back."""
        for name, template in self.variables:
            message = message.replace(name, str(template.source))
        return message


def compile_expression(text: str) -> Expression:
    """Rewrite and compile `text`; raises `ExpressionInvalid` (see `expression_problems`)."""
    if len(text) > MAX_LENGTH:
        raise ExpressionInvalid(f"longer than {MAX_LENGTH} characters")
    program, variables = _rewrite(text)
    expression = Expression(text, program, tuple(variables))
    try:
        new_env([name for name, _ in variables]).compile(program)
    except RuntimeError as exc:
        raise ExpressionInvalid(expression._restore(clean(str(exc)))) from exc
    return expression


def expression_problems(value: Any, field: str, *, boolean: bool = False) -> list[Problem]:
    """Problems with an expression config value: not text, too long, a bad placeholder,
    a CEL syntax or type error, or (with `boolean`) a result that cannot be true/false."""
    if not isinstance(value, str) or not value.strip():
        return [Problem(field, "required: a CEL expression", hint="e.g. {{$context.body.n}} > 1")]
    try:
        expression = compile_expression(value)
    except TemplateError as exc:
        return [Problem(field, f"invalid expression: {exc}", hint=_hint(str(exc)))]
    if boolean:
        kind = _result_type(expression)
        if kind not in ("bool", "dyn", "error"):
            return [Problem(field, f"the expression gives {kind}, not true or false")]
    return []


def _rewrite(text: str) -> tuple[str, list[tuple[str, Template]]]:
    """The program text with each placeholder replaced by a same-length identifier."""
    out: list[str] = []
    variables: list[tuple[str, Template]] = []
    pos = 0
    while pos < len(text):
        match = _PLACEHOLDER.match(text, pos)
        if match:
            out.append(_bind(match.group(0), variables))
            pos = match.end()
        elif text[pos] in "'\"":
            end = _literal_end(text, pos)
            literal = text[pos:end]
            if _PLACEHOLDER.search(literal):
                raise ExpressionInvalid(
                    f"a placeholder inside the string literal {literal} is not replaced;"
                    " join it instead: 'text' + {{$...}}"
                )
            out.append(literal)
            pos = end
        else:
            out.append(text[pos])
            pos += 1
    return "".join(out), variables


def _bind(placeholder: str, variables: list[tuple[str, Template]]) -> str:
    if len(variables) >= MAX_PLACEHOLDERS:
        raise ExpressionInvalid(f"more than {MAX_PLACEHOLDERS} placeholders")
    template = compile_template(placeholder)  # TemplateError names a bad path or root
    name = f"_v{len(variables)}".ljust(len(placeholder), "_")
    variables.append((name, template))
    return name


def _literal_end(text: str, start: int) -> int:
    """Where the CEL string literal opening at `start` ends (after its closing quote)."""
    raw = "r" in (m.group(1).lower() if (m := _STRING_PREFIX.search(text[:start])) else "")
    quote = text[start] * 3 if text.startswith(text[start] * 3, start) else text[start]
    pos = start + len(quote)
    while pos < len(text) and not text.startswith(quote, pos):
        pos += 2 if text[pos] == "\\" and not raw else 1
    return min(pos + len(quote), len(text))


def _result_type(expression: Expression) -> str:
    env = new_env([name for name, _ in expression.variables])
    return str(env.compile(expression.program).return_type().name()).lower()


def _hint(message: str) -> str | None:
    if "undeclared reference" in message:
        return "request data and node results are placeholders: {{$context.body.field}}"
    return None


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
