"""Templates: `{{ path }}` placeholders in any JSON value, compiled once (docs/webhooks.md,
Templates).

A placeholder is `{{ path }}` whose path starts with `$`; spaces inside the braces are
optional. The path's first segment is its root, one of `ROOTS`, and the rest uses the path
syntax of `gateway.engine.paths`:

    {{$context.headers.x-request-id}}   {{ $jobsMapByNodeKey.lookup.data["a.b"] }}

Braces around anything that does not start with `$` (`{{name}}`, `{{ 1 + 2 }}`) are not a
placeholder and stay in the text literally, so payloads from other template languages pass
through. There is no escape for a literal `{{$...}}`, and a placeholder's path cannot contain
`{` or `}` (not even in a quoted key).

Every string in the value is a template, object keys included. Rendering:

- a string that is exactly one placeholder keeps the value's JSON type (dict, list, number,
  bool, `None`);
- any other string with placeholders renders to text as NocoBase's templates do
  (JavaScript's `String(value)`): `None` → `""`, bool → `true`/`false`, numbers as
  JavaScript writes them (`10.0` → `10`, `1e21` → `1e+21`), lists → their items' text
  joined with `,` (`[1, null, "a"]` → `1,,a`); but a dict, or a list holding one, → its
  compact JSON (JavaScript's `[object Object]` says nothing), values orjson writes as a
  string (datetime, UUID) → that string unquoted, and anything orjson cannot encode →
  `str()`;
- an object key always renders to text, even when it is exactly one placeholder; when two
  keys render to the same text, the later entry wins;
- a missing root or path renders as `None`, never raises.

The compiled `Template` is immutable and rendering never mutates its source. A constant
value renders to the source object itself, and a rendered value may share constant parts
with the source, so callers treat rendered values as read-only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import orjson

from gateway.core.errors import Problem, TemplateError
from gateway.engine import js
from gateway.engine.paths import MISSING, Segment, format_path, lookup, parse_path, resolve

# `$credentials` is only in scope while a `request` node renders its call (validation
# refuses it anywhere else).
ROOTS = frozenset({"$context", "$jobsMapByNodeKey", "$scopes", "$system", "$env", "$credentials"})

Renderer: TypeAlias = Callable[[Mapping[str, Any]], Any]

# Non-greedy body and no braces inside: `{{$a}} and {{$b}}` is two placeholders, not one.
# `ctx.` before the root is NocoBase 2.0's alias of the roots: `{{ctx.$context.body}}`.
_PLACEHOLDER = re.compile(r"\{\{\s*(?:ctx\.)?(\$[^{}]*?)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Reference:
    """One placeholder's variable: `{{$context.body.id}}` → root `$context`, path `("body", "id")`.

    `str()` gives the path text back, root included.
    """

    root: str
    path: tuple[Segment, ...]

    def __str__(self) -> str:
        return format_path((self.root, *self.path))


@dataclass(frozen=True, eq=False, slots=True)
class Template:
    """A compiled JSON value; build it with `compile_template`, render it per execution.

    `references` lists every placeholder's variable once, in order of first appearance.
    Compared and hashed by identity, so it can be cached per workflow version.
    """

    source: Any
    references: tuple[Reference, ...]
    renderer: Renderer | None = field(repr=False)

    @property
    def is_constant(self) -> bool:
        """True when the source holds no placeholder: `render` returns `source` itself."""
        return self.renderer is None

    def render(self, scope: Mapping[str, Any]) -> Any:
        """The source with every placeholder replaced by its value in `scope`."""
        if self.renderer is None:
            return self.source
        return self.renderer(scope)


def compile_template(value: Any, *, undefined: bool = False) -> Template:
    """Compile any JSON value; raises `TemplateError` for a placeholder that cannot be parsed
    or names an unknown root, with the placeholder and the string it sits in.

    With `undefined`, a whole-string placeholder whose path leads nowhere renders as
    `paths.MISSING` instead of `None` (JavaScript's `undefined`, for the calculators)."""
    references: list[Reference] = []
    renderer = _compile(value, references, undefined)
    return Template(value, tuple(dict.fromkeys(references)), renderer)


def find_references(value: Any) -> list[Reference]:
    """Every placeholder's variable in `value`, once each, in order of first appearance."""
    return list(compile_template(value).references)


def _compile(value: Any, refs: list[Reference], undefined: bool) -> Renderer | None:
    """A renderer for `value`, or `None` when `value` holds no placeholder."""
    if isinstance(value, str):
        return _compile_string(value, refs, as_text=False, undefined=undefined)
    if isinstance(value, dict):
        return _compile_dict(value, refs, undefined)
    if isinstance(value, list):
        return _compile_list(value, refs, undefined)
    return None


def _compile_dict(value: dict[Any, Any], refs: list[Reference], undefined: bool) -> Renderer | None:
    entries: list[tuple[Renderer | None, Renderer | None]] = []
    for key, item in value.items():
        key_renderer = _compile_string(key, refs, as_text=True) if isinstance(key, str) else None
        entries.append((key_renderer, _compile(item, refs, undefined)))
    if all(k is None and v is None for k, v in entries):
        return None
    if all(k is None for k, _ in entries):  # constant keys: copy the dict, fill in the rest
        base = {
            key: item if r is None else None
            for (key, item), (_, r) in zip(value.items(), entries, strict=True)
        }
        filled = tuple(
            (key, r) for key, (_, r) in zip(value, entries, strict=True) if r is not None
        )
        return _filler(base, filled)
    pairs = tuple(
        (key_r or _constant(key), item_r or _constant(item))
        for (key, item), (key_r, item_r) in zip(value.items(), entries, strict=True)
    )

    def render_dict(scope: Mapping[str, Any]) -> Any:
        return {key(scope): item(scope) for key, item in pairs}

    return render_dict


def _compile_list(value: list[Any], refs: list[Reference], undefined: bool) -> Renderer | None:
    compiled = [_compile(item, refs, undefined) for item in value]
    if all(r is None for r in compiled):
        return None
    base = [item if r is None else None for item, r in zip(value, compiled, strict=True)]
    filled = tuple((index, r) for index, r in enumerate(compiled) if r is not None)
    return _filler(base, filled)


def _filler(base: dict[Any, Any] | list[Any], filled: tuple[tuple[Any, Renderer], ...]) -> Renderer:
    """A renderer that copies `base` (the constant parts) and sets each (key or index,
    renderer) of `filled` in the copy."""

    def fill(scope: Mapping[str, Any]) -> Any:
        out = base.copy()
        for place, item in filled:
            out[place] = item(scope)
        return out

    return fill


def _compile_string(
    text: str, refs: list[Reference], *, as_text: bool, undefined: bool = False
) -> Renderer | None:
    if "{{" not in text:
        return None
    matches = list(_PLACEHOLDER.finditer(text))
    if not matches:
        return None
    references = [_reference(m, text, refs) for m in matches]
    getters = [_getter(reference) for reference in references]
    if not as_text and len(matches) == 1 and matches[0].span() == (0, len(text)):
        return _undefined_getter(references[0]) if undefined else getters[0]
    bounds = [0, *(pos for m in matches for pos in m.span()), len(text)]
    literals = [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    return _joiner(literals[0], tuple(zip(getters, literals[1:], strict=True)))


def _joiner(head: str, parts: tuple[tuple[Renderer, str], ...]) -> Renderer:
    def render_text(scope: Mapping[str, Any]) -> str:
        out = [head]
        for getter, literal in parts:
            out.append(to_text(getter(scope)))
            out.append(literal)
        return "".join(out)

    return render_text


def _reference(match: re.Match[str], text: str, refs: list[Reference]) -> Reference:
    try:
        root, *path = parse_path(match.group(1))
    except TemplateError as exc:
        raise TemplateError(f"bad placeholder {match.group(0)!r} in {text!r}: {exc}") from exc
    if root not in ROOTS:
        valid = ", ".join(sorted(ROOTS))
        raise TemplateError(
            f"unknown root {root!r} in placeholder {match.group(0)!r} of {text!r};"
            f" valid roots: {valid}"
        )
    reference = Reference(str(root), tuple(path))
    refs.append(reference)
    return reference


# Getters and scalar constants are shared: across thousands of stored workflows the same
# placeholders (`{{$context.body.id}}`) and keys recur, and each closure costs memory.
@functools.lru_cache(maxsize=65_536)
def _getter(reference: Reference) -> Renderer:
    root, path = reference.root, reference.path
    if not path:
        return lambda scope: scope.get(root)
    if not all(isinstance(segment, str) for segment in path):
        return lambda scope: resolve(scope.get(root), path)

    def get(scope: Mapping[str, Any]) -> Any:
        """`resolve`, with plain dicts all the way down walked here (the common case)."""
        value = scope.get(root)
        for key in path:
            if value.__class__ is not dict:
                return None if value is None else resolve(scope.get(root), path)
            value = value.get(key)
        return value

    return get


@functools.lru_cache(maxsize=4096)
def _undefined_getter(reference: Reference) -> Renderer:
    root, path = reference.root, reference.path
    return lambda scope: lookup(scope.get(root, MISSING), path)


def _constant(value: Any) -> Renderer:
    if value is None or isinstance(value, str | int | float | bool):
        return _scalar(value)
    return lambda _scope: value


@functools.lru_cache(maxsize=65_536, typed=True)  # typed: True and 1 stay apart
def _scalar(value: Any) -> Renderer:
    return lambda _scope: value


def to_text(value: Any) -> str:
    """How a value reads inside a mixed string (see the module docstring): as NocoBase
    writes it (`String(value)`), except that an object (or a list holding one) is its
    JSON, not `[object Object]`."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return js.to_string(value)
    if isinstance(value, list) and not _holds_object(value):
        return ",".join(to_text(item) for item in value)
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return str(value)
    if encoded.startswith(b'"'):
        return str(orjson.loads(encoded))
    return encoded.decode()


def _holds_object(items: list[Any]) -> bool:
    return any(isinstance(i, dict) or (isinstance(i, list) and _holds_object(i)) for i in items)


def template_problems(value: Any, field: str) -> list[Problem]:
    """Problems compiling `value` as a template (docs/webhooks.md, Templates), or none."""
    try:
        compile_template(value)
    except TemplateError as exc:
        return [Problem(field, str(exc))]
    return []
