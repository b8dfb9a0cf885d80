"""A listed workflow's trigger, parse rules and nodes are read once per stored state of the
workflow, and a change made anywhere is listed at once."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.api.relations import RelationCache
from gateway.api.types import Workflow
from gateway.store import definitions
from tests.api.client import Statements, data
from tests.support import Gateway

FLOW = (
    "{key: flow, title: First, trigger: {request: {body: [{key: order.id}]}},"
    " nodes: [{key: a, type: end, title: Done, config: {endStatus: 1}}]}"
)
RELATION_TABLES = ('"triggers"', '"parse_rules"', '"nodes"')


def listing(alias: str) -> str:
    """The full listing; each alias makes a different request body, which the answer cache
    (keyed by the body) does not hold."""
    return (
        f"query {{ workflows(first: 10) {{ edges {{ node {{ {alias}: key version"
        " trigger { key parseRules { key required } } nodes { key title config } } } } }"
    )


def nodes_of(answer: dict) -> list[dict]:  # type: ignore[type-arg]
    return [edge["node"] for edge in answer["workflows"]["edges"]]


async def test_relations_of_an_unchanged_workflow_are_read_once(
    gateway: Gateway, statements: Statements
) -> None:
    await gateway.apply(FLOW)
    first = nodes_of(await data(gateway, listing("first")))
    statements.sql.clear()

    again = nodes_of(await data(gateway, listing("again")))

    assert [n.pop("again") for n in again] == [n.pop("first") for n in first] == ["flow"]
    assert again == first
    assert again[0]["trigger"]["parseRules"] == [{"key": "order.id", "required": False}]
    assert statements.sql, "the workflows page itself is read every time"
    read = [sql for sql in statements.sql if any(table in sql for table in RELATION_TABLES)]
    assert read == []


async def test_a_change_by_another_process_is_listed_at_once(gateway: Gateway) -> None:
    await gateway.apply(FLOW)
    before = nodes_of(await data(gateway, listing("before")))
    [doc] = await definitions.load_documents(["flow"])
    doc["nodes"][0]["title"] = "Finished"
    doc["trigger"]["request"]["body"][0]["required"] = True
    write = definitions.WorkflowWrite(doc, doc["id"], doc["version"] + 1, None)
    await definitions.write_workflows([write])  # as another server would, without telling us

    after = nodes_of(await data(gateway, listing("after")))

    assert before[0]["nodes"][0]["title"] == "Done"
    assert after[0]["nodes"][0]["title"] == "Finished"
    assert after[0]["trigger"]["parseRules"] == [{"key": "order.id", "required": True}]


async def test_a_change_that_keeps_the_version_is_listed_at_once(gateway: Gateway) -> None:
    """A new trigger key is not a new version, but it rewrites the workflow row, and its
    `updated_at` (part of the cache's key) moves."""
    await gateway.apply(FLOW)
    before = nodes_of(await data(gateway, listing("before")))
    [doc] = await definitions.load_documents(["flow"])
    doc["trigger"]["key"] = "a-new-trigger-key-0001"
    write = definitions.WorkflowWrite(doc, doc["id"], doc["version"], None)
    await definitions.write_workflows([write])

    after = nodes_of(await data(gateway, listing("after")))

    assert after[0]["version"] == before[0]["version"]
    assert before[0]["trigger"]["key"] != "a-new-trigger-key-0001"
    assert after[0]["trigger"]["key"] == "a-new-trigger-key-0001"


def workflow(row_id: int, version: int = 1) -> Workflow:
    when = datetime(2026, 12, 6, tzinfo=UTC)
    row = {
        "id": row_id,
        "key": f"w{row_id}",
        "title": "",
        "description": "",
        "enabled": True,
        "sync": True,
        "version": version,
        "options": {},
        "created_at": when,
        "updated_at": when,
    }
    return Workflow.from_row(row)


def test_the_least_recently_listed_are_dropped_beyond_the_limit() -> None:
    cache = RelationCache(limit=2)
    one, two, three = workflow(1), workflow(2), workflow(3)
    kept = cache.entry(one)
    kept.nodes = []
    cache.entry(two).nodes = []
    assert cache.entry(one) is kept  # listed again: now the most recent
    cache.entry(three)

    assert len(cache) == 2
    assert cache.entry(one) is kept
    assert cache.entry(two).nodes is None  # dropped, read again on its next listing
    assert cache.entry(workflow(1, version=2)) is not kept
