"""`json-query`: look things up in JSON data with JMESPath, optionally reshaping the result."""

from __future__ import annotations

from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult

from gateway.core.errors import NodeFailure, Problem, TemplateError
from gateway.core.types import JSONObject, Scope
from gateway.engine.node import Done, NodeType, Outcome
from gateway.engine.paths import MISSING, lookup, parse_path
from gateway.engine.templates import compile_template, template_problems
from gateway.nodes.registry import register

ENGINES = ("jmespath",)
MAX_EXPRESSION = 4096
MAX_RESULT_ITEMS = 100_000


def model_problems(model: Any, field: str) -> list[Problem]:
    if model is None:
        return []
    if not isinstance(model, list):
        return [Problem(field, "must be a list of {path, alias}")]
    problems: list[Problem] = []
    for index, item in enumerate(model):
        where = f"{field}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            problems.append(Problem(where, "must be an object with a path (and an alias)"))
            continue
        try:
            parse_path(item["path"])
        except TemplateError as exc:
            problems.append(Problem(f"{where}.path", str(exc)))
        alias = item.get("alias")
        if alias is not None and (not isinstance(alias, str) or not alias):
            problems.append(Problem(f"{where}.alias", "must be non-empty text"))
    return problems


def query_problems(expression: Any, field: str) -> list[Problem]:
    if not isinstance(expression, str) or not expression.strip():
        return [
            Problem(field, "required: a JMESPath expression", hint="e.g. items[?qty > `1`].sku")
        ]
    if len(expression) > MAX_EXPRESSION:
        return [Problem(field, f"longer than {MAX_EXPRESSION} characters")]
    try:
        jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        return [Problem(field, f"invalid JMESPath: {exc}")]
    return []


def count_items(value: Any, limit: int) -> int:
    """How many values `value` holds, counting shared parts each time they appear (as JSON
    would write them), stopping once past `limit`."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


class Model:
    """`model: [{path, alias}]`: each result object becomes `{alias: value at path}`, as
    NocoBase maps it: `alias` defaults to the path with `.` as `_` (`a.b` → `a_b`), a path
    is read as lodash `get` reads it (no mapping over lists), a path that leads nowhere
    leaves its alias out, and a list item that is not an object or a list becomes `{}`."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.fields = [
            (str(i.get("alias") or i["path"].replace(".", "_")), parse_path(i["path"]))
            for i in items
        ]

    def apply(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._shape(item) for item in value]
        return self._shape(value) if isinstance(value, dict) else value

    def _shape(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict | list):
            return {}
        found = ((alias, lookup(item, path, mapping=False)) for alias, path in self.fields)
        return {alias: value for alias, value in found if value is not MISSING}


@register
class JsonQuery(NodeType):
    """The job's result is the query's result over `source` (a template, usually one
    placeholder such as `{{$context.body}}`), reshaped by `model` when given. A result that
    would hold more than `MAX_RESULT_ITEMS` values is a node error."""

    type_name = "json-query"
    config_keys = frozenset({"engine", "source", "expression", "model"})
    title = "JSON query"
    description = "Query JSON data with JMESPath."

    def __init__(self, key: str, config: JSONObject) -> None:
        super().__init__(key, config)
        self.source = compile_template(config.get("source"))
        self.query: ParsedResult = jmespath.compile(config["expression"])
        self.model = Model(config["model"]) if config.get("model") else None

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        problems = super().check(config, field)
        if problems:
            return problems
        if config.get("engine", "jmespath") not in ENGINES:
            problems.append(Problem(f"{field}.engine", "must be jmespath"))
        if "source" not in config:
            problems.append(Problem(f"{field}.source", "required", hint="e.g. {{$context.body}}"))
        return (
            problems
            + template_problems(config.get("source"), f"{field}.source")
            + query_problems(config.get("expression"), f"{field}.expression")
            + model_problems(config.get("model"), f"{field}.model")
        )

    async def run(self, scope: Scope) -> Outcome:
        try:
            result = self.query.search(self.source.render(scope))
        except jmespath.exceptions.JMESPathError as exc:
            raise NodeFailure(f"query failed: {exc}") from exc
        if count_items(result, MAX_RESULT_ITEMS) > MAX_RESULT_ITEMS:
            raise NodeFailure(f"the query result holds more than {MAX_RESULT_ITEMS} values")
        return Done(self.model.apply(result) if self.model else result)
