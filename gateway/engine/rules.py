"""Parse rules: which request values a workflow uses, and what they must look like.

A rule names a `source` (headers, query, body) and a path (`key`). At run time it may
require the value (`required`), coerce and check its type (`type`), and copy it to
`$context.<source>.<var>` (`var`, NocoBase's `_var`). All rules are checked and every
failing one is reported, so the caller gets one 400 listing them all.

Coercion applies to strings in every source (query and header values are always strings,
form bodies too): `"12"` → 12 for integer, `"1.5"` → 1.5 for number, `"true"`/`"1"`/`"yes"`
→ True for boolean; numbers and booleans become text for string; JSON text becomes its
value for json (Slack's and GitHub's `payload=<JSON>` forms; with the empty key, a whole
body sent as `text/plain`). A coerced value replaces the original in the parsed data, so
`$context.query.page`, `{{$context.body.payload.type}}` and the rule's `var` agree. The
`json` rules run first, so the other rules may read into what they parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.core.errors import Rejected
from gateway.engine.paths import Segment, assign, parse_path, resolve
from gateway.engine.requests import parse_json

SOURCES = ("headers", "query", "body")
TYPES = ("string", "number", "integer", "boolean", "object", "array", "json")
# How a failing rule names what it expected.
EXPECTED = {"json": "JSON text"}
DEFAULT_JSON_DEPTH = 64
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class _Mismatch(Exception):
    pass


def _to_json(value: Any, depth_limit: int = DEFAULT_JSON_DEPTH) -> Any:
    """JSON text → its value; a value that is already structured (or a number) is kept."""
    if not isinstance(value, str):
        return value
    try:
        return parse_json(value.encode(), depth_limit)
    except Rejected:
        raise _Mismatch from None


def _to_string(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise _Mismatch


def _to_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise _Mismatch
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        match = _NUMBER.fullmatch(text)
        if match is None:
            raise _Mismatch
        if match.group(1) is None and match.group(2) is None:
            return int(text)  # exact, however many digits
        number = float(text)
        if number in (float("inf"), float("-inf")):
            raise _Mismatch
        return int(number) if number.is_integer() and match.group(1) is None else number
    raise _Mismatch


def _to_integer(value: Any) -> Any:
    number = _to_number(value)
    if isinstance(number, float):
        if not number.is_integer():
            raise _Mismatch
        return int(number)
    return number


def _to_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Mismatch


def _expect(kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise _Mismatch
        return value

    return check


COERCE: Mapping[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "number": _to_number,
    "integer": _to_integer,
    "boolean": _to_boolean,
    "object": _expect(dict),
    "array": _expect(list),
    "json": _to_json,
}


@dataclass(frozen=True, slots=True)
class Rule:
    source: str
    key: str
    path: tuple[Segment, ...]
    var: str | None = None
    required: bool = False
    type: str | None = None


def compile_rules(request: Mapping[str, Any] | None) -> tuple[Rule, ...]:
    """Rules from a trigger's `request` block: `{headers: [...], query: [...], body: [...]}`,
    the `json` ones first (shallower paths first) so that others can read into them."""
    rules: list[Rule] = []
    for source in SOURCES:
        for item in (request or {}).get(source) or []:
            key = str(item["key"]).lower() if source == "headers" else str(item["key"])
            rules.append(
                Rule(
                    source=source,
                    key=key,
                    path=parse_path(key),
                    var=item.get("var") or None,
                    required=bool(item.get("required", False)),
                    type=item.get("type") or None,
                )
            )
    parsing = sorted((r for r in rules if r.type == "json"), key=lambda r: len(r.path))
    return (*parsing, *(r for r in rules if r.type != "json"))


def named_headers(rules: Iterable[Rule]) -> frozenset[str]:
    """Header names that rules ask for explicitly (these may include `authorization`)."""
    return frozenset(str(r.path[0]) for r in rules if r.source == "headers" and r.path)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _write_back(
    container: dict[str, Any] | list[Any], path: tuple[Segment, ...], value: Any
) -> None:
    if isinstance(container, dict):
        assign(container, path, value)
        return
    holder = {"": container}  # `assign` starts from a dict; lists are wrapped for it
    assign(holder, ("", *path), value)


def _coerce(rule: Rule, value: Any, json_depth: int) -> Any:
    if rule.type == "json":
        return _to_json(value, json_depth)
    return COERCE[str(rule.type)](value)


def apply_rules(
    rules: Iterable[Rule], data: dict[str, Any], json_depth: int = DEFAULT_JSON_DEPTH
) -> list[dict[str, Any]]:
    """Check, coerce and alias values in `data` (`{headers, query, body}`), in place.

    Returns one problem per failing rule (`source`, `key`, `message`); empty when all pass.
    """
    problems: list[dict[str, Any]] = []
    for rule in rules:
        container = data.get(rule.source)
        value = resolve(container, rule.path)
        if value is None:
            if rule.required:
                problems.append({"source": rule.source, "key": rule.key, "message": "required"})
            continue
        if rule.type is not None:
            try:
                coerced = _coerce(rule, value, json_depth)
            except _Mismatch:
                expected = EXPECTED.get(rule.type, rule.type)
                message = f"expected {expected}, got {_describe(value)}"
                problems.append({"source": rule.source, "key": rule.key, "message": message})
                continue
            if coerced is not value:
                if not rule.path:
                    data[rule.source] = container = coerced
                elif isinstance(container, dict | list):
                    _write_back(container, rule.path, coerced)
            value = coerced
        if rule.var and isinstance(container, dict):
            container[rule.var] = value
    return problems
