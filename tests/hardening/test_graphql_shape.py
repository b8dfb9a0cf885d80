"""Depth and alias limits that cost time linear in the document, whatever its fragments."""

from __future__ import annotations

import asyncio
from time import perf_counter

import pytest

from tests.api.client import AUTH, error
from tests.support import Gateway


def doubling(levels: int) -> str:
    """~1 KB: each fragment spreads the next twice, 2**levels selections once expanded."""
    fragments = [
        f"fragment F{i} on Workflow {{ key ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Workflow {{ key }}")
    return "{ workflows { edges { node { ...F0 } } } } " + " ".join(fragments)


def aliased(levels: int) -> str:
    fragments = [
        f"fragment F{i} on Workflow {{ a{i}: key ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Workflow {{ key }}")
    return "{ workflows { edges { node { ...F0 } } } } " + " ".join(fragments)


@pytest.mark.sqlite_only  # validation runs before any database is read
async def test_doubling_fragments_are_refused_quickly_and_healthz_is_not_blocked(
    gateway: Gateway,
) -> None:
    query = aliased(22)
    assert len(query) < 1500

    async def healthz() -> float:
        await asyncio.sleep(0)  # let the GraphQL request start first
        started = perf_counter()
        response = await gateway.client.get("/healthz")
        assert response.status_code == 200
        return perf_counter() - started

    started = perf_counter()
    problem, health = await asyncio.gather(error(gateway, query), healthz())
    took = perf_counter() - started

    assert problem["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "aliases found" in problem["message"]
    assert took < 3 and health < 3, (took, health)  # 28 s when fragments were expanded


@pytest.mark.sqlite_only
async def test_doubling_fragments_without_aliases_pass_the_limits(gateway: Gateway) -> None:
    # depth counts fragments once per level, however often they are spread
    started = perf_counter()
    response = await gateway.client.post("/graphql", json={"query": doubling(22)}, headers=AUTH)
    assert perf_counter() - started < 3
    assert "errors" not in response.json(), response.json()


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("query", "words"),
    [
        # deeper through a fragment than the limit of 10 levels below a root field
        (
            "{ workflows { edges { node { ...T } } } } "
            "fragment T on Workflow { trigger { workflow { trigger { workflow { trigger "
            "{ workflow { trigger { workflow { key } } } } } } } } }",
            "exceeds maximum operation depth of 10",
        ),
        # 32 aliases, 28 of them through one fragment spread twice
        (
            "{ a: nodeTypes { name } b: nodeTypes { ...N } c: nodeTypes { ...N } "
            "d: nodeTypes { name } } fragment N on NodeType { "
            + " ".join(f"n{i}: name" for i in range(14))
            + " }",
            "aliases found",
        ),
    ],
)
async def test_limits_count_through_fragments(gateway: Gateway, query: str, words: str) -> None:
    problem = await error(gateway, query)
    assert problem["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert words in problem["message"]
