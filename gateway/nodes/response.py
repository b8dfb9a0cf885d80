"""`response`: the answer to a sync webhook call; ends the execution RESOLVED."""

from __future__ import annotations

import re
from typing import Any

from gateway.core.errors import NodeFailure, Problem
from gateway.core.types import JSONObject, Scope
from gateway.engine.templates import Template, compile_template, to_text
from gateway.nodes.base import NodeType, Outcome, Respond, register
from gateway.nodes.common import template_problems

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


@register
class Response(NodeType):
    type_name = "response"
    title = "HTTP response"
    description = "Answer the webhook call (sync workflows only) and end the execution."
    sync_only = True
    instant = True

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.status = compile_template(config.get("statusCode", 200))
        self.headers = CompiledHeaders(config.get("headers"))
        self.body = compile_template(config.get("body"))

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        return (
            status_problems(config.get("statusCode", 200), f"{field}.statusCode")
            + headers_problems(config.get("headers"), f"{field}.headers")
            + template_problems(config.get("body"), f"{field}.body")
        )

    async def run(self, scope: Scope) -> Outcome:
        return Respond(
            render_status(self.status, scope),
            self.headers.render(scope),
            self.body.render(scope),
        )
