"""An HTTP answer made of templates: the `response` node's and the trigger's async answer.

Checked when a workflow is saved (`status_problems`, `headers_problems`), compiled once
per version (`CompiledHeaders`) and rendered per call.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.core.errors import NodeFailure, Problem
from gateway.core.types import Scope
from gateway.engine.templates import Template, compile_template, template_problems, to_text

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MANAGED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


def status_problems(value: Any, field: str) -> list[Problem]:
    """A status is a number from 200 to 599, or a string that is a placeholder."""
    if isinstance(value, str):
        problems = template_problems(value, field)
        if not problems and compile_template(value).is_constant:
            problems.append(Problem(field, "must be a number or a {{$...}} placeholder"))
        return problems
    if isinstance(value, bool) or not isinstance(value, int) or not 200 <= value <= 599:
        return [Problem(field, "must be an HTTP status code from 200 to 599")]
    return []


def headers_problems(headers: Any, field: str) -> list[Problem]:
    """Problems with a `[{name, value}]` header list (response node and trigger response)."""
    if headers is None:
        return []
    if not isinstance(headers, list):
        return [Problem(field, "must be a list of {name, value}")]
    problems: list[Problem] = []
    for index, item in enumerate(headers):
        where = f"{field}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            problems.append(Problem(where, "must be an object with a string name and a value"))
            continue
        name = item["name"]
        if not _TOKEN.fullmatch(name):
            problems.append(Problem(f"{where}.name", f"{name!r} is not a valid header name"))
        elif name.lower() in _MANAGED_HEADERS:
            problems.append(Problem(f"{where}.name", f"{name} is set by the server"))
        problems += template_problems(item.get("value", ""), f"{where}.value")
    return problems


def render_status(template: Template, scope: Scope) -> int:
    value = template.render(scope)
    code = 0
    if isinstance(value, int) and not isinstance(value, bool):
        code = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        code = int(value.strip())
    if not 200 <= code <= 599:
        raise NodeFailure(f"statusCode rendered to {value!r}, not a status from 200 to 599")
    return code


class CompiledHeaders:
    """A `[{name, value}]` list with value templates compiled once."""

    def __init__(self, headers: list[dict[str, Any]] | None) -> None:
        self.items = [
            (str(item["name"]), compile_template(item.get("value", ""))) for item in headers or []
        ]

    def render(self, scope: Scope) -> list[tuple[str, str]]:
        return [(name, to_text(template.render(scope))) for name, template in self.items]
