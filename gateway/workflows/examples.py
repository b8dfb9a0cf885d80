"""parseExample: every path in a pasted example request part, ready to be saved as parse
rules (docs/webhooks.md, parseExample).

The example is parsed exactly as a webhook call's part is (the same functions), and paths are
written with `format_path`, so a rule saved with a returned path resolves at run time to the
returned example value:

    parse_example("body", '{"a": 1, "b": {"c": [true]}}')
    → a (number, 1), b (object), b.c (array), b.c[0] (boolean, true)

Paths come depth first, parents before children. Each also gets a suggested parse-rule
`type` (`rule_type`): the JSON type for JSON values (`integer` for whole numbers); for the
text of query and header values, `integer`, `number` or `boolean` when the text reads as
one (`"12"`, `"1.5"`, `"true"`), else `string`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gateway.core.errors import DefinitionInvalid, Problem, Rejected
from gateway.engine.paths import Segment, format_path
from gateway.engine.requests import parse_body, parse_headers, parse_query

MAX_PATHS = 2000
FIELD = "example"
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_START_LINE = re.compile(r"^(?:[A-Z]+ \S+ HTTP/\d(?:\.\d)?|HTTP/\d(?:\.\d)? \d{3}.*)$")


@dataclass(frozen=True)
class ExamplePath:
    path: str
    type: str  # JSON type: string number boolean object array null
    example: Any
    rule_type: str | None  # a parse-rule type to suggest; None for null


def _bad(message: str, hint: str | None = None) -> DefinitionInvalid:
    return DefinitionInvalid([Problem(FIELD, message, hint=hint)])


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "string"


def json_rule_type(value: Any) -> str | None:
    kind = json_type(value)
    if kind == "number" and (isinstance(value, int) or float(value).is_integer()):
        return "integer"
    return None if kind == "null" else kind


def text_rule_type(value: Any) -> str | None:
    """For query and header values, which are text: what the text reads as."""
    if not isinstance(value, str):
        return json_rule_type(value)
    text = value.strip()
    if _INTEGER.fullmatch(text):
        return "integer"
    if _NUMBER.fullmatch(text):
        return "number"
    return "boolean" if text.lower() in ("true", "false") else "string"


def _query(text: str, limit: int) -> Any:
    text = text.strip()
    if "?" in text:
        text = text.split("?", 1)[1]
    elif "://" in text or text.startswith("/"):
        raise _bad("the URL has no query string", hint="e.g. https://example.com/hook?a=1")
    text = text.split("#", 1)[0]
    if not text:
        raise _bad("the example has no query string", hint="paste a URL, ?a=1&b=2 or a=1&b=2")
    return parse_query(text.encode())


def _body(text: str, limit: int) -> Any:
    if not text.strip():
        raise _bad("the example is empty", hint='paste a JSON body such as {"id": 1}')
    try:
        value = parse_body("application/json", text.encode(), limit)
    except Rejected as exc:
        raise _bad(exc.message.replace("the body", "the example", 1)) from exc
    if not isinstance(value, dict | list):
        raise _bad(
            f"the example is a JSON {json_type(value)}: a body example must be an object "
            "or an array, whose fields become parse rules"
        )
    return value


def _header_pairs(text: str) -> Iterator[tuple[bytes, bytes]]:
    lines = [line.strip() for line in text.splitlines()]
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith(":") or (number == 1 and _START_LINE.match(line)):
            continue  # blank, HTTP/2 pseudo-headers, a request or status line
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name.strip()):
            raise _bad(f"line {number} is not a header: expected 'Name: value'")
        try:
            yield name.strip().encode("ascii"), value.strip().encode("latin-1")
        except UnicodeEncodeError as exc:
            raise _bad(f"line {number}: header values are Latin-1 text") from exc


def _headers(text: str, limit: int) -> Any:
    pairs = list(_header_pairs(text))
    if not pairs:
        raise _bad("the example has no headers", hint="one 'Name: value' per line")
    names = frozenset(name.decode().lower() for name, _ in pairs)
    visible, _ = parse_headers(pairs, names)
    return visible


_READERS: dict[str, Callable[[str, int], Any]] = {
    "query": _query,
    "body": _body,
    "headers": _headers,
}


def _walk(value: Any, prefix: tuple[Segment, ...], textual: bool) -> Iterator[ExamplePath]:
    items: Any = value.items() if isinstance(value, dict) else enumerate(value)
    suggest = text_rule_type if textual else json_rule_type
    for key, child in items:
        path = (*prefix, key)
        yield ExamplePath(format_path(path), json_type(child), child, suggest(child))
        if isinstance(child, dict | list):
            yield from _walk(child, path, textual)


def parse_example(source: str, text: str, json_depth: int, max_size: int) -> list[ExamplePath]:
    """Every path of `text` read as `source` (`query`, `body` or `headers`); DefinitionInvalid
    (field `example`) when it cannot be read, is over `max_size` bytes (the body limit) or
    has more than MAX_PATHS paths."""
    if len(text.encode()) > max_size:
        raise _bad(f"the example is larger than {max_size} bytes")
    data = _READERS[source](text, json_depth)
    paths: list[ExamplePath] = []
    for found in _walk(data, (), textual=source != "body"):
        if len(paths) == MAX_PATHS:
            raise _bad(f"the example has more than {MAX_PATHS} paths", hint="trim long lists")
        paths.append(found)
    return paths
