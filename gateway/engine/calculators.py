"""Basic calculators of condition nodes, with NocoBase's shape and names (docs/nodes.md,
Basic calculators).

A calculation is a group or an item, nested to any depth:

    {"group": {"type": "and", "calculations": [
        {"calculator": "equal", "operands": ["{{$context.body.status}}", "paid"]},
        {"group": {"type": "or", "calculations": [...]}},
    ]}}

An empty or `None` calculation is true; an empty `and` group is true and an empty `or` group
false (JS `every` / `some`). Groups short-circuit. The names `==`, `!=`, `>`, `>=`, `<`, `<=`
are aliases, as NocoBase registers them.

Semantics follow NocoBase's JS but stay predictable in Python, and no calculator raises:

- `equal` is loose where webhooks need it. A number and a numeric string compare as numbers
  (`1` equals `"1"` and `"1.0"`); a bool and the string `"true"`/`"false"` (exactly, lower
  case) compare as bools; `None` equals only `None`; a bool never equals a number (`true` is
  not `1`). Two strings compare as text (`"1"` is not `"1.0"`, as in JS). Lists and dicts
  compare structurally, element by element with this same rule, so `[1]` equals `["1"]`
  and does not equal `[true]`. Everything else uses Python `==`.
- A numeric string is decimal text as JSON writes it, optionally signed and surrounded by
  whitespace (`" -1.5e3 "`); not `""`, hex, `1_000`, `nan` or `inf`.
- `gt`, `gte`, `lt`, `lte` compare numerically when one operand is a number and the other a
  number or numeric string, and as text when both are strings (so `"10" < "9"`, as in JS:
  coerce with a parse rule `type` to compare query values as numbers). Anything else
  (`None`, bools, lists, dicts, a number and a non-numeric string) is false.
- `includes`: a string contains the other operand's text, a list contains an element
  `equal` to it, a dict has it as a key; anything else is false.
- `startsWith`, `endsWith`: on text only; a number operand is turned into text with `str()`
  (`1.5` → `"1.5"`); bools, `None` and containers make it false.
- `notIncludes`, `notStartsWith`, `notEndsWith` negate their positive calculator, except
  that they are false when the first operand is `None`: a missing field neither includes
  nor "not includes" anything. `notEqual` is the plain negation of `equal`, so a missing
  field is not equal to `"paid"` (JS `!=`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from gateway.core.errors import Problem

Calculator = Callable[[Any, Any], bool]

_NUMERIC = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
_BOOL_TEXT = {"true": True, "false": False}
_GROUP_TYPES = ("and", "or")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> int | float | None:
    """A number, or a numeric string's value (exact for integers); `None` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if not isinstance(value, str) or not _NUMERIC.fullmatch(value):
        return None
    try:
        return int(value)
    except ValueError:
        return float(value)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return _BOOL_TEXT.get(value) if isinstance(value, str) else None


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return str(value) if _is_number(value) else None


def equal(a: Any, b: Any) -> bool:
    """Loose equality; see the module docstring."""
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        left = _as_bool(a)
        return left is not None and left == _as_bool(b)
    if _is_number(a) or _is_number(b):
        x, y = _number(a), _number(b)
        return x is not None and y is not None and x == y
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(equal, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[key], b[key]) for key in a)
    return bool(a == b)


def _ordered(a: Any, b: Any) -> tuple[Any, Any] | None:
    """The operands as a comparable pair, or `None` when they do not compare."""
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    if _is_number(a) or _is_number(b):
        x, y = _number(a), _number(b)
        if x is not None and y is not None:
            return x, y
    return None


def gt(a: Any, b: Any) -> bool:
    pair = _ordered(a, b)
    return pair is not None and bool(pair[0] > pair[1])


def gte(a: Any, b: Any) -> bool:
    pair = _ordered(a, b)
    return pair is not None and bool(pair[0] >= pair[1])


def lt(a: Any, b: Any) -> bool:
    pair = _ordered(a, b)
    return pair is not None and bool(pair[0] < pair[1])


def lte(a: Any, b: Any) -> bool:
    pair = _ordered(a, b)
    return pair is not None and bool(pair[0] <= pair[1])


def includes(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return any(equal(item, b) for item in a)
    needle = _as_text(b)
    if needle is None:
        return False
    if isinstance(a, str):
        return needle in a
    return isinstance(a, dict) and needle in a


def starts_with(a: Any, b: Any) -> bool:
    text, prefix = _as_text(a), _as_text(b)
    return text is not None and prefix is not None and text.startswith(prefix)


def ends_with(a: Any, b: Any) -> bool:
    text, suffix = _as_text(a), _as_text(b)
    return text is not None and suffix is not None and text.endswith(suffix)


def not_equal(a: Any, b: Any) -> bool:
    return not equal(a, b)


def _negation(positive: Calculator) -> Calculator:
    def negative(a: Any, b: Any) -> bool:
        # A missing field is not "not including": both are false.
        return a is not None and not positive(a, b)

    return negative


CALCULATORS: Mapping[str, Calculator] = MappingProxyType(
    {
        "equal": equal,
        "notEqual": not_equal,
        "gt": gt,
        "gte": gte,
        "lt": lt,
        "lte": lte,
        "includes": includes,
        "notIncludes": _negation(includes),
        "startsWith": starts_with,
        "notStartsWith": _negation(starts_with),
        "endsWith": ends_with,
        "notEndsWith": _negation(ends_with),
        "==": equal,
        "!=": not_equal,
        ">": gt,
        ">=": gte,
        "<": lt,
        "<=": lte,
    }
)


def evaluate(calculation: Any) -> bool:
    """The truth of a calculation whose operands are already rendered.

    The calculation must have passed `check_calculation`; a malformed one raises
    `ValueError`.
    """
    if not calculation:
        return True
    return _evaluate(calculation)


def _evaluate(node: Any) -> bool:
    if not isinstance(node, dict):
        raise ValueError(f"a calculation must be an object, not {node!r}")
    group = node.get("group")
    if isinstance(group, dict):
        combine = all if group.get("type") == "and" else any
        return combine(_evaluate(item) for item in group.get("calculations") or [])
    calculator = CALCULATORS.get(str(node.get("calculator")))
    operands = node.get("operands")
    if calculator is None or not isinstance(operands, list) or len(operands) != 2:
        raise ValueError(f"malformed calculation {node!r}")
    return calculator(operands[0], operands[1])


def check_calculation(calculation: Any, field: str) -> list[Problem]:
    """Every problem of a calculation's shape, each located under `field`.

    `field` is the dotted location of the calculation (`nodes.paid.config.calculation`);
    problems name deeper places such as `...calculation.group.calculations[1].calculator`.
    `None` and `{}` are valid (always true).
    """
    if calculation is None or calculation == {}:
        return []
    return _check(calculation, field)


def _check(node: Any, field: str) -> list[Problem]:
    if not isinstance(node, dict):
        return [Problem(field, f"must be an object, not {_kind(node)}")]
    if "group" in node:
        return _check_group(node["group"], f"{field}.group")
    return _check_item(node, field)


def _check_group(group: Any, field: str) -> list[Problem]:
    if not isinstance(group, dict):
        return [Problem(field, f"must be an object, not {_kind(group)}")]
    problems: list[Problem] = []
    if group.get("type") not in _GROUP_TYPES:
        problems.append(
            Problem(f"{field}.type", f"must be 'and' or 'or', not {group.get('type')!r}")
        )
    calculations = group.get("calculations")
    if not isinstance(calculations, list):
        message = f"must be a list, not {_kind(calculations)}"
        return [*problems, Problem(f"{field}.calculations", message)]
    for index, item in enumerate(calculations):
        problems.extend(_check(item, f"{field}.calculations[{index}]"))
    return problems


def _check_item(item: dict[str, Any], field: str) -> list[Problem]:
    problems: list[Problem] = []
    name = item.get("calculator")
    if not isinstance(name, str) or name not in CALCULATORS:
        problems.append(_unknown_calculator(name, f"{field}.calculator"))
    operands = item.get("operands")
    if not isinstance(operands, list) or len(operands) != 2:
        shape = f"a list of {len(operands)}" if isinstance(operands, list) else _kind(operands)
        problems.append(Problem(f"{field}.operands", f"must be a list of 2 operands, not {shape}"))
    return problems


def _unknown_calculator(name: Any, field: str) -> Problem:
    valid = ", ".join(CALCULATORS)
    close = difflib.get_close_matches(name, CALCULATORS, n=1) if isinstance(name, str) else []
    hint = f"did you mean {close[0]!r}? valid: {valid}" if close else f"valid: {valid}"
    message = "is missing" if name is None else f"unknown calculator {name!r}"
    return Problem(field, message, hint=hint)


def _kind(value: Any) -> str:
    """A value's JSON type name, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else f"a {type(value).__name__}"
