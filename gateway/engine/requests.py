"""Turning a call's raw parts into `$context` data: headers, query, body (docs/webhooks.md,
Parsing the call). Pure: the webhook adapter reads the bytes (`gateway/webhook/parsing.py`),
`parseExample` parses pasted examples with the very same functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson
from qs_codec import Charset, DecodeOptions, decode

from gateway.core.errors import Rejected

HIDDEN_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_component(text: str) -> str:
    """JavaScript's `decodeURIComponent`, or `text` unchanged where it would throw — a `%`
    without two hex digits, escapes that are not UTF-8 — as Node's `qs` does:
    `%E4%B8%AD` → `中`, `%FF` stays `%FF` (and so does the rest of that text)."""
    if "%" not in text or _BAD_ESCAPE.search(text):
        return text
    try:
        return _ESCAPE_RUN.sub(lambda m: bytes.fromhex(m.group(0).replace("%", "")).decode(), text)
    except UnicodeDecodeError:
        return text


def _qs_scalar(text: str | None, charset: Charset | None = Charset.UTF8, **_: Any) -> str | None:
    """One key or value as `qs` decodes it: `+` is a space, then `decode_component` (or, for
    a Latin-1 form, each `%XX` is that byte's character)."""
    if text is None:
        return None
    text = text.replace("+", " ")
    if charset == Charset.LATIN1:
        return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return decode_component(text)


_QS_OPTIONS = DecodeOptions(decoder=_qs_scalar)
_QS_LATIN1 = DecodeOptions(charset=Charset.LATIN1, decoder=_qs_scalar)
_ESCAPED_BRACKET = re.compile(r"%5[BbDd]")


def _brackets(text: str) -> str:
    """qs reads escaped brackets (`%5B`, `%5D`) as brackets before anything else."""
    if "%5" not in text:
        return text
    return _ESCAPED_BRACKET.sub(lambda m: "[" if m.group(0)[2] in "Bb" else "]", text)


def parse_qs_text(text: str, options: DecodeOptions = _QS_OPTIONS) -> dict[str, Any]:
    return dict(decode(_brackets(text), options))


_LATIN1_NAMES = frozenset({"iso-8859-1", "latin-1", "latin1", "l1", "iso8859-1"})
_XML_TYPES = frozenset({"application/xml", "text/xml"})


def parse_headers(
    raw: Iterable[tuple[bytes, bytes]], named: frozenset[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(visible headers, hidden ones) keyed by lower-case name; repeats joined with `, `.

    `authorization`, `proxy-authorization` and `cookie` are hidden unless a parse rule
    names them (`named`); the hidden ones are still returned for authentication.
    """
    visible: dict[str, str] = {}
    hidden: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        value = value_bytes.decode("latin-1")
        target = hidden if name in HIDDEN_HEADERS and name not in named else visible
        target[name] = f"{target[name]}, {value}" if name in target else value
    return visible, hidden


def _flat_query(text: str) -> dict[str, Any] | None:
    """The common flat case (`a=1&b=2&a=3`) without qs's bracket machinery, with qs's
    results: empty keys dropped, repeats collected in a list. None when qs rules beyond
    that apply (brackets, more repeats than its array limit, over its parameter limit)."""
    if "[" in text or "]" in text or text.count("&") >= _QS_OPTIONS.parameter_limit:
        return None
    out: dict[str, Any] = {}
    for part in text.split("&"):
        raw_key, _, raw_value = part.partition("=")
        key = decode_component(raw_key.replace("+", " "))
        if not key:
            continue
        value = decode_component(raw_value.replace("+", " "))
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            if len(out[key]) >= _QS_OPTIONS.list_limit:
                return None
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


# Flat query strings parsed lately: a trigger's callers tend to send the same one
# (`?source=github`), and parsing is a good part of reading a call.
_FLAT_SEEN: dict[bytes, tuple[dict[str, Any], bool]] = {}
_FLAT_SEEN_MAX = 1024


def parse_query(query_string: bytes) -> dict[str, Any]:
    """qs semantics: `a[0][b]=1&c=2` → `{"a": [{"b": "1"}], "c": "2"}`. A new dict every
    time (parse rules write into it)."""
    if not query_string:
        return {}
    seen = _FLAT_SEEN.get(query_string)
    if seen is not None:
        return _fresh(*seen)
    # Raw (unescaped) non-ASCII bytes are invalid in a URL; the likeliest intent is UTF-8.
    text = _brackets(query_string.decode("utf-8", errors="replace"))
    parsed = _flat_query(text)
    if parsed is None:
        return parse_qs_text(text)
    if len(_FLAT_SEEN) >= _FLAT_SEEN_MAX:
        _FLAT_SEEN.clear()
    repeats = any(isinstance(v, list) for v in parsed.values())
    _FLAT_SEEN[query_string] = (parsed, repeats)
    return _fresh(parsed, repeats)


def _fresh(flat: dict[str, Any], repeats: bool) -> dict[str, Any]:
    """A copy of a remembered flat query that nothing else holds (its lists copied too)."""
    if repeats:
        return {k: list(v) if isinstance(v, list) else v for k, v in flat.items()}
    return dict(flat)


def media_type(content_type: str | None) -> tuple[str, str | None]:
    """(`type/subtype` lower-cased, charset or None) from a Content-Type header."""
    if not content_type:
        return "", None
    main, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"').lower()
    return main.strip().lower(), charset


def is_json(kind: str) -> bool:
    return kind == "application/json" or kind.endswith("+json")


def _too_deep(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json(raw: bytes, depth_limit: int) -> Any:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "recursion" in str(exc) or "depth" in str(exc):
            raise _too_deep_error(depth_limit) from exc
        raise Rejected(400, "invalid_body", f"the body is not valid JSON: {exc}") from exc
    # A body with fewer brackets than the limit cannot nest deeper than it.
    if isinstance(value, dict | list) and raw.count(b"{") + raw.count(b"[") > depth_limit:
        if _too_deep(value, depth_limit):
            raise _too_deep_error(depth_limit)
    return value


def _too_deep_error(depth_limit: int) -> Rejected:
    return Rejected(
        400, "invalid_body", f"the JSON body is nested deeper than {depth_limit} levels"
    )


def _decode_text(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise Rejected(
            400, "invalid_body", f"the body is not valid {charset or 'utf-8'} text"
        ) from exc


def parse_body(content_type: str | None, raw: bytes, depth_limit: int) -> Any:
    """The body as data: JSON (and `+json`), form (qs), text and XML as a string; `{}`
    when empty. Other types are refused with 415 — the raw bytes are still the caller's."""
    if not raw:
        return {}
    kind, charset = media_type(content_type)
    if is_json(kind):
        return parse_json(raw, depth_limit)
    if kind == "application/x-www-form-urlencoded":
        options = _QS_LATIN1 if charset in _LATIN1_NAMES else _QS_OPTIONS
        return parse_qs_text(_decode_text(raw, charset), options)
    if kind.startswith("text/") or kind in _XML_TYPES or kind.endswith("+xml"):
        return _decode_text(raw, charset)
    raise Rejected(
        415,
        "unsupported_media_type",
        f"cannot read a body of type {kind or '(none)'!r}",
        details=[
            {
                "supported": "application/json, */*+json, "
                "application/x-www-form-urlencoded, text/*, application/xml"
            }
        ],
    )
