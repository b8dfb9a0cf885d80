"""The answer budget: how many bytes of JSON values and request bodies one GraphQL answer
may carry (`GATEWAY_GRAPHQL_MAX_ANSWER`), counted as the answer is built.

A page of executions with their contexts, asked for under thirty aliases, is a few hundred
bytes of query and could be an answer of hundreds of megabytes. Every `JSON` value (the
scalar's output) and `rawBody` is measured as it is completed; past the budget each
further one fails at once, so nothing more is built, and the request's answer is one
`ANSWER_TOO_LARGE` error with `data: null`.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

ANSWER_TOO_LARGE = "ANSWER_TOO_LARGE"


@dataclass(slots=True)
class Budget:
    limit: int
    remaining: int
    exceeded: bool = False

    def spend(self, size: int) -> None:
        self.remaining -= size
        if self.remaining < 0:
            self.exceeded = True
            raise self.refusal()

    def refusal(self) -> GraphQLError:
        message = (
            f"the answer is over {self.limit} bytes of JSON values and bodies: "
            "select fewer fields, fewer aliases or a smaller page (first:)"
        )
        return GraphQLError(message, extensions={"code": ANSWER_TOO_LARGE})


_current: ContextVar[Budget | None] = ContextVar("answer_budget", default=None)


def start(limit: int) -> Budget:
    """A fresh budget for the request running in this task (and the tasks it starts)."""
    budget = Budget(limit, limit)
    _current.set(budget)
    return budget


def current() -> Budget | None:
    return _current.get()


def spend_text(text: str) -> str:
    budget = _current.get()
    if budget is not None:
        budget.spend(len(text))
    return text


def _size(value: Any) -> int:
    if value is None or isinstance(value, bool | int | float):
        return 8
    if isinstance(value, str):
        return len(value) + 2
    try:
        return len(orjson.dumps(value))
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: the answer's own fallback
        return len(json.dumps(value))


def _serialize(value: Any) -> Any:
    budget = _current.get()
    if budget is not None:
        if budget.exceeded:
            raise budget.refusal()
        budget.spend(_size(value))
    return value


# Strawberry's own JSON scalar, with its output measured: same name, description and URL,
# so the schema does not change.
_ECMA_404 = (
    "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"
)
BUDGETED_JSON = strawberry.scalar(
    name="JSON",
    description=(
        f"The `JSON` scalar type represents JSON values as specified by [ECMA-404]({_ECMA_404})."
    ),
    specified_by_url=_ECMA_404,
    serialize=_serialize,
    parse_value=lambda value: value,
)
SCALAR_OVERRIDES: dict[object, Any] = {JSON: BUDGETED_JSON}
