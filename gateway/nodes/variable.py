"""`variable`: declare a value, or assign a new value to an earlier variable node."""

from __future__ import annotations

from typing import Any

from gateway.core.errors import Problem
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import Assign, Done, NodeType, Outcome
from gateway.engine.templates import compile_template, template_problems
from gateway.nodes.registry import register


@register
class Variable(NodeType):
    """Without `target`, the job's result is `value` (rendered): a new variable, read as
    `{{$jobsMapByNodeKey.<this key>}}`. With `target` (the key of a variable node that runs
    earlier), `value` also replaces that node's result, so later nodes reading
    `$jobsMapByNodeKey.<target>` see the new value (NocoBase's assignment)."""

    type_name = "variable"
    config_keys = frozenset({"target", "value"})
    title = "Variable"
    description = "Declare a variable or assign a new value to one."

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.target: str | None = config.get("target") or None
        self.value = compile_template(config.get("value"))

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        target = config.get("target")
        if target is not None and (not isinstance(target, str) or not target):
            problems.append(Problem(f"{field}.target", "must be the key of a variable node"))
        return problems + template_problems(config.get("value"), f"{field}.value")

    @classmethod
    def earlier_nodes(cls, config: JSONObject) -> dict[str, tuple[str, str | None]]:
        target = config.get("target")
        return {"target": (target, cls.type_name)} if isinstance(target, str) and target else {}

    async def run(self, scope: Scope) -> Outcome:
        value = self.value.render(scope)
        if self.target is None:
            return Done(value)
        return Assign(self.target, value)
