"""CEL expressions: placeholders bound as typed variables, save-time problems, and bounds."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gateway.core.errors import NodeFailure, TemplateError
from gateway.engine import sandbox
from gateway.engine.expressions import compile_expression, expression_problems

BODY = {
    "amount": 1250,
    "price": 2.5,
    "currency": "EUR",
    "tags": ["vip", "new"],
    "customer": {"email": "a@example.com", "name": "x' || true || '"},
    "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
    "missing": None,
    "when": "2024-01-01T00:00:00Z",
}
SCOPE = {"$context": {"body": BODY}, "$jobsMapByNodeKey": {"total": 42}, "$scopes": {}}


@pytest.mark.parametrize(
    ("text", "program"),
    [
        # each placeholder becomes an identifier of the same length
        ("{{$context.body.amount}} > 1", "_v0_____________________ > 1"),
        (
            "{{ $context.body.a }} + {{$context.body.a}}",
            "_v0__________________ + _v1________________",
        ),
        # quoted path keys do not start a CEL string literal
        ('{{$context.body["a.b"]}} == 1', "_v0_____________________ == 1"),
        # placeholders next to string literals, which stay as they are
        ("'id-' + {{$context.body.id}}", "'id-' + _v0_________________"),
        ('"{{x}}" + string({{$context.body.n}})', '"{{x}}" + string(_v0________________)'),
        # braces without `$` are CEL (a map literal)
        ("{'a': {'b': 1}}.a.b == 1", "{'a': {'b': 1}}.a.b == 1"),
    ],
)
def test_placeholders_become_variables(text: str, program: str) -> None:
    assert compile_expression(text).program == program


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount > 1", "undeclared reference to 'amount'"),  # request data needs a placeholder
        ("1 +", "Syntax error"),
        ("1 + 1.0", "no matching overload"),  # CEL does not mix int and double
        ("{{$nope.a}} == 1", "unknown root '$nope'"),
        ("{{$context.body[}} == 1", "bad placeholder"),
        ("'x-{{$context.body.id}}'", "inside the string literal"),  # would never be replaced
        ("r'{{$context.a}}' + 'b'", "inside the string literal"),
        # host objects do not exist in CEL
        ("__import__('os').system('id')", "undeclared reference to '__import__'"),
        ("type({{$context.body}}).__subclasses__()", "undeclared reference"),
        ("'''a {{$context.a}}'''", "inside the string literal"),
        ("1 == " + "1 + " * 2000 + "1", "longer than 4096"),
        ("(" * 100 + "1" + ")" * 100, "recursion limit"),  # deep nesting stops at the parser
    ],
)
def test_bad_expressions_are_refused_at_save(text: str, message: str) -> None:
    [problem] = expression_problems(text, "nodes[calc].config.expression")
    assert problem.field == "nodes[calc].config.expression"
    assert message in problem.message
    with pytest.raises(TemplateError):
        compile_expression(text)


@pytest.mark.parametrize(
    ("value", "boolean", "problem"),
    [
        (None, False, "required"),  # missing
        ("  ", False, "required"),  # blank
        (5, False, "required"),  # not text
        ("1 + 2", True, "gives int, not true or false"),  # a condition needs a bool
        ("{{$context.body.flag}}", True, None),  # dyn: checked when it runs
        ("{{$context.body.n}} > 1", True, None),
    ],
)
def test_expression_problems(value: Any, boolean: bool, problem: str | None) -> None:
    problems = expression_problems(value, "f", boolean=boolean)
    assert [p.message for p in problems if problem and problem in p.message] == (
        [p.message for p in problems] if problem else []
    )
    assert bool(problems) == bool(problem)


def test_the_undeclared_reference_hint_names_placeholders() -> None:
    [problem] = expression_problems("body.amount > 1", "f")
    assert problem.hint is not None and "{{$context.body.field}}" in problem.hint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{$context.body.amount}} > 1000", True),
        ("{{$context.body.amount}} * 2", 2500),  # ints stay ints
        ("{{$context.body.price}} * 2.0", 5.0),
        ("{{$context.body.amount}} > {{$context.body.price}}", True),  # int vs double compare
        ("{{$context.body.currency}} in ['EUR', 'USD']", True),
        ("{{$context.body.tags}}.exists(t, t == 'vip')", True),
        ("{{$context.body.items}}.map(i, i.qty * 2)", [4, 2]),
        ("{{$context.body.items}}.filter(i, i.qty > 1).map(i, i.sku)", ["A-1"]),
        ("size({{$context.body.tags}})", 2),
        ("{{$context.body.missing}} == null", True),
        ("has({{$context.body.customer}}.email)", True),
        ("{{$jobsMapByNodeKey.total}} + 1", 43),
        # a value that looks like CEL is data, never code
        ("{{$context.body.customer.name}}", "x' || true || '"),
        ("{{$context.body.customer.name}} == 'x'", False),
        # the string and math extensions
        ("{{$context.body.currency}}.lowerAscii()", "eur"),
        ("math.greatest([1, 5, 3])", 5),
        # results as JSON: timestamps as RFC 3339 text, durations in seconds, bytes base64
        ("timestamp({{$context.body.when}}) + duration('1h')", "2024-01-01T01:00:00Z"),
        ("duration('90m')", "5400s"),
        ("b'hi'", "aGk="),
        ("{1: 'a'}", {"1": "a"}),
    ],
)
async def test_evaluation(text: str, expected: Any) -> None:
    assert await compile_expression(text).evaluate(SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{$context.body.currency}} * 2", "No matching overloads"),
        ("{{$context.body.customer}}.phone", "Key not found"),
        ("1 / ({{$context.body.amount}} - 1250)", "divide by zero"),
        ("9223372036854775807 + {{$context.body.amount}}", "overflow"),
    ],
)
async def test_evaluation_errors_are_node_failures(text: str, message: str) -> None:
    with pytest.raises(NodeFailure, match=message):
        await compile_expression(text).evaluate(SCOPE)


async def test_errors_name_the_placeholder_not_the_variable() -> None:
    with pytest.raises(NodeFailure) as info:
        await compile_expression("{{$context.body.customer}}.phone.size()").evaluate(SCOPE)
    assert "_v0" not in str(info.value)


async def test_a_condition_must_give_a_bool() -> None:
    with pytest.raises(NodeFailure, match="not true or false"):
        await compile_expression("{{$context.body.amount}}").test(SCOPE)


L10 = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"


def nested_maps(depth: int) -> str:
    text = "0"
    for level in range(depth):
        text = f"{L10}.map(v{level}, {text})"
    return text


def grown(levels: int) -> str:
    """A string that grows 50-fold per level: 16 * 50**5 bytes (5 GB) at five levels."""
    text = "'aaaaaaaaaaaaaaaa'"
    for _ in range(levels):
        text = f"[{text}].map(t, [{', '.join(['t'] * 50)}].join())[0]"
    return f"size({text})"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # no attribute of a host object is reachable: a map has keys, nothing else
        ("{{$context.body}}.__class__", "Key not found"),
        # CPU: six nested maps over ten items (10^6 steps)
        (nested_maps(6), "budget exceeded"),
        # CPU: a comprehension over a large list is quadratic in CEL implementations
        ("{{$context.body}}.map(x, x)", "longer than|memory"),
        # memory: a string multiplied level after level
        (grown(5), "memory|longer than"),
    ],
)
async def test_hostile_expressions_end_as_a_clean_node_error(text: str, message: str) -> None:
    scope = SCOPE
    if text.startswith("{{$context.body}}.map"):
        scope = {"$context": {"body": list(range(9_000))}}
    expression = compile_expression(text)
    started = time.monotonic()
    with pytest.raises(NodeFailure, match=message):
        await expression.evaluate(scope)
    assert time.monotonic() - started < sandbox.TIME_LIMIT + 4  # incl. a worker restart
    assert await compile_expression("1 + 1").evaluate({}) == 2  # the sandbox still serves


async def test_oversized_input_is_refused_before_evaluation() -> None:
    scope = {"$context": {"body": "x" * (sandbox.MAX_INPUT + 1)}}
    with pytest.raises(NodeFailure, match="larger than"):
        await compile_expression("size({{$context.body}})").evaluate(scope)


async def test_oversized_result_is_refused() -> None:
    scope = {"$context": {"body": "x" * 600_000}}
    with pytest.raises(NodeFailure, match="too large"):
        await compile_expression("{{$context.body}} + {{$context.body}}").evaluate(scope)
