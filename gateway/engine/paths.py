"""The path syntax of variables (docs/webhooks.md, Paths): parse, format, resolve and assign.

A path is a chain of segments. Object keys are joined with dots, array indices sit in
brackets, and a key that cannot be written bare is quoted in brackets:

    parse_path('items[0].id')          == ("items", 0, "id")
    parse_path('[0].id')               == (0, "id")
    parse_path('a["x.y"].z')           == ("a", "x.y", "z")
    parse_path('headers.x-request-id') == ("headers", "x-request-id")

A bare key may hold any character except `.`, `[`, `]`, quotes and whitespace (so `-`, `$`,
`:` and digits are fine). A quoted key uses `"` or `'` and the escapes `\\"`, `\\'` and `\\\\`.
An unquoted bracket holds a non-negative integer. The empty text is the empty path.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, TypeAlias

from gateway.core.errors import TemplateError

Segment: TypeAlias = str | int

_NOT_BARE = frozenset(".[]\"'")
_QUOTES = frozenset("\"'")
_ESCAPABLE = frozenset("\"'\\")


@functools.lru_cache(maxsize=65_536)  # results are immutable: shared across workflows
def parse_path(text: str) -> tuple[Segment, ...]:
    """Split path text into segments: `'a["b.c"][2]'` → `("a", "b.c", 2)`.

    Raises `TemplateError` naming the text and the position of the first fault (an empty
    key as in `a..b`, `.a` or `a.`, an unclosed bracket or quote, a bracket holding neither
    an index nor a quoted key, an unknown escape, a stray character).
    """
    segments: list[Segment] = []
    pos = 0 if text.startswith("[") or not text else _read_bare(text, 0, segments)
    while pos < len(text):
        char = text[pos]
        if char == ".":
            pos = _read_bare(text, pos + 1, segments)
        elif char == "[":
            pos = _read_bracket(text, pos, segments)
        else:
            raise _error(text, pos, f"unexpected {char!r}")
    return tuple(segments)


def format_path(segments: Sequence[Segment]) -> str:
    """Write segments as path text, the inverse of `parse_path`.

    A key that is a valid bare segment is joined with a dot (none before the first);
    any other key is quoted as `["..."]`; an int is written `[i]`. Raises `ValueError` for a
    negative index, which the syntax cannot express.
    """
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, int):
            if segment < 0:
                raise ValueError(f"negative index {segment} cannot be written as a path")
            parts.append(f"[{segment}]")
        elif _is_bare(segment):
            parts.append(f".{segment}" if parts else segment)
        else:
            escaped = segment.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'["{escaped}"]')
    return "".join(parts)


class _Missing:
    """What a path that leads nowhere gives (JavaScript's `undefined`), apart from a `null`
    that is there: the JavaScript-like calculators tell them apart (`null >= 0` is true,
    `undefined >= 0` false). Falsy; never stored: `resolve` turns it into `None`."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def resolve(value: Any, path: Sequence[Segment]) -> Any:
    """The value at `path` inside `value`, or `None` when anything along the way is missing.

    Never raises. Resolution is NocoBase's (lodash `get`, after its `appendArrayColumn`),
    segment by segment:

    - on a dict, a str segment is a key and an int segment is the key `str(i)`;
    - on a list, an int segment is an index (out of range → `None`), and so is a str
      segment written as one (`items.0`; not `items.01`); `length` is the list's length;
    - on a list, any other str segment maps over the items — each item's value under that
      key, or `None` — and lists among those values are spliced in, one level (JavaScript's
      `flat()`): `orders.id` → `[order0.id, order1.id, …]`, `orders.tags` → every order's
      tags in one list, `orders.lines.sku` → every line's sku. The next segment applies to
      that whole list: `orders.lines.0.sku` is the first line of all, not each order's;
    - on a string, `length` is its length in UTF-16 code units (as JavaScript counts) and
      an index is one code unit;
    - on anything else (a number, a boolean, `None`) the result is `None`.

        resolve({"items": [{"id": 1}, {"id": 2}]}, ("items", "id"))      == [1, 2]
        resolve({"items": [{"id": 1}, {"id": 2}]}, ("items", "length"))  == 2
    """
    found = lookup(value, path)
    return None if found is MISSING else found


def lookup(value: Any, path: Sequence[Segment], *, mapping: bool = True) -> Any:
    """`resolve`, but `MISSING` where the path leads nowhere (`None` stays for a `null` that
    is there). `mapping=False` is plain lodash `get`: a key on a list is missing."""
    for segment in path:
        if value is None or value is MISSING:
            return MISSING
        value = _step(value, segment, mapping)
    return value


def _canonical_index(segment: Segment) -> int | None:
    """The index a segment names on a list or a string: an int, or digits as JavaScript
    writes an index (`"0"`, `"12"`; `"01"` is a key no list has)."""
    if isinstance(segment, int):
        return segment if segment >= 0 else None
    if segment.isascii() and segment.isdigit() and (segment == "0" or segment[0] != "0"):
        return int(segment)
    return None


def _step(value: Any, segment: Segment, mapping: bool) -> Any:
    if isinstance(value, dict):
        return value.get(segment if isinstance(segment, str) else str(segment), MISSING)
    if isinstance(value, list):
        index = _canonical_index(segment)
        if index is not None:
            return value[index] if index < len(value) else MISSING
        if isinstance(segment, int) or segment.isdigit():
            return MISSING  # a negative index, or digits no list has (`01`): never mapped
        if segment == "length":
            return len(value)
        return _column(value, segment) if mapping else MISSING
    if isinstance(value, str):
        return _text_step(value, segment)
    return MISSING


def _column(items: list[Any], segment: Segment) -> list[Any]:
    """Each item's value under `segment` (one level, no mapping inside), lists spliced."""
    out: list[Any] = []
    for item in items:
        found = MISSING if item is None else _step(item, segment, False)
        if isinstance(found, list):
            out.extend(found)
        else:
            out.append(None if found is MISSING else found)
    return out


def _text_step(text: str, segment: Segment) -> Any:
    units = text.encode("utf-16-le")
    if segment == "length":
        return len(units) // 2
    index = _canonical_index(segment)
    if index is None or index * 2 >= len(units):
        return MISSING
    # Half of a surrogate pair cannot be stored as text: it reads as U+FFFD.
    return units[index * 2 : index * 2 + 2].decode("utf-16-le", errors="replace")


def assign(target: dict[str, Any], path: Sequence[Segment], value: Any) -> None:
    """Set `value` at `path` inside `target`, creating what is missing along the way.

    A missing or `None` container is created as a dict when the next segment is a str and
    as a list when it is an int; lists are padded with `None` up to the index. An int
    segment on a dict is the key `str(i)` and an all-digit str segment on a list is an
    index. Raises `ValueError` for an empty path, a negative index, a key
    applied to a list, or a path that runs through a scalar (never overwritten).
    """
    if not path:
        raise ValueError("cannot assign to an empty path")
    container: Any = target
    for segment, following in pairwise(path):
        child = _get_child(container, segment, path)
        if child is None:
            child = [] if isinstance(following, int) else {}
            _set_child(container, segment, child, path)
        elif not isinstance(child, dict | list):
            raise ValueError(f"cannot assign {_describe(path)}: it runs through a scalar")
        container = child
    _set_child(container, path[-1], value, path)


def _read_bare(text: str, start: int, out: list[Segment]) -> int:
    end = start
    while end < len(text) and _is_bare_char(text[end]):
        end += 1
    if end == start:
        raise _error(text, start, f"expected a key, found {_found(text, end)}")
    out.append(text[start:end])
    return end


def _read_bracket(text: str, start: int, out: list[Segment]) -> int:
    inner = start + 1
    if inner < len(text) and text[inner] in _QUOTES:
        key, end = _read_quoted(text, inner)
        out.append(key)
    else:
        end = inner
        while end < len(text) and "0" <= text[end] <= "9":
            end += 1
        if end == inner:
            raise _error(text, inner, "expected an index or a quoted key after '['")
        out.append(int(text[inner:end]))
    if end >= len(text) or text[end] != "]":
        what = f"expected ']' for the '[' at position {start}, found {_found(text, end)}"
        raise _error(text, end, what)
    return end + 1


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The key of the quoted string opening at `start`, and the position after its close."""
    quote = text[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(chars), pos + 1
        if char == "\\":
            if pos + 1 >= len(text) or text[pos + 1] not in _ESCAPABLE:
                raise _error(text, pos, "unknown escape (only \\\", \\' and \\\\ are allowed)")
            pos += 1
            char = text[pos]
        chars.append(char)
        pos += 1
    raise _error(text, start, f"unclosed {quote}")


def _found(text: str, pos: int) -> str:
    return repr(text[pos]) if pos < len(text) else "the end"


def _is_bare_char(char: str) -> bool:
    return char not in _NOT_BARE and not char.isspace()


def _is_bare(key: str) -> bool:
    return bool(key) and all(_is_bare_char(char) for char in key)


def _error(text: str, pos: int, what: str) -> TemplateError:
    return TemplateError(f"invalid path {text!r} at position {pos}: {what}")


def _get_child(
    container: dict[str, Any] | list[Any], segment: Segment, path: Sequence[Segment]
) -> Any:
    if isinstance(container, dict):
        return container.get(str(segment))
    index = _list_index(segment, path)
    return container[index] if index < len(container) else None


def _set_child(
    container: dict[str, Any] | list[Any], segment: Segment, value: Any, path: Sequence[Segment]
) -> None:
    if isinstance(container, dict):
        container[str(segment)] = value
        return
    index = _list_index(segment, path)
    if index >= len(container):
        container.extend([None] * (index + 1 - len(container)))
    container[index] = value


def _list_index(segment: Segment, path: Sequence[Segment]) -> int:
    if isinstance(segment, str) and not (segment.isascii() and segment.isdigit()):
        raise ValueError(f"cannot assign {_describe(path)}: key {segment!r} on a list")
    index = int(segment)
    if index < 0:
        raise ValueError(f"cannot assign {_describe(path)}: negative index {index}")
    return index


def _describe(path: Sequence[Segment]) -> str:
    try:
        return repr(format_path(path))
    except ValueError:
        return repr(tuple(path))
