"""One GraphQL result per subscription event for every subscription with the same selection.

A subscription's event goes through graphql-core once per subscription: with 100 consoles
following executions, each read of changed executions was executed 100 times over the same
objects, which took most of the event loop's time spent on subscriptions (docs/performance.md,
scenario 10). An event made a `Shared` is one object for every subscription it goes to
(api/subscriptions.py); the first subscription that executes a selection on it keeps the
result on the event, and every other subscription with the same operation text and variable
values gets that result (a copy of its envelope: each has its own list of errors).

What a result holds depends only on the event and the selection: every admin token sees
the same data, and the context's loaders read the same rows for every subscription of one
event. An operation without its source text, or with variable values that cannot be
compared, is executed for each subscription as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any, cast

from graphql import ExecutionResult
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Shared(list[Any]):
    """A subscription's event (a list of objects) whose results are kept on it, by
    operation text and variable values."""

    __slots__ = ("results",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.results: dict[Hashable, ExecutionResult | asyncio.Future[Any]] = {}


def _key(context: StrawberryGraphQLCoreExecutionContext) -> Hashable | None:
    """What makes two subscriptions' results of one event the same, or None when unknown."""
    operation = context.operation
    if operation.loc is None:
        return None
    variables = frozenset(context.variable_values.coerced.items())
    try:
        hash(variables)
    except TypeError:  # a list or an input object among them
        return None
    return (operation.loc.source.body, operation.loc.start, variables)


def _copy(result: ExecutionResult) -> ExecutionResult:
    errors = list(result.errors) if result.errors is not None else None
    return ExecutionResult(result.data, errors, result.extensions)


async def _awaited(shared: asyncio.Future[Any]) -> ExecutionResult:
    # shielded: one subscription ending does not cancel what the others wait for
    return _copy(await asyncio.shield(shared))


class SharedEventContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, executing a `Shared` event once per selection."""

    def execute_operation(self, serially: bool | None = None) -> AwaitableOrValue[Any]:
        event = self.root_value
        if type(event) is not Shared:
            return super().execute_operation(serially)
        key = _key(self)
        if key is None:
            return super().execute_operation(serially)
        done = event.results.get(key)
        if done is None:
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                done = event.results[key] = cast(ExecutionResult, result)
                return _copy(done)
            done = event.results[key] = asyncio.ensure_future(result)
        if isinstance(done, asyncio.Future):
            return _awaited(done)
        return _copy(done)
