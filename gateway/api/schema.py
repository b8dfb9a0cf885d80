"""The GraphQL schema, and its SDL as checked in at `schema/gateway.graphql`.

python -m gateway.api.schema schema/gateway.graphql   (what `make schema` runs)
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.api import budget, limits
from gateway.api.admin_tokens import TokenMutation, TokenQuery
from gateway.api.credentials import CredentialMutation, CredentialQuery
from gateway.api.errors import coded, log_unexpected
from gateway.api.execution import LeafFastContext
from gateway.api.mutations import Mutation
from gateway.api.queries import Query
from gateway.api.subscriptions import Subscription
from gateway.api.testing import TestingMutation, TestingQuery


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what is masked: a user's mistake is their answer, not a server error.
        The errors of an operation over a WebSocket get their codes here, in place: they
        are not sent through the HTTP view's `process_result`, which codes the others."""
        log_unexpected(errors)
        context = execution_context.context if execution_context is not None else None
        if getattr(context, "connection", None) is not None:
            errors[:] = [coded(error) for error in errors]

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Subscriptions only over a WebSocket (`stream`): an HTTP request with one is
        refused with 400 before anything runs, instead of resolving to an error."""
        allowed = kwargs.get("allowed_operation_types")
        if allowed is not None:
            kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        return await super().execute(*args, **kwargs)


@cache
def build_schema(introspection: bool) -> GatewaySchema:
    """The schema with its limits; introspection on or off (built once for each)."""
    return GatewaySchema(
        query=merge_types("Query", (Query, TokenQuery, TestingQuery, CredentialQuery)),
        mutation=merge_types(
            "Mutation", (Mutation, TokenMutation, TestingMutation, CredentialMutation)
        ),
        subscription=Subscription,
        extensions=limits.extensions(introspection),
        execution_context_class=LeafFastContext,
        scalar_overrides=budget.SCALAR_OVERRIDES,
    )


def sdl() -> str:
    return build_schema(introspection=True).as_str() + "\n"


def main(argv: list[str] | Any = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gateway.api.schema OUTPUT.graphql", file=sys.stderr)
        return 2
    Path(args[0]).write_text(sdl())
    return 0


if __name__ == "__main__":
    sys.exit(main())
