"""`response`: the answer to a sync webhook call; ends the execution RESOLVED."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import Problem
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import NodeType, Outcome, Respond
from gateway.engine.responses import (
    CompiledHeaders,
    headers_problems,
    render_status,
    status_problems,
)
from gateway.engine.templates import compile_template, template_problems
from gateway.nodes.registry import register


@register
class Response(NodeType):
    type_name = "response"
    config_keys = frozenset({"statusCode", "headers", "body"})
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
