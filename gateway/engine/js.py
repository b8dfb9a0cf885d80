"""JavaScript's value semantics over JSON values, as NocoBase's calculators and templates
apply them (docs/nocobase.md): `==`, `<`, `String(x)`, `Number(x)`, `Array.includes`.

JSON values map to JavaScript's types: `None` is `null`, `MISSING` (a path that leads
nowhere) is `undefined`, bool is boolean, int and float are number, str is string, list is
an Array and dict an Object. Integers stay exact (JavaScript would round those beyond 2⁵³
when it parses JSON; an order id is worth more than that fidelity); everything else
follows the ECMAScript algorithms:

    loose_equal("", 0)        is True     # "" → 0
    loose_equal("1", [1])     is True     # [1] → "1"
    less_than("10", "9")      is True     # two strings compare as text
    to_string(10.0)           == "10"
    to_string([1, [2, None]]) == "1,2,"
    same_value_zero(1, "1")   is False    # what Array.prototype.includes uses
"""

from __future__ import annotations

import math
import re
from typing import Any

from gateway.engine.paths import MISSING

# StrWhiteSpaceChar: WhiteSpace and LineTerminator.
WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RADIX = {"0x": 16, "0o": 8, "0b": 2}
_RADIX_DIGITS = {16: re.compile(r"[0-9a-fA-F]+"), 8: re.compile(r"[0-7]+"), 2: re.compile(r"[01]+")}


def type_of(value: Any) -> str:
    """JavaScript's `typeof`, with `null`, `array` told apart from `object`."""
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def is_nullish(value: Any) -> bool:
    return value is None or value is MISSING


def string_to_number(text: str) -> int | float:
    """`Number(text)`: decimal (with exponent), 0x/0o/0b, `Infinity`; "" and spaces are 0;
    anything else NaN."""
    text = text.strip(WHITESPACE)
    if not text:
        return 0.0
    if text in ("Infinity", "+Infinity", "-Infinity"):
        return -math.inf if text[0] == "-" else math.inf
    radix = _RADIX.get(text[:2].lower())
    if radix is not None:
        digits = text[2:]
        return float(int(digits, radix)) if _RADIX_DIGITS[radix].fullmatch(digits) else math.nan
    if not _DECIMAL.fullmatch(text):
        return math.nan
    if text.lstrip("+-").isdigit():
        return int(text)  # exact, as the integers of JSON bodies are kept
    return float(text)


def to_primitive(value: Any) -> Any:
    """An Array or Object as its text (`[1, 2]` → `"1,2"`, `{}` → `"[object Object]"`)."""
    return to_string(value) if isinstance(value, list | dict) else value


def to_number(value: Any) -> int | float:
    """`Number(value)`: null → 0, undefined → NaN, true → 1, text parsed, objects through
    their text. Integers are kept exact."""
    if value is MISSING:
        return math.nan
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return string_to_number(value)
    return to_number(to_primitive(value))


def number_to_string(number: int | float) -> str:
    """`String(number)`: `10.0` → `"10"`, `1e21` → `"1e+21"`, `1.5e-7` → `"1.5e-7"`,
    `0.000001` → `"0.000001"` (shortest digits that read back, placed as ECMAScript says)."""
    if isinstance(number, int):
        if abs(number) < 10**21:
            return str(number)
        try:
            number = float(number)
        except OverflowError:  # beyond a double: JavaScript's JSON.parse gives Infinity
            return "Infinity" if number > 0 else "-Infinity"
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    digits, point = _shortest(abs(number))
    return sign + _place(digits, point)


def _shortest(number: float) -> tuple[str, int]:
    """(digits, n) with number = 0.digits * 10**n, the digits the shortest that read back."""
    mantissa, _, exponent = repr(number).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    stripped = raw.lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(raw) - len(stripped))
    return stripped.rstrip("0"), point


def _place(digits: str, n: int) -> str:
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    exponent = f"e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return digits + exponent if k == 1 else f"{digits[0]}.{digits[1:]}{exponent}"


def to_string(value: Any) -> str:
    """`String(value)`; an Array's items joined with `,` (null and undefined as nothing),
    an Object as `[object Object]`."""
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if is_nullish(item) else to_string(item) for item in value)
    return "[object Object]"


def loose_equal(a: Any, b: Any) -> bool:
    """`a == b` (IsLooselyEqual). Arrays and Objects equal only themselves (the same
    value); null and undefined equal each other and nothing else."""
    if is_nullish(a) or is_nullish(b):
        return is_nullish(a) and is_nullish(b)
    ta, tb = type_of(a), type_of(b)
    if ta in ("array", "object") or tb in ("array", "object"):
        if ta in ("array", "object") and tb in ("array", "object"):
            return a is b
        return loose_equal(to_primitive(a), to_primitive(b))
    if ta == tb:
        return bool(a == b)
    if ta == "boolean":
        return loose_equal(to_number(a), b)
    if tb == "boolean":
        return loose_equal(a, to_number(b))
    return bool(to_number(a) == to_number(b))  # a number and a string


def less_than(a: Any, b: Any) -> bool | None:
    """`a < b` (IsLessThan): True, False, or None for undefined (a NaN on either side)."""
    x, y = to_primitive(a), to_primitive(b)
    if isinstance(x, str) and isinstance(y, str):
        # JavaScript compares UTF-16 code units; big-endian UTF-16 bytes sort the same way.
        return x.encode("utf-16-be") < y.encode("utf-16-be")
    nx, ny = to_number(x), to_number(y)
    if _nan(nx) or _nan(ny):
        return None
    return bool(nx < ny)


def _nan(number: int | float) -> bool:
    return isinstance(number, float) and math.isnan(number)


def same_value_zero(a: Any, b: Any) -> bool:
    """What `Array.prototype.includes` compares with: no conversions, NaN equals NaN."""
    ta, tb = type_of(a), type_of(b)
    if ta != tb:
        return False
    if ta == "number" and _nan(a) and _nan(b):
        return True
    if ta in ("array", "object"):
        return a is b
    return bool(a == b)


def truthy(value: Any) -> bool:
    """`Boolean(value)`: false for null, undefined, false, 0, NaN and ""; true for every
    other value, empty lists and objects included."""
    if is_nullish(value) or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True
