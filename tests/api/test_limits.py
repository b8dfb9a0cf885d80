"""What a request may ask for (depth, aliases, tokens, size, page), what it costs in SQL (no
N+1), and that an unexpected failure is masked and logged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from strawberry.extensions.validation_cache import _get_validate_cache

from gateway.api.limits import CACHE_SIZE, MAX_BODY
from gateway.core.errors import Problem
from gateway.engine.node import NodeType
from gateway.nodes.registry import REGISTRY, register
from tests.api.client import AUTH, Statements, call, data, error
from tests.conftest import SettingsFactory
from tests.support import Gateway, running_gateway


def nested(levels: int) -> str:
    """`{ workflows { edges { node { trigger { workflow { trigger … key` `levels` deep."""
    inner = "key"
    for i in range(levels - 3):
        inner = f"{'workflow' if i % 2 else 'trigger'} {{ {inner} }}"
    return f"{{ workflows {{ edges {{ node {{ {inner} }} }} }} }}"


LIMITS = [
    # (operation, code, words of the message)
    (nested(12), "GRAPHQL_VALIDATION_FAILED", "exceeds maximum operation depth"),
    (
        "{ " + " ".join(f"a{i}: nodeTypes {{ name }}" for i in range(31)) + " }",
        "GRAPHQL_VALIDATION_FAILED",
        "aliases found",
    ),
    ("{ nodeTypes { " + "name " * 5000 + "} }", "GRAPHQL_PARSE_FAILED", "more than 5000 tokens"),
    ("{ workflows(first: 101) { totalCount } }", "BAD_USER_INPUT", "first: must be from 0 to 100"),
]


async def test_limits_and_caches(gateway: Gateway) -> None:
    assert "errors" not in await call(gateway, nested(10))
    for operation, code, words in LIMITS:
        problem = await error(gateway, operation)
        assert problem["extensions"]["code"] == code, operation[:60]
        assert words in problem["message"], problem["message"]
    # text a database cannot store: PostgreSQL has no NUL; a lone surrogate is not text
    for escaped in ("a\\u0000b", "\\ud800"):
        body = (
            '{"query": "query($k: String) { workflow(key: $k) { id } }", "variables": {"k": "%s"}}'
        )
        headers = {**AUTH, "content-type": "application/json"}
        sent = await gateway.client.post("/graphql", content=body % escaped, headers=headers)
        [unstorable] = sent.json()["errors"]
        assert unstorable["extensions"]["field"] == "text", escaped
    literal = await error(gateway, '{ workflow(key: "a\\u0000") { id } }')
    assert literal["extensions"]["code"] == "BAD_USER_INPUT"
    # the limit rules are built once, so a repeated operation is validated from the cache
    # (with other variables: the very same request would be answered from the answer cache)
    cache: Any = _get_validate_cache(CACHE_SIZE)  # an lru_cache
    hits = cache.cache_info().hits
    await data(gateway, nested(10), unused=1)
    assert cache.cache_info().hits == hits + 1


async def test_request_size_is_limited(gateway: Gateway) -> None:
    big = b'{"query": "' + b" " * MAX_BODY + b'{ nodeTypes { name } }"}'
    headers = {**AUTH, "content-type": "application/json"}
    declared = await gateway.client.post("/graphql", content=big, headers=headers)

    async def stream() -> Any:  # no Content-Length: counted while read
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    streamed = await gateway.client.post("/graphql", content=stream(), headers=headers)
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


LISTING = """
query($first: Int!) { workflows(first: $first) { totalCount edges { node {
  key version trigger { key url basicAuthentication { username } parseRules { key type } }
  nodes { key type upstream branchIndex } } } } }
"""


def document(i: int) -> dict[str, Any]:
    return {
        "key": f"w{i:03}",
        "trigger": {"request": {"body": [{"key": "id"}, {"key": "kind", "type": "string"}]}},
        "nodes": [
            {"key": "check", "type": "condition", "config": {"rejectOnFalse": False}},
            {"key": "ok", "type": "end", "upstream": "check", "branchIndex": 1},
            {
                "key": "no",
                "type": "end",
                "upstream": "check",
                "branchIndex": 0,
                "config": {"endStatus": -1},
            },
        ],
    }


async def test_listing_100_workflows_is_a_constant_number_of_queries(
    settings_factory: SettingsFactory, statements: Statements
) -> None:
    async with running_gateway(settings_factory(revision_poll=3600)) as gateway:
        await gateway.apply(*[document(i) for i in range(100)])
        counts = {}
        for first in (10, 100):
            statements.sql.clear()
            listing = (await data(gateway, LISTING, first=first))["workflows"]
            assert len(listing["edges"]) == first and listing["totalCount"] == 100
            assert len(listing["edges"][-1]["node"]["nodes"]) == 3
            counts[first] = len(statements.sql)
    # a page, its count, then one query each for triggers, parse rules and nodes
    assert counts == {10: 5, 100: 5}, statements.sql


FRAGMENTS = """
query($first: Int!) { workflows(first: $first) { totalCount ...Page } }
fragment Page on WorkflowConnection { edges { node { key version ...Parts } } }
fragment Parts on Workflow {
  trigger { ... on Trigger { key url basicAuthentication { username } parseRules { key type } } }
  nodes { key type upstream branchIndex }
}
"""

ONLY_KEYS = "{ workflows(first: 100) { edges { node { key } } } }"

TRIGGERS_ONLY = "{ workflows(first: 100) { edges { node { key trigger { key } } } } }"


async def test_a_page_loads_what_is_selected_through_fragments_and_nothing_more(
    settings_factory: SettingsFactory, statements: Statements
) -> None:
    """The page's relations are loaded up front from the selection, named fragments and
    inline fragments included, a relation nobody selected is not read, and one read for an
    unchanged workflow is not read again (the relation cache)."""
    async with running_gateway(settings_factory(revision_poll=3600)) as gateway:
        await gateway.apply(*[document(i) for i in range(30)])
        for query, count in ((ONLY_KEYS, 1), (TRIGGERS_ONLY, 2)):
            statements.sql.clear()
            listing = (await data(gateway, query))["workflows"]["edges"]
            assert [edge["node"]["key"] for edge in listing] == [f"w{i:03}" for i in range(30)]
            assert len(statements.sql) == count, statements.sql
        statements.sql.clear()
        fragments = await data(gateway, FRAGMENTS, first=30)
        # the page, its count, the nodes and the parse rules: the triggers were read above
        assert len(statements.sql) == 4, statements.sql
        assert not any('"triggers"' in sql for sql in statements.sql)
        assert await data(gateway, LISTING, first=30) == fragments
        edges = fragments["workflows"]["edges"]
        assert all(len(edge["node"]["nodes"]) == 3 for edge in edges)
        assert all(len(edge["node"]["trigger"]["parseRules"]) == 2 for edge in edges)


async def test_relations_outside_a_page_are_still_loaded_in_batches(
    settings_factory: SettingsFactory, statements: Statements
) -> None:
    """A workflow reached another way (through a trigger, by key) loads its relations
    through the request's loaders: still one query per relation and level."""
    async with running_gateway(settings_factory(revision_poll=3600)) as gateway:
        await gateway.apply(*[document(i) for i in range(5)])
        query = """{ workflows { edges { node { trigger { workflow {
            key nodes { key } trigger { parseRules { key } } } } } } } }"""
        statements.sql.clear()
        listing = (await data(gateway, query))["workflows"]["edges"]
        back = [edge["node"]["trigger"]["workflow"] for edge in listing]
        assert [w["key"] for w in back] == [f"w{i:03}" for i in range(5)]
        assert all(len(w["nodes"]) == 3 for w in back)
        assert all([r["key"] for r in w["trigger"]["parseRules"]] == ["id", "kind"] for w in back)
        # page + its triggers (preloaded), then workflows, nodes, triggers, rules (loaders)
        assert len(statements.sql) == 6, statements.sql


class Broken(NodeType):
    """A node type whose save-time check has a bug."""

    type_name = "test-broken"

    @classmethod
    def check(cls, config: Any, field: str) -> list[Problem]:
        raise RuntimeError("internal detail that must not leak")


@pytest.fixture
def broken_node() -> Iterator[None]:
    register(Broken)
    yield
    del REGISTRY[Broken.type_name]


@pytest.mark.usefixtures("broken_node")
async def test_an_unexpected_error_is_masked_and_logged(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    document = {"key": "bug", "nodes": [{"key": "b", "type": "test-broken"}]}
    mutation = "mutation($d: WorkflowInput!) { createWorkflow(input: $d) { id } }"
    answer = await call(gateway, mutation, d=document)
    [problem] = answer["errors"]
    assert problem["message"] == "Internal server error"
    assert problem["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "internal detail" not in str(answer)
    [record] = [r for r in caplog.records if r.name == "gateway.api"]
    assert "createWorkflow" in record.getMessage() and record.exc_info is not None
