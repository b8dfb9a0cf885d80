"""NocoBase's expression engines, math.js and formula.js (docs/nocobase.md, Expression
engines): every case is also evaluated by NocoBase's own `@nocobase/evaluators`, so each
table is NocoBase's behaviour; and what the gateway does not run is refused when saved."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gateway.core.errors import NodeFailure, TemplateError
from gateway.engine.evaluators import compile_formula
from tests import reference

ERROR = "error"  # NocoBase's engine throws (or formula.js returns an error value): node ERROR
SCOPE: dict[str, Any] = {
    "$context": {
        "body": {
            "n": 5,
            "price": 19.99,
            "text": "abc",
            "numeric": "12",
            "empty": "",
            "yes": True,
            "none": None,
            "items": [1, 2, 3],
            "words": ["1", "2"],
            "order": {"total": 120, "lines": [{"qty": 2}, {"qty": 3}]},
        }
    }
}
B = "$context.body"

MATHJS: list[tuple[str, Any]] = [
    (f"{{{{{B}.n}}}} + 1", 6),  # numbers
    (f"{{{{{B}.price}}}} * 3", 59.97),  # rounded to 9 decimals afterwards (59.970000000000006)
    ("0.1 + 0.2 == 0.3", True),  # equality with mathjs' tolerance
    ("1 / 3", 0.333333333),  # 9 decimals
    ("1 / 0", None),  # Infinity is null
    (f"{{{{{B}.numeric}}}} + 1", 13),  # numeric text is converted
    (f"{{{{{B}.text}}}} + 1", ERROR),  # other text throws
    (f'{{{{{B}.text}}}} == "abc"', ERROR),  # even for ==: mathjs compares numbers
    (f'equalText({{{{{B}.text}}}}, "abc")', True),  # text is compared with equalText
    (f"{{{{{B}.yes}}}} + 1", 2),  # true is 1
    (f"{{{{{B}.none}}}} == null", True),  # null equals null
    (f"{{{{{B}.none}}}} == 0", False),  # and nothing else
    (f"{{{{{B}.none}}}} + 1", ERROR),  # no arithmetic on null
    (f"{{{{{B}.missing}}}} == null", True),  # a missing value is null
    (f"{{{{{B}.empty}}}} == 0", True),  # "" is 0
    ("-7 mod 3", 2),  # mod takes the divisor's sign
    ("-7 % 3", 2),
    ("7 mod 0", 7),  # mod 0 is the number itself
    ("-2 ^ 2", -4),  # ^ binds tighter than unary minus
    ("2 ^ 3 ^ 2", 512),  # right-associative
    ("2 ^ -1", 0.5),
    (f"{{{{{B}.n}}}} > 3 and {{{{{B}.price}}}} < 20", True),
    (f"{{{{{B}.n}}}} > 9 or {{{{{B}.yes}}}}", True),
    (f"false and {{{{{B}.none}}}} + 1", False),  # and/or short-circuit
    ("true xor true", False),
    (f"not {{{{{B}.empty}}}}", True),
    (f"not {{{{{B}.none}}}}", True),
    ("1 < 2 < 3", True),  # comparisons chain
    ("3 > 2 > 2", False),
    (f'{{{{{B}.n}}}} > 3 ? "big" : "small"', "big"),
    (f"{{{{{B}.text}}}} ? 1 : 2", 1),  # text is true when not empty
    (f"{{{{{B}.empty}}}} ? 1 : 2", 2),
    (f"{{{{{B}.none}}}} ?? 7", 7),
    (f"{{{{{B}.n}}}}", 5),  # a value alone
    (f"{{{{{B}.order}}}}", {"total": 120, "lines": [{"qty": 2}, {"qty": 3}]}),  # any value
    (f"{{{{{B}.order.lines.qty}}}}", [2, 3]),  # paths map over lists (NocoBase)
    (f"sum({{{{{B}.order.lines.qty}}}})", 5),  # sum, min, max, mean of a list
    (f"max({{{{{B}.items}}}})", 3),
    (f"mean({{{{{B}.words}}}})", 1.5),  # numeric text in a list too
    ("max(1, 9, 3)", 9),
    ("round(2.675, 2)", 2.68),  # half away from zero, on the decimal digits
    ("round(-2.5)", -3),
    ("round(1.0000000000001)", 1),
    ("floor(0.1 * 3 * 10)", 3),  # floor and ceil with the tolerance
    ("ceil(2.0000000000001)", 2),
    ("abs(-3)", 3),
    ("sqrt(16)", 4),
    ("log(100, 10)", 2),
    ("sign(-3)", -1),
    ('compareText("b", "a")', 1),
    ("round(2.5, 16)", ERROR),  # decimals out of range
    ("min()", ERROR),
    ("sqrt(-4)", ERROR),  # a complex number: the gateway stops (NocoBase returns one)
]

FORMULAJS: list[tuple[str, Any]] = [
    (f"{{{{{B}.n}}}} + 1", 6),
    (f"{{{{{B}.numeric}}}} + 1", "121"),  # JavaScript: text + number is text
    (f"{{{{{B}.numeric}}}} * 2", 24),  # other operators convert to numbers
    (f'{{{{{B}.n}}}} == "5"', True),  # loose equality
    (f'{{{{{B}.n}}}} === "5"', False),  # strict equality
    (f'{{{{{B}.n}}}} > 3 && {{{{{B}.text}}}} === "abc"', True),
    (f'{{{{{B}.none}}}} || "default"', "default"),  # && and || give an operand
    (f"{{{{{B}.none}}}} ?? 0", 0),
    (f"{{{{{B}.missing}}}} === null", True),  # NocoBase binds a missing value as null
    (f"{{{{{B}.text}}}}.length", 3),
    (f"{{{{{B}.items}}}}.length", 3),
    (f"{{{{{B}.none}}}}.length", ERROR),  # TypeError
    (f"!{{{{{B}.empty}}}}", True),
    ("10 / 3", 3.333333333),  # 9 decimals
    ("0 / 0", None),  # NaN is null
    ("-7 % 3", -1),  # JavaScript's remainder takes the dividend's sign
    ("2 ** 10", 1024),
    (f'IF({{{{{B}.n}}}} > 3, "big", "small")', "big"),
    (f'IF({{{{{B}.n}}}} > 10, "big")', False),  # no third argument: false
    ("IF(false, 1, null)", 0),  # null branches are 0
    ('AND(true, 1, "x")', True),  # text is skipped
    ('AND("x")', ERROR),  # nothing left: #VALUE!
    ("OR(false, 0)", False),
    ("NOT(0)", True),
    ('NOT("a")', ERROR),
    ("ROUND(2.675, 2)", 2.68),
    ("ROUND(-2.5, 0)", -2),  # Math.round: halves up
    ('ROUND("1.25", 1)', 1.3),
    ('ROUND("abc", 1)', ERROR),
    ('ABS("-3")', 3),
    (f'SUM(1, "2", true, {{{{{B}.items}}}}, null)', 9),  # booleans and null skipped
    ('MAX(1, "9", 3)', 3),  # MAX ignores text
    ("MAX()", 0),
    (f"MIN({{{{{B}.items}}}}, -1)", -1),
    (f'CONCATENATE("a", 1, true, null, {{{{{B}.items}}}})', "a1TRUE123"),
    ('LEN("héllo")', 5),
    (f"LEN({{{{{B}.items}}}})", ERROR),
    ('UPPER("abc")', "ABC"),
    ("LOWER(1.5)", "1.5"),
    ('TRIM("  a   b  ")', "a b"),
    ("0.1 + 0.2", 0.3),  # rounded to 9 decimals
]


def evaluate(engine: str, expression: str) -> Any:
    try:
        return compile_formula(engine, expression).evaluate(SCOPE)
    except NodeFailure:
        return ERROR


def nocobase_results(engine: str, cases: list[tuple[str, Any]]) -> list[Any]:
    tasks = [
        {"kind": "evaluate", "engine": engine, "expression": e, "scope": SCOPE} for e, _ in cases
    ]
    return [
        ERROR if "error" in r or "returnedError" in r else r["value"] for r in reference.run(tasks)
    ]


@pytest.fixture(scope="module")
def nocobase_mathjs() -> list[Any]:
    return nocobase_results("math.js", MATHJS)


@pytest.fixture(scope="module")
def nocobase_formulajs() -> list[Any]:
    return nocobase_results("formula.js", FORMULAJS)


# Where the gateway stops and NocoBase goes on, on purpose (docs/nocobase.md).
COMPLEX = {"sqrt(-4)"}


@pytest.mark.parametrize(("index", "case"), list(enumerate(MATHJS)))
def test_mathjs_answers_as_nocobase(
    nocobase_mathjs: list[Any], index: int, case: tuple[str, Any]
) -> None:
    expression, expected = case
    if expression not in COMPLEX:
        assert nocobase_mathjs[index] == expected  # the table is NocoBase's behaviour
    assert evaluate("math.js", expression) == expected


@pytest.mark.parametrize(("index", "case"), list(enumerate(FORMULAJS)))
def test_formulajs_answers_as_nocobase(
    nocobase_formulajs: list[Any], index: int, case: tuple[str, Any]
) -> None:
    expression, expected = case
    assert nocobase_formulajs[index] == expected
    assert evaluate("formula.js", expression) == expected


def test_a_formulajs_error_value_names_itself() -> None:
    with pytest.raises(NodeFailure, match=r"ROUND gave the error value #VALUE!"):
        compile_formula("formula.js", 'ROUND("abc", 1)').evaluate(SCOPE)


@pytest.mark.parametrize(
    ("engine", "expression", "message"),
    [
        ("math.js", "5!", "factorial is not supported"),  # mathjs syntax the gateway lacks
        ("math.js", "2x", "implicit multiplication"),
        ("math.js", "50%", "percentage"),
        ("math.js", "[1, 2]", "list literals"),  # matrices
        ("math.js", f"{{{{{B}.order}}}}.total", "property access"),
        ("math.js", "size([1])", "the function size is not supported"),
        ("math.js", "amount > 1", "'amount' is not a value"),  # a name, not a placeholder
        ("math.js", "1 +", "expected a value"),
        ("formula.js", "Math.round(1.5)", "'Math' is not a value"),
        ("formula.js", "VLOOKUP(1, 2, 3)", "the function VLOOKUP is not supported"),
        ("formula.js", f"{{{{{B}.text}}}}.toUpperCase()", "only .length"),
        ("formula.js", "-2 ** 2", "needs parentheses"),  # a SyntaxError in JavaScript too
        ("formula.js", "[1] + 1", "list literals"),  # array literals
        ("formula.js", "'a\\q'", "escape"),
        ("formula.js", "2 ^ 3", "unexpected"),  # not JavaScript's power
        ("formula.js", "(" * 70 + "1" + ")" * 70, "nested deeper"),
    ],
)
def test_what_the_gateway_cannot_run_is_refused_at_save(
    engine: str, expression: str, message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        compile_formula(engine, expression)


def random_cases(seed: int, engine: str, count: int) -> list[str]:
    """Arithmetic, comparisons and functions over awkward numbers and texts."""
    rng = random.Random(seed)
    texts = ['""', '" "', '"12"', '"0x1f"', '"1e3"', '"abc"', '"-3.5"', '" 7 "', '"1,2"']
    if engine == "math.js":
        texts = ['"12"', '"1e3"', '"-3.5"', '" 7 "', "true", "false"]
        ops = ["+", "-", "*", "/", "%", "mod", "==", "!=", "<", ">=", "and", "or", "xor"]
        functions = ["round", "floor", "ceil", "abs", "sqrt", "exp", "sign"]
    else:
        ops = ["+", "-", "*", "/", "%", "==", "!=", "===", "<", ">=", "&&", "||", "??"]
        functions = ["ROUND", "ABS", "SUM", "MAX", "MIN", "CONCATENATE", "LEN", "NOT", "AND"]
        texts += ["null", "true", "NaN"]

    def value() -> str:
        kind = rng.random()
        if kind < 0.3:
            return str(rng.randint(-1000, 1000))
        if kind < 0.55:
            return repr(round(rng.uniform(-1000, 1000), rng.randint(0, 12)))
        if kind < 0.7:
            return repr(rng.uniform(-1, 1) * 10 ** rng.randint(-12, 15))
        return rng.choice([*texts, "0.1", "0.2", "2.675", "1.005", "5e-10"])

    cases = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.6:
            cases.append(f"({value()}) {rng.choice(ops)} ({value()})")
        elif kind < 0.8:
            cases.append(f"{rng.choice(functions)}({value()})")
        else:
            cases.append(
                f"round({value()}, {rng.randint(0, 10)})"
                if engine == "math.js"
                else f"ROUND({value()}, {rng.randint(0, 10)})"
            )
    return cases


def is_complex(value: Any) -> bool:
    """mathjs' complex results, which the gateway refuses (a node error) on purpose."""
    return isinstance(value, dict) and value.get("mathjs") == "Complex"


def same(mine: Any, theirs: Any) -> bool:
    if isinstance(mine, float) and isinstance(theirs, int | float) and not isinstance(theirs, bool):
        return mine == float(theirs)
    return bool(mine == theirs)


@pytest.mark.parametrize("engine", ["math.js", "formula.js"])
def test_a_thousand_random_expressions_agree_with_nocobase(engine: str) -> None:
    cases = random_cases(26, engine, 1000)
    theirs = nocobase_results(engine, [(c, None) for c in cases])
    mine = [evaluate(engine, case) for case in cases]
    differ = [
        (case, ours, other)
        for case, ours, other in zip(cases, mine, theirs, strict=True)
        if not same(ours, other) and not is_complex(other)
    ]
    assert differ == []


@pytest.mark.parametrize(
    ("engine", "expression"),
    [("math.js", "{{$context.v}} + 1"), ("formula.js", "{{$context.v}} * 2")],
)
def test_an_integer_beyond_a_double_is_infinity_as_json_parse_reads_it(
    engine: str, expression: str
) -> None:
    # JavaScript's JSON.parse reads 1e400 as Infinity, which NocoBase's engines return as null.
    assert compile_formula(engine, expression).evaluate({"$context": {"v": 10**400}}) is None
