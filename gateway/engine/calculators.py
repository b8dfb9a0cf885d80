"""Basic calculators of condition nodes, with NocoBase's shape, names and semantics
(docs/nodes.md, Basic calculators; docs/nocobase.md, Calculators).

A calculation is a group or an item, nested to any depth:

    {"group": {"type": "and", "calculations": [
        {"calculator": "equal", "operands": ["{{$context.body.status}}", "paid"]},
        {"group": {"type": "or", "calculations": [...]}},
    ]}}

An empty or `None` calculation is true; an empty `and` group is true and an empty `or` group
false (JS `every` / `some`). Groups short-circuit. The names `==`, `!=`, `>`, `>=`, `<`, `<=`
are aliases, as NocoBase registers them.

Each calculator is NocoBase's own function, with JavaScript's semantics (`gateway.engine.js`):

- `equal` / `notEqual` are `a == b` / `a != b`: `"" == 0`, `"1" == 1`, `true == 1`,
  `null == undefined`; an Array or Object equals only itself.
- `gt`, `gte`, `lt`, `lte` are `>`, `>=`, `<`, `<=`: two strings compare as text
  (`"10" < "9"`), anything else as numbers (`null` is 0, a missing value NaN, so false).
- `includes` is `a.includes(b)`: a substring for text (`b` as text), an element for a list
  compared without conversion (`[1, 2]` does not include `"2"`).
- `startsWith`, `endsWith` are `String(a).startsWith(String(b))` (`10.0` reads `"10"`,
  `true` reads `"true"`, `[1, 2]` reads `"1,2"`).
- The `not…` ones negate their positive calculator.

Where JavaScript throws — `includes` on null, a missing value, a number or an object,
`startsWith`/`endsWith` with a null or missing operand — the node fails (ERROR) with the
error NocoBase's node reports.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from gateway.core.errors import NodeFailure, Problem
from gateway.engine import js

Calculator = Callable[[Any, Any], bool]

_GROUP_TYPES = ("and", "or")


def equal(a: Any, b: Any) -> bool:
    return js.loose_equal(a, b)


def not_equal(a: Any, b: Any) -> bool:
    return not js.loose_equal(a, b)


def gt(a: Any, b: Any) -> bool:
    return js.less_than(b, a) is True


def gte(a: Any, b: Any) -> bool:
    return js.less_than(a, b) is False


def lt(a: Any, b: Any) -> bool:
    return js.less_than(a, b) is True


def lte(a: Any, b: Any) -> bool:
    return js.less_than(b, a) is False


def _type_error(message: str) -> NodeFailure:
    return NodeFailure(f"TypeError: {message}")


def includes(a: Any, b: Any) -> bool:
    if js.is_nullish(a):
        raise _type_error(f"Cannot read properties of {js.type_of(a)} (reading 'includes')")
    if isinstance(a, str):
        return js.to_string(b) in a
    if isinstance(a, list):
        return any(js.same_value_zero(item, b) for item in a)
    raise _type_error("a.includes is not a function")


def not_includes(a: Any, b: Any) -> bool:
    return not includes(a, b)


def _texts(a: Any, b: Any) -> tuple[str, str]:
    for value in (a, b):
        if js.is_nullish(value):
            raise _type_error(f"Cannot read properties of {js.type_of(value)} (reading 'toString')")
    return js.to_string(a), js.to_string(b)


def starts_with(a: Any, b: Any) -> bool:
    text, prefix = _texts(a, b)
    return text.startswith(prefix)


def not_starts_with(a: Any, b: Any) -> bool:
    return not starts_with(a, b)


def ends_with(a: Any, b: Any) -> bool:
    text, suffix = _texts(a, b)
    return text.endswith(suffix)


def not_ends_with(a: Any, b: Any) -> bool:
    return not ends_with(a, b)


CALCULATORS: Mapping[str, Calculator] = MappingProxyType(
    {
        "equal": equal,
        "notEqual": not_equal,
        "gt": gt,
        "gte": gte,
        "lt": lt,
        "lte": lte,
        "includes": includes,
        "notIncludes": not_includes,
        "startsWith": starts_with,
        "notStartsWith": not_starts_with,
        "endsWith": ends_with,
        "notEndsWith": not_ends_with,
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
    `ValueError`. A calculator that JavaScript would throw on raises `NodeFailure`.
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
