"""Executions over GraphQL (docs/api.md): filtered, paged lists, one execution with its jobs,
replay and cancel."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from gateway.core.types import Scope
from gateway.engine.node import Done, NodeType, Outcome
from gateway.nodes.registry import REGISTRY, register
from tests.api.client import create, data, error
from tests.conftest import SettingsFactory
from tests.support import Gateway, running_gateway


class Hold(NodeType):
    """Runs until the test releases it: an execution that stays STARTED meanwhile."""

    type_name = "test-hold"
    started: ClassVar[asyncio.Event]
    release: ClassVar[asyncio.Event]

    async def run(self, scope: Scope) -> Outcome:
        Hold.started.set()
        await Hold.release.wait()
        return Done("released")


@pytest.fixture(scope="module", autouse=True)
def hold_node() -> Iterator[None]:
    register(Hold)
    yield
    del REGISTRY[Hold.type_name]


def workflow(key: str, end: int = 1, sync: bool = True) -> dict[str, Any]:
    return {
        "key": key,
        "sync": sync,
        "nodes": [{"key": "end", "type": "end", "config": {"endStatus": end}}],
    }


PAGE = """
query($w: ID, $s: ExecutionStatus, $since: DateTime, $until: DateTime, $first: Int!, $after: String) {
  executions(workflowId: $w, status: $s, since: $since, until: $until, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id status createdAt workflow { key } } }
  }
}
"""
ONE = """
query($id: ID!) { execution(id: $id) {
  id status version replayOf rawBody context response error
  workflow { key } jobs { nodeKey nodeType status result startedAt finishedAt } } }
"""
REPLAY = "mutation($id: ID!) { replayExecution(id: $id) { id status replayOf version } }"
CANCEL = "mutation($id: ID!) { cancelExecution(id: $id) { id status reason finishedAt } }"


async def call(gateway: Gateway, created: dict[str, Any], body: Any = None) -> str:
    url = created["trigger"]["url"].removeprefix("http://127.0.0.1:8000")
    response = await gateway.client.post(url, json=body or {"n": 1})
    return response.headers["x-execution-id"]


async def page(gateway: Gateway, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await data(gateway, PAGE, **{"first": 20, **variables}))["executions"]
    return result


async def test_list_filter_and_page(gateway: Gateway) -> None:
    ok, failing = (
        await create(gateway, workflow("ok")),
        await create(gateway, workflow("failing", -1)),
    )
    ids = [await call(gateway, ok) for _ in range(3)] + [await call(gateway, failing)]
    everything = await page(gateway)
    assert [e["node"]["id"] for e in everything["edges"]] == ids[::-1]  # newest first
    assert (await page(gateway, w=ok["id"]))["totalCount"] == 3
    failed = await page(gateway, s="FAILED")
    assert [(e["node"]["id"], e["node"]["workflow"]["key"]) for e in failed["edges"]] == [
        (ids[3], "failing")
    ]
    first = await page(gateway, first=2)
    rest = await page(gateway, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in first["edges"] + rest["edges"]] == ids[::-1]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)
    middle = everything["edges"][2]["node"]["createdAt"]  # ids[1]
    since = await page(gateway, since=middle)
    until = await page(gateway, until=middle)
    assert {e["node"]["id"] for e in since["edges"]} == set(ids[1:])
    assert [e["node"]["id"] for e in until["edges"]] == [ids[0]]
    naive = await page(gateway, since=middle.removesuffix("+00:00"))  # no offset: UTC
    assert naive["totalCount"] == 3
    too_many = await error(gateway, PAGE, first=101)
    assert too_many["extensions"]["field"] == "first"


async def test_one_execution_with_its_jobs(gateway: Gateway) -> None:
    created = await create(gateway, workflow("ok"))
    execution_id = await call(gateway, created, {"order": 7})
    one = (await data(gateway, ONE, id=execution_id))["execution"]
    assert (one["status"], one["version"], one["replayOf"], one["workflow"]) == (
        "RESOLVED",
        1,
        None,
        {"key": "ok"},
    )
    assert one["rawBody"] == '{"order":7}' and one["context"]["body"] == {"order": 7}
    [job] = one["jobs"]
    assert (job["nodeKey"], job["nodeType"], job["status"]) == ("end", "end", "RESOLVED")
    assert (await data(gateway, ONE, id="01a21eef-beb5-733c-b089-49e16c72bcd4"))[
        "execution"
    ] is None
    assert (await error(gateway, ONE, id="nope"))["extensions"]["code"] == "BAD_USER_INPUT"


async def test_replay_runs_the_same_request_on_the_current_version(gateway: Gateway) -> None:
    created = await create(gateway, workflow("later", sync=False))
    original = await call(gateway, created, {"order": 8})
    await gateway.drain()
    edit = "mutation($w: ID!) { updateWorkflow(id: $w, input: {options: {timeout: 5000}}) { version } }"
    assert (await data(gateway, edit, w=created["id"]))["updateWorkflow"]["version"] == 2
    replay = (await data(gateway, REPLAY, id=original))["replayExecution"]
    assert (replay["status"], replay["replayOf"], replay["version"]) == ("QUEUED", original, 2)
    await gateway.drain()
    again = (await data(gateway, ONE, id=replay["id"]))["execution"]
    assert again["status"] == "RESOLVED" and again["context"]["body"] == {"order": 8}
    assert again["rawBody"] == '{"order":8}' and len(again["jobs"]) == 1
    missing = await error(gateway, REPLAY, id="01a21eef-beb5-733c-b089-49e16c72bcd4")
    assert missing["extensions"]["code"] == "NOT_FOUND"


AGAIN = """mutation($id: ID!, $again: Boolean!) {
  replayExecution(id: $id, again: $again) { id replayOf } }"""


async def test_replay_sent_twice_answers_the_first_replay_unless_again(gateway: Gateway) -> None:
    created = await create(gateway, workflow("twice", sync=False))
    original = await call(gateway, created, {"order": 9})
    await gateway.drain()

    together = await asyncio.gather(*(data(gateway, REPLAY, id=original) for _ in range(4)))
    later = (await data(gateway, AGAIN, id=original, again=False))["replayExecution"]
    another = (await data(gateway, AGAIN, id=original, again=True))["replayExecution"]
    newest = (await data(gateway, REPLAY, id=original))["replayExecution"]
    await gateway.drain()

    [first] = {answer["replayExecution"]["id"] for answer in together}  # one made, at once
    assert later["id"] == first
    assert another["id"] != first and another["replayOf"] == original
    assert newest["id"] == another["id"]  # the newest replay answers from then on
    replays = [e for e in await gateway.executions("twice") if e["id"] != original]
    assert sorted(e["id"] for e in replays) == sorted([first, another["id"]])
    assert [e["status"] for e in replays] == ["RESOLVED", "RESOLVED"]


async def test_cancel_a_queued_execution(settings_factory: SettingsFactory) -> None:
    async with running_gateway(settings_factory(executor_concurrency=0)) as gateway:
        created = await create(gateway, workflow("queued", sync=False))
        execution_id = await call(gateway, created)
        canceled = (await data(gateway, CANCEL, id=execution_id))["cancelExecution"]
        assert (canceled["status"], canceled["reason"]) == ("CANCELED", "canceled")
        assert canceled["finishedAt"] is not None
        again = await error(gateway, CANCEL, id=execution_id)
        assert again["extensions"]["code"] == "CONFLICT" and "is CANCELED" in again["message"]
        missing = await error(gateway, CANCEL, id="01a21eef-beb5-733c-b089-49e16c72bcd4")
        assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_a_canceled_running_execution_stays_canceled(gateway: Gateway) -> None:
    Hold.started, Hold.release = asyncio.Event(), asyncio.Event()
    held = {"key": "held", "nodes": [{"key": "hold", "type": "test-hold"}]}
    execution_id = await call(gateway, await create(gateway, held))
    await Hold.started.wait()
    assert (await data(gateway, ONE, id=execution_id))["execution"]["status"] == "STARTED"
    assert (await data(gateway, CANCEL, id=execution_id))["cancelExecution"]["status"] == "CANCELED"
    Hold.release.set()
    await gateway.drain()
    after = (await data(gateway, ONE, id=execution_id))["execution"]
    assert (after["status"], after["jobs"]) == ("CANCELED", [])
