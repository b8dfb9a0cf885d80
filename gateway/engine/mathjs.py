"""NocoBase's `math.js` engine (mathjs 15 as `@nocobase/evaluators` runs it), for numbers,
booleans, text and null (docs/nocobase.md, math.js).

What mathjs does with those, reproduced: every number is a double; text and booleans are
converted to numbers wherever a number is expected (`"12" + 1` is 13, `"abc" + 1` throws
`Cannot convert "abc" to a number`); `==`, `<`, `floor` and the like compare with a
relative tolerance of 1e-12 (`0.1 + 0.2 == 0.3` is true); `null` equals only `null`;
`and`/`or` short-circuit and give booleans; a condition `? :` takes text as true when it is
not empty. NocoBase then rounds a numeric result to 9 decimals (`math.round(x, 9)`) and
turns NaN and ±Infinity into null.

A list or object reaching an operator or function is a node error: mathjs would treat it
as a matrix, which the gateway does not do. So are complex results (`sqrt(-4)`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from gateway.core.errors import NodeFailure
from gateway.engine import formulas as f
from gateway.engine import js
from gateway.engine.paths import MISSING

REL_TOL = 1e-12
ABS_TOL = 1e-15
EPSILON_DIGITS = 12  # the exponent of REL_TOL: mathjs rounds to it before rounding further
_SPLIT = re.compile(r"(-?)(\d+\.?\d*)(e([+-]?\d+))?")


class MathError(NodeFailure):
    """What mathjs throws; the job ends ERROR with it."""


def nearly_equal(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return False
    if math.isinf(a) or math.isinf(b):
        return a == b
    return a == b or abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


def _split(value: float) -> tuple[str, list[int], int]:
    """mathjs' splitNumber: sign, significant digits and exponent of JavaScript's text."""
    match = _SPLIT.fullmatch(js.number_to_string(value).lower())
    assert match is not None
    sign, digits = match.group(1), match.group(2)
    exponent = int(match.group(4) or 0)
    dot = digits.find(".")
    exponent += dot - 1 if dot != -1 else len(digits) - 1
    raw = digits.replace(".", "")
    stripped = raw.lstrip("0")
    exponent -= len(raw) - len(stripped)
    stripped = stripped.rstrip("0")
    if not stripped:
        return sign, [0], exponent + 1
    return sign, [int(d) for d in stripped], exponent


def _round_digits(coefficients: list[int], exponent: int, precision: int) -> tuple[list[int], int]:
    """mathjs' roundDigits: half up on the decimal digits (so half away from zero)."""
    c = list(coefficients)
    while precision <= 0:
        c.insert(0, 0)
        exponent += 1
        precision += 1
    if len(c) > precision:
        removed = c[precision:]
        del c[precision:]
        if removed[0] >= 5:
            i = precision - 1
            c[i] += 1
            while c[i] == 10:
                c.pop()
                if i == 0:
                    c.insert(0, 0)
                    exponent += 1
                    i += 1
                i -= 1
                c[i] += 1
    return c, exponent


def _to_fixed(value: float, decimals: int) -> str:
    if math.isnan(value) or math.isinf(value):
        return js.number_to_string(value)
    sign, coefficients, exponent = _split(value)
    c, exponent = _round_digits(coefficients, exponent, exponent + 1 + decimals)
    p = exponent + 1
    wanted = p + decimals
    if len(c) < wanted:
        c += [0] * (wanted - len(c))
    if p < 0:
        c = [0] * (-p + 1) + c
        p = 1
    parts = [str(d) for d in c]
    if p < len(parts):
        parts.insert(p, "0." if p == 0 else ".")
    return sign + "".join(parts)


def round_number(value: float, decimals: int = 0) -> float:
    return float(_to_fixed(value, decimals))


def mround(value: float, decimals: int = 0) -> float:
    """mathjs `round(x, n)`: first to 12 digits when that is nearly the same number."""
    if decimals >= EPSILON_DIGITS:
        return round_number(value, decimals)
    rough = round_number(value, EPSILON_DIGITS)
    return round_number(rough if nearly_equal(value, rough) else value, decimals)


def _floor(x: float) -> float:
    return _integer(x, math.floor)


def _ceil(x: float) -> float:
    return _integer(x, math.ceil)


def _integer(x: float, towards: Callable[[float], int]) -> float:
    if math.isnan(x) or math.isinf(x):
        return x
    plain, rounded = float(towards(x)), mround(x)
    if plain != rounded and nearly_equal(x, rounded) and not nearly_equal(x, plain):
        return rounded
    return plain


# --- conversions --------------------------------------------------------------------------


def _structured(value: Any, where: str) -> MathError:
    kind = "a list" if isinstance(value, list) else "an object"
    return MathError(
        f"{where} got {kind}: mathjs would treat it as a matrix, which the gateway does not"
    )


def double(value: int | float) -> float:
    """A number as JavaScript holds it: an integer beyond a double is ±Infinity, as
    JSON.parse reads it."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def number(value: Any, where: str) -> float:
    """A value where mathjs wants a number: booleans and numeric text are converted."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return double(value)
    if isinstance(value, str):
        converted = js.string_to_number(value)
        if isinstance(converted, float) and math.isnan(converted):
            raise MathError(f'Cannot convert "{value}" to a number')
        return float(converted)
    if value is None or value is MISSING:
        raise MathError(f"Unexpected type of argument in function {where} (actual: null)")
    raise _structured(value, where)


def _text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    kind = "null" if js.is_nullish(value) else js.type_of(value)
    raise MathError(
        f"Unexpected type of argument in function {where} (expected: string, actual: {kind})"
    )


def _divide(a: float, b: float) -> float:
    if b == 0:
        return (
            math.nan
            if a == 0 or math.isnan(a)
            else math.copysign(math.inf, a) * math.copysign(1, b)
        )
    return a / b


def _pow(a: float, b: float) -> float:
    if a < 0 and not float(b).is_integer():
        raise MathError("the result would be a complex number, which the gateway does not support")
    if (a * a < 1 and b == math.inf) or (a * a > 1 and b == -math.inf):
        return 0.0
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf if a > 0 or float(b) % 2 == 0 else -math.inf
    except ValueError:
        return math.inf  # 0 ** negative


def _mod(a: float, b: float) -> float:
    return a if b == 0 else a - b * _floor(_divide(a, b))


def _equal(a: Any, b: Any) -> bool:
    if js.is_nullish(a) or js.is_nullish(b):
        return js.is_nullish(a) and js.is_nullish(b)
    return nearly_equal(number(a, "equal"), number(b, "equal"))


def _smaller(a: Any, b: Any, name: str = "smaller") -> bool:
    x, y = number(a, name), number(b, name)
    return x < y and not nearly_equal(x, y)


def _smaller_eq(a: Any, b: Any, name: str = "smallerEq") -> bool:
    x, y = number(a, name), number(b, name)
    return x <= y or nearly_equal(x, y)


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": _smaller,
    ">": lambda a, b: _smaller(b, a, "larger"),
    "<=": _smaller_eq,
    ">=": lambda a, b: _smaller_eq(b, a, "largerEq"),
}
ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": _mod,
    "mod": _mod,
    "^": _pow,
}
NAMES = {
    "+": "add",
    "-": "subtract",
    "*": "multiply",
    "/": "divide",
    "%": "mod",
    "mod": "mod",
    "^": "pow",
}


def _truth(value: Any) -> bool:
    """A value as a condition (`? :`): text is true when not empty, null false."""
    if js.is_nullish(value):
        return False
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, bool | int | float):
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    raise MathError(
        f'Unsupported type of condition "{"Array" if isinstance(value, list) else "Object"}"'
    )


# --- functions ------------------------------------------------------------------------------


def _round(*args: Any) -> float:
    if len(args) == 1:
        return mround(number(args[0], "round"))
    x, n = number(args[0], "round"), number(args[1], "round")
    if not n.is_integer() or not 0 <= n <= 15:
        raise MathError(
            "Number of decimals in function round must be an integer from 0 to 15 inclusive"
        )
    return mround(x, int(n))


def _flat(items: list[Any]) -> list[Any]:
    return [x for item in items for x in (_flat(item) if isinstance(item, list) else [item])]


def _operands(name: str, args: tuple[Any, ...]) -> list[float]:
    """The numbers of `name(a, b, …)`, or of `name(list)`: one list of any depth counts
    as its elements, as mathjs reads a matrix; a list among other arguments is refused."""
    if len(args) == 1 and isinstance(args[0], list):
        items = _flat(args[0])
        if not items and name != "sum":
            raise MathError(f"Cannot calculate {name}, empty value")
        return [number(item, name) for item in items]
    if not args:
        raise MathError(f"Too few arguments in function {name}")
    return [number(arg, name) for arg in args]


def _aggregate(name: str, combine: Callable[[list[float]], float]) -> Callable[..., float]:
    def aggregate(*args: Any) -> float:
        values = _operands(name, args)
        return math.nan if any(math.isnan(v) for v in values) else combine(values)

    return aggregate


def _sqrt(x: Any) -> float:
    value = number(x, "sqrt")
    if value < 0:
        raise MathError("the result would be a complex number, which the gateway does not support")
    return math.sqrt(value)


def _log(*args: Any) -> float:
    x = number(args[0], "log")
    if x < 0:
        raise MathError("the result would be a complex number, which the gateway does not support")
    value = math.log(x) if x > 0 else -math.inf
    if len(args) == 2:
        base = number(args[1], "log")
        return _divide(value, math.log(base) if base > 0 else -math.inf)
    return value


def _compare_text(a: Any, b: Any) -> float:
    x, y = _text(a, "compareText"), _text(b, "compareText")
    bx, by = x.encode("utf-16-be"), y.encode("utf-16-be")
    return 1.0 if bx > by else -1.0 if bx < by else 0.0


FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[int, int]]] = {
    "abs": (lambda x: abs(number(x, "abs")), (1, 1)),
    "ceil": (lambda x: _ceil(number(x, "ceil")), (1, 1)),
    "floor": (lambda x: _floor(number(x, "floor")), (1, 1)),
    "round": (_round, (1, 2)),
    "max": (_aggregate("max", max), (0, 255)),
    "min": (_aggregate("min", min), (0, 255)),
    "sum": (_aggregate("sum", math.fsum), (0, 255)),
    "mean": (_aggregate("mean", lambda values: math.fsum(values) / len(values)), (0, 255)),
    "sqrt": (_sqrt, (1, 1)),
    "pow": (lambda x, y: _pow(number(x, "pow"), number(y, "pow")), (2, 2)),
    "exp": (lambda x: _exp(number(x, "exp")), (1, 1)),
    "log": (_log, (1, 2)),
    "log10": (lambda x: _divide(_log(x), math.log(10)), (1, 1)),
    "sign": (lambda x: float((v := number(x, "sign")) > 0) - float(v < 0), (1, 1)),
    "mod": (lambda x, y: _mod(number(x, "mod"), number(y, "mod")), (2, 2)),
    "equalText": (lambda a, b: _compare_text(a, b) == 0, (2, 2)),
    "compareText": (_compare_text, (2, 2)),
}


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


# --- evaluation -------------------------------------------------------------------------


def _evaluate(node: f.Node, values: tuple[Any, ...]) -> Any:
    if isinstance(node, f.Const):
        return node.value
    if isinstance(node, f.Var):
        value = values[node.index]
        return None if value is MISSING else value
    if isinstance(node, f.Unary):
        return _unary(node.op, _evaluate(node.operand, values))
    if isinstance(node, f.Binary):
        return _binary(node, values)
    if isinstance(node, f.Chain):
        operands = [_evaluate(node.operands[0], values)]
        for op, operand in zip(node.ops, node.operands[1:], strict=True):
            operands.append(_evaluate(operand, values))
            if not COMPARE[op](operands[-2], operands[-1]):
                return False
        return True
    if isinstance(node, f.Cond):
        test = _truth(_evaluate(node.test, values))
        return _evaluate(node.then if test else node.otherwise, values)
    if isinstance(node, f.Call):
        function, (low, high) = FUNCTIONS[node.name]
        if not low <= len(node.args) <= high:
            raise MathError(f"wrong number of arguments to {node.name}: {len(node.args)}")
        return function(*(_evaluate(a, values) for a in node.args))
    raise MathError(f"unsupported expression {node!r}")


def _unary(op: str, value: Any) -> Any:
    if op == "not":
        return True if js.is_nullish(value) else not number(value, "not")
    result = number(value, "unaryMinus" if op == "-" else "unaryPlus")
    return -result if op == "-" else result


def _binary(node: f.Binary, values: tuple[Any, ...]) -> Any:
    op = node.op
    left = _evaluate(node.left, values)
    if op == "and":
        return bool(number(left, "and")) and bool(number(_evaluate(node.right, values), "and"))
    if op == "or":
        return bool(number(left, "or")) or bool(number(_evaluate(node.right, values), "or"))
    if op == "??":
        return _evaluate(node.right, values) if js.is_nullish(left) else left
    right = _evaluate(node.right, values)
    if op == "xor":
        return bool(number(left, "xor")) != bool(number(right, "xor"))
    if op in COMPARE:
        return COMPARE[op](left, right)
    name = NAMES[op]
    return ARITHMETIC[op](number(left, name), number(right, name))


def finish(value: Any) -> Any:
    """NocoBase's last step: NaN and ±Infinity are null, other numbers rounded to 9
    decimals (`math.round(x, 9)`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    value = double(value)
    if math.isnan(value) or math.isinf(value):
        return None
    rounded = mround(value, 9)
    return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded


def evaluate(tree: f.Node, values: tuple[Any, ...]) -> Any:
    try:
        return finish(_evaluate(tree, values))
    except RecursionError:
        raise MathError("the expression is nested too deeply") from None
    except (ArithmeticError, ValueError) as exc:  # a number beyond a double, say
        raise MathError(f"math.js: {exc}") from None


DIALECT = f.Dialect(
    name=f.MATHJS,
    symbols=tuple("== != <= >= ?? + - * / % ^ < > ? : ( ) , ! ' [ ] .".split()),  # longest first
    words=frozenset({"and", "or", "xor", "not", "mod"}),
    binary={
        "or": (2, False),
        "xor": (3, False),
        "and": (4, False),
        **{op: (5, False) for op in ("==", "!=", "<", ">", "<=", ">=")},
        "+": (6, False),
        "-": (6, False),
        "*": (7, False),
        "/": (7, False),
        "%": (7, False),
        "mod": (7, False),
    },
    unary=frozenset({"-", "+", "not"}),
    power="^",
    functions=frozenset(FUNCTIONS),
    constants={"true": True, "false": False, "null": None},
    chains=frozenset({"==", "!=", "<", ">", "<=", ">="}),
)
