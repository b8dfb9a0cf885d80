"""NocoBase's `formula.js` engine: a JavaScript expression with the @formulajs/formulajs
functions in scope (docs/nocobase.md, formula.js).

The part of JavaScript a condition or a calculation uses, with JavaScript's own semantics
(`gateway.engine.js`): literals, `+ - * / % **`, `== != === !==`, `< > <= >=`, `&& || ??`,
`!`, `? :`, parentheses and `.length`; and the spreadsheet functions IF, AND, OR, NOT,
ROUND, ABS, SUM, MAX, MIN, CONCATENATE, LEN, UPPER, LOWER and TRIM, each ported from
formulajs 4.4.9 (the version NocoBase pins). NocoBase then rounds a numeric result to 9
decimals and turns NaN and ±Infinity into null.

formulajs answers a bad argument with an error *value* (`#VALUE!`) rather than throwing;
NocoBase goes on with it (it reads as `{}` and is truthy). The gateway ends the node ERROR
with that error's name instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from gateway.core.errors import NodeFailure
from gateway.engine import formulas as f
from gateway.engine import js
from gateway.engine.mathjs import finish
from gateway.engine.paths import MISSING

_SPACE_CLASS = "[" + re.escape(js.WHITESPACE) + "]"
_SPACES = re.compile(_SPACE_CLASS + "+")
_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
MAX_SAFE = 2**53


class FormulaError(NodeFailure):
    """A formulajs error value (`#VALUE!`), or what JavaScript throws."""


def strict_equal(a: Any, b: Any) -> bool:
    if js.type_of(a) != js.type_of(b):
        return False
    if isinstance(a, list | dict):
        return a is b
    return bool(a == b)


def _number(value: int | float) -> int | float:
    """JavaScript numbers are doubles: integers past 2**53 become floats."""
    if isinstance(value, int) and abs(value) > MAX_SAFE:
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return value


def _divide(a: int | float, b: int | float) -> int | float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def _remainder(a: int | float, b: int | float) -> int | float:
    if b == 0 or math.isnan(a) or math.isnan(b) or math.isinf(a):
        return math.nan
    if math.isinf(b):
        return a
    result = math.fmod(a, b)
    return int(result) if isinstance(a, int) and isinstance(b, int) else result


def _power(a: int | float, b: int | float) -> int | float:
    if math.isnan(b) or (abs(a) == 1 and math.isinf(b)):
        return math.nan
    try:
        result = math.pow(a, b)
    except OverflowError:
        return math.inf if a > 0 or float(b) % 2 == 0 else -math.inf
    except ValueError:
        return math.inf if a == 0 else math.nan
    exact = isinstance(a, int) and isinstance(b, int) and result.is_integer()
    return int(result) if exact and abs(result) <= MAX_SAFE else result


def _add(a: Any, b: Any) -> Any:
    x, y = js.to_primitive(a), js.to_primitive(b)
    if isinstance(x, str) or isinstance(y, str):
        return js.to_string(x) + js.to_string(y)
    return _number(js.to_number(x) + js.to_number(y))


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": _add,
    "-": lambda a, b: _number(js.to_number(a) - js.to_number(b)),
    "*": lambda a, b: _number(js.to_number(a) * js.to_number(b)),
    "/": lambda a, b: _divide(js.to_number(a), js.to_number(b)),
    "%": lambda a, b: _remainder(js.to_number(a), js.to_number(b)),
    "**": lambda a, b: _power(js.to_number(a), js.to_number(b)),
    "==": js.loose_equal,
    "!=": lambda a, b: not js.loose_equal(a, b),
    "===": strict_equal,
    "!==": lambda a, b: not strict_equal(a, b),
    "<": lambda a, b: js.less_than(a, b) is True,
    ">": lambda a, b: js.less_than(b, a) is True,
    "<=": lambda a, b: js.less_than(b, a) is False,
    ">=": lambda a, b: js.less_than(a, b) is False,
}


# --- formulajs helpers and functions ------------------------------------------------------

VALUE = "#VALUE!"


def _error(name: str, code: str) -> FormulaError:
    return FormulaError(
        f"formula.js: {name} gave the error value {code} (NocoBase would go on with it as"
        " an empty object; the gateway stops here)"
    )


def parse_float(text: str) -> float:
    """JavaScript's `parseFloat`: the longest number at the start, else NaN."""
    match = _FLOAT_PREFIX.match(text.lstrip(js.WHITESPACE))
    return float(match.group(0)) if match else math.nan


def _parse_number(value: Any, name: str) -> float:
    """formulajs' parseNumber: null is 0, booleans numbers, numeric text parsed."""
    if js.is_nullish(value):
        return 0.0
    if isinstance(value, bool):
        return float(value)
    converted = js.to_number(value)
    if (isinstance(converted, float) and math.isnan(converted)) or value == "":
        raise _error(name, VALUE)
    return parse_float(js.to_string(value))


def _flatten(values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(_flatten(value))
        else:
            out.append(value)
    return out


def _parse_string(value: Any) -> str:
    return "" if js.is_nullish(value) else js.to_string(value)


def IF(*args: Any) -> Any:
    test = args[0] if args else MISSING
    when_true = args[1] if len(args) >= 2 else True
    when_false = args[2] if len(args) == 3 else False
    when_true = 0 if js.is_nullish(when_true) else when_true
    when_false = 0 if js.is_nullish(when_false) else when_false
    return when_true if js.truthy(test) else when_false


def _logic(name: str, empty: bool, decide: Callable[[bool, bool], bool]) -> Callable[..., bool]:
    def logic(*args: Any) -> bool:
        result: bool | None = None
        for value in _flatten(args):
            if js.is_nullish(value) or isinstance(value, str):
                continue
            result = decide(empty if result is None else result, js.truthy(value))
        if result is None:
            raise _error(name, VALUE)
        return result

    return logic


def _first(args: tuple[Any, ...], index: int = 0) -> Any:
    return args[index] if len(args) > index else MISSING


def NOT(*args: Any) -> bool:
    value = _first(args)
    if isinstance(value, str):
        raise _error("NOT", VALUE)
    return not js.truthy(value)


def _js_round(value: float) -> float:
    """`Math.round`: the nearest integer, halves up."""
    if math.isnan(value) or math.isinf(value):
        return value
    down = math.floor(value)
    return float(down + 1 if value - down >= 0.5 else down)


def ROUND(*args: Any) -> Any:
    x, n = _parse_number(_first(args), "ROUND"), _parse_number(_first(args, 1), "ROUND")
    shifted = js.string_to_number(f"{js.to_string(x)}e{js.to_string(n)}")
    rounded = _js_round(float(shifted))
    return js.string_to_number(f"{js.to_string(rounded)}e{js.to_string(-n + 0.0)}")


def ABS(*args: Any) -> float:
    return abs(_parse_number(_first(args), "ABS"))


def SUM(*args: Any) -> Any:
    total: int | float = 0
    for value in args:
        if isinstance(value, int | float) and not isinstance(value, bool):
            total += value
        elif isinstance(value, str):
            parsed = parse_float(value)
            if not math.isnan(parsed):
                total += parsed
        elif isinstance(value, list):
            total += SUM(*value)
    return _number(total)


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def extreme(*args: Any) -> Any:
        numbers = [
            v for v in _flatten(args) if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if not numbers:
            return 0
        return math.nan if any(math.isnan(v) for v in numbers) else pick(numbers)

    return extreme


def CONCATENATE(*args: Any) -> str:
    texts = []
    for value in _flatten(args):
        if value is True or value is False:
            texts.append("TRUE" if value else "FALSE")
        else:
            texts.append("" if js.is_nullish(value) else js.to_string(value))
    return "".join(texts)


def LEN(*args: Any) -> int:
    if not args:
        raise _error("LEN", "#ERROR!")
    if isinstance(args[0], list):
        raise _error("LEN", VALUE)
    return len(_parse_string(args[0]).encode("utf-16-le")) // 2


def LOWER(*args: Any) -> str:
    if len(args) != 1:
        raise _error("LOWER", VALUE)
    return _parse_string(args[0]).lower()


def UPPER(*args: Any) -> str:
    return _parse_string(_first(args)).upper()


def TRIM(*args: Any) -> str:
    return _SPACES.sub(" ", _parse_string(_first(args))).strip(js.WHITESPACE)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "IF": IF,
    "AND": _logic("AND", True, lambda result, item: result and item),
    "OR": _logic("OR", False, lambda result, item: result or item),
    "NOT": NOT,
    "ROUND": ROUND,
    "ABS": ABS,
    "SUM": SUM,
    "MAX": _extreme(max),
    "MIN": _extreme(min),
    "CONCATENATE": CONCATENATE,
    "LEN": LEN,
    "LOWER": LOWER,
    "UPPER": UPPER,
    "TRIM": TRIM,
}


# --- evaluation -------------------------------------------------------------------------


def _evaluate(node: f.Node, values: tuple[Any, ...]) -> Any:
    if isinstance(node, f.Const):
        return node.value
    if isinstance(node, f.Var):
        value = values[node.index]
        return None if value is MISSING else value  # NocoBase binds `get(...) ?? null`
    if isinstance(node, f.Unary):
        value = _evaluate(node.operand, values)
        if node.op == "!":
            return not js.truthy(value)
        number = js.to_number(value)
        return -number if node.op == "-" else number
    if isinstance(node, f.Binary):
        return _binary(node, values)
    if isinstance(node, f.Cond):
        test = js.truthy(_evaluate(node.test, values))
        return _evaluate(node.then if test else node.otherwise, values)
    if isinstance(node, f.Length):
        return _length(_evaluate(node.operand, values))
    if isinstance(node, f.Call):
        return FUNCTIONS[node.name](*(_evaluate(a, values) for a in node.args))
    raise FormulaError(f"unsupported expression {node!r}")


def _binary(node: f.Binary, values: tuple[Any, ...]) -> Any:
    left = _evaluate(node.left, values)
    if node.op == "&&":
        return _evaluate(node.right, values) if js.truthy(left) else left
    if node.op == "||":
        return left if js.truthy(left) else _evaluate(node.right, values)
    if node.op == "??":
        return _evaluate(node.right, values) if js.is_nullish(left) else left
    return ARITHMETIC[node.op](left, _evaluate(node.right, values))


def _length(value: Any) -> Any:
    if js.is_nullish(value):
        raise FormulaError(
            f"TypeError: Cannot read properties of {js.type_of(value)} (reading 'length')"
        )
    if isinstance(value, str):
        return len(value.encode("utf-16-le")) // 2
    if isinstance(value, list):
        return len(value)
    return value.get("length") if isinstance(value, dict) else None


def evaluate(tree: f.Node, values: tuple[Any, ...]) -> Any:
    try:
        result = _evaluate(tree, values)
    except RecursionError:
        raise FormulaError("the expression is nested too deeply") from None
    except (ArithmeticError, ValueError) as exc:  # a number beyond a double, say
        raise FormulaError(f"formula.js: {exc}") from None
    return None if result is MISSING else finish(result)


DIALECT = f.Dialect(
    name=f.FORMULAJS,
    symbols=tuple(
        "=== !== == != <= >= && || ?? ** + - * / % < > ! ? : ( ) , . [ ] '".split()
    ),  # longest first
    words=frozenset(),
    binary={
        "??": (1, False),
        "||": (2, False),
        "&&": (3, False),
        **{op: (6, False) for op in ("==", "!=", "===", "!==")},
        **{op: (7, False) for op in ("<", ">", "<=", ">=")},
        "+": (9, False),
        "-": (9, False),
        "*": (10, False),
        "/": (10, False),
        "%": (10, False),
    },
    unary=frozenset({"!", "-", "+"}),
    power="**",
    functions=frozenset(FUNCTIONS),
    constants={
        "true": True,
        "false": False,
        "null": None,
        "undefined": MISSING,
        "NaN": math.nan,
        "Infinity": math.inf,
    },
    chains=frozenset(),
)
