"""Answers about definitions are kept until definitions change; executions never are."""

from __future__ import annotations

from gateway.store import definitions
from tests.api.client import Statements, call, data
from tests.support import Gateway

LISTING = "query { workflows(first: 10) { totalCount edges { node { key version title } } } }"
EXECUTIONS = "query { executions(first: 10) { totalCount } }"
FLOW = "{key: flow, title: First, nodes: [{key: a, type: end, config: {endStatus: 1}}]}"


async def test_a_repeated_listing_is_answered_without_the_database(
    gateway: Gateway, statements: Statements
) -> None:
    await gateway.apply(FLOW)
    first = await data(gateway, LISTING)
    statements.sql.clear()

    again = await data(gateway, LISTING)

    assert again == first
    assert statements.sql == []


async def test_an_edit_in_this_process_is_seen_at_once(gateway: Gateway) -> None:
    await gateway.apply(FLOW)
    before = await data(gateway, LISTING)

    await gateway.apply(FLOW.replace("title: First", "title: Second"))
    after = await data(gateway, LISTING)

    assert before["workflows"]["edges"][0]["node"]["title"] == "First"
    assert after["workflows"]["edges"][0]["node"]["title"] == "Second"


async def test_an_edit_by_another_process_is_seen_after_the_revision_poll(
    gateway: Gateway,
) -> None:
    await gateway.apply(FLOW)
    before = await data(gateway, LISTING)
    [doc] = await definitions.load_documents(["flow"])
    doc["title"] = "Elsewhere"
    write = definitions.WorkflowWrite(doc, doc["id"], doc["version"], None)
    await definitions.write_workflows([write])  # as another server would, without telling us

    stale = await data(gateway, LISTING)
    await gateway.runtime.registry.check_revision()  # what the poller does every second
    fresh = await data(gateway, LISTING)

    assert stale == before
    assert fresh["workflows"]["edges"][0]["node"]["title"] == "Elsewhere"


async def test_executions_are_never_answered_from_the_cache(gateway: Gateway) -> None:
    await gateway.apply(FLOW)
    before = await data(gateway, EXECUTIONS)

    await gateway.post("flow", json={})
    await gateway.drain()
    after = await data(gateway, EXECUTIONS)

    assert (before["executions"]["totalCount"], after["executions"]["totalCount"]) == (0, 1)


async def test_answers_with_errors_are_not_kept(gateway: Gateway, statements: Statements) -> None:
    broken = "query { workflows(first: 10000) { totalCount } }"  # over the page limit
    first = await call(gateway, broken)
    statements.sql.clear()

    second = await call(gateway, broken)

    assert "errors" in first and second == first
