"""Calling the GraphQL API of a running test gateway over HTTP, as a client would."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from tests.support import TEST_ADMIN_TOKEN, Gateway

AUTH = {"authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


async def post(
    gateway: Gateway,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = {"query": query, "variables": variables or {}}
    return await gateway.client.post(
        "/graphql", json=body, headers=AUTH if headers is None else headers
    )


async def call(gateway: Gateway, query: str, **variables: Any) -> dict[str, Any]:
    """The whole answer (`data` and `errors`) of an authenticated request."""
    response = await post(gateway, query, variables)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def data(gateway: Gateway, query: str, **variables: Any) -> dict[str, Any]:
    """`data` of a request that must succeed."""
    answer = await call(gateway, query, **variables)
    assert "errors" not in answer, answer["errors"]
    result: dict[str, Any] = answer["data"]
    return result


async def error(gateway: Gateway, query: str, **variables: Any) -> dict[str, Any]:
    """The one error of a request that must fail."""
    answer = await call(gateway, query, **variables)
    [only] = answer["errors"]
    assert isinstance(only, dict)
    return only


CREATE = """
mutation Create($input: WorkflowInput!) {
  createWorkflow(input: $input) {
    id key version enabled sync
    trigger { id key url parseRules { id source key type } }
    nodes { id key type upstream branchIndex }
  }
}
"""


async def create(gateway: Gateway, document: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = (await data(gateway, CREATE, input=document))["createWorkflow"]
    return created


class Statements(logging.Handler):
    """Counts the SQL statements Tortoise sends (its `tortoise.db_client` debug log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        text = str(args[0] if args else record.msg)
        if text.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.sql.append(text)
