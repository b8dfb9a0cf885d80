"""Bulk resume and replay of failed executions (docs/executions.md), through GraphQL and the
CLI: bounded, answering how many were queued, idempotent when sent twice, and sending the
original's Idempotency-Key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store.models import Execution, Job
from tests.api.client import data, error
from tests.conftest import SettingsFactory
from tests.executors.test_retries import ALLOW, Downstream, flow, post
from tests.httpserver import TestServer
from tests.support import Gateway, running_gateway
from tests.test_cli import cli

RESUME = """mutation($filter: ExecutionSelection!, $limit: Int!) {
  resumeExecutions(filter: $filter, limit: $limit) { matched considered queued } }"""
REPLAY = """mutation($filter: ExecutionSelection!, $limit: Int!, $fresh: Boolean!) {
  replayExecutions(filter: $filter, limit: $limit, freshIdempotencyKey: $fresh) {
    matched considered queued } }"""


@pytest.fixture
async def allowed(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory(outbound_allow=ALLOW)) as running:
        yield running


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async with TestServer(host="127.0.0.3") as running:
        yield running


async def dead_letters(gateway: Gateway, server: TestServer, count: int) -> list[str]:
    """`count` dead letters of `orders` (no retry schedule), the downstream healthy after."""
    downstream = Downstream(failures=count)
    server.handler = downstream
    await gateway.apply(flow(server, []))
    ids = [await post(gateway) for _ in range(count)]
    await gateway.drain()
    return ids


def hook_keys(server: TestServer) -> list[str]:
    return [r.headers["idempotency-key"] for r in server.received if r.target == "/hook"]


async def test_resume_runs_from_the_failed_node_once_however_often_it_is_sent(
    allowed: Gateway, server: TestServer
) -> None:
    ids = await dead_letters(allowed, server, 3)
    first_keys = hook_keys(server)
    variables = {"filter": {"workflow": "orders", "status": "DEAD_LETTER"}, "limit": 2}

    first = (await data(allowed, RESUME, **variables))["resumeExecutions"]
    await allowed.drain()
    again = (await data(allowed, RESUME, **variables))["resumeExecutions"]
    await allowed.drain()
    statuses = [(await Execution.get(id=i)).status for i in ids]

    assert first == {"matched": 3, "considered": 2, "queued": 2}  # bounded, oldest first
    assert again == {"matched": 1, "considered": 1, "queued": 1}  # only the one left
    assert statuses == ["RESOLVED"] * 3
    assert hook_keys(server)[3:] == first_keys  # the same executions, the same keys
    assert [r.target for r in server.received].count("/first") == 3  # never run again
    jobs = await Job.filter(execution_id=ids[0]).order_by("id").values_list("node_key", "status")
    assert [tuple(j) for j in jobs] == [
        ("first", "RESOLVED"),
        ("hook", "FAILED"),
        ("hook", "RESOLVED"),
        ("done", "RESOLVED"),
    ]


async def test_replay_makes_one_new_execution_each_with_the_original_key(
    allowed: Gateway, server: TestServer
) -> None:
    ids = await dead_letters(allowed, server, 2)
    first_keys = hook_keys(server)
    variables = {"filter": {"workflow": "orders"}, "limit": 100, "fresh": False}

    first = (await data(allowed, REPLAY, **variables))["replayExecutions"]
    await allowed.drain()
    again = (await data(allowed, REPLAY, **variables))["replayExecutions"]
    await allowed.drain()
    replays = [e.status for e in await Execution.filter(replay_of__in=ids)]

    assert first == {"matched": 2, "considered": 2, "queued": 2}
    assert again == {"matched": 2, "considered": 2, "queued": 0}  # idempotent
    assert replays == ["RESOLVED", "RESOLVED"]
    assert sorted(hook_keys(server)[2:]) == sorted(first_keys)  # a repeat downstream
    assert [(await Execution.get(id=i)).status for i in ids] == ["FAILED", "FAILED"]


async def test_replay_with_a_fresh_key_and_by_time(allowed: Gateway, server: TestServer) -> None:
    [execution_id] = await dead_letters(allowed, server, 1)
    created = (await Execution.get(id=execution_id)).created_at
    later = {"filter": {"since": (created.replace(year=created.year + 1)).isoformat()}}
    none = (await data(allowed, REPLAY, **later, limit=10, fresh=True))["replayExecutions"]
    variables = {"filter": {"until": created.replace(year=created.year + 1).isoformat()}}
    done = (await data(allowed, REPLAY, **variables, limit=10, fresh=True))["replayExecutions"]
    await allowed.drain()

    assert none["matched"] == 0 and done["queued"] == 1
    [first, second] = hook_keys(server)
    assert first != second


ONE = """mutation($id: ID!, $again: Boolean!, $fresh: Boolean!) {
  replayExecution(id: $id, again: $again, freshIdempotencyKey: $fresh) { id } }"""


async def test_a_single_replay_sends_the_original_key_unless_asked(
    allowed: Gateway, server: TestServer
) -> None:
    [execution_id] = await dead_letters(allowed, server, 1)
    [original_key] = hook_keys(server)

    await data(allowed, ONE, id=execution_id, again=False, fresh=False)
    await allowed.drain()
    same = (await data(allowed, ONE, id=execution_id, again=False, fresh=False))["replayExecution"]
    await allowed.drain()
    fresh = (await data(allowed, ONE, id=execution_id, again=True, fresh=True))["replayExecution"]
    await allowed.drain()
    # a replay of the replay still speaks for the first original
    await data(allowed, ONE, id=same["id"], again=False, fresh=False)
    await allowed.drain()

    assert hook_keys(server)[1] == original_key  # the replay: a repeat downstream
    assert fresh["id"] != same["id"]
    assert hook_keys(server)[2] not in (original_key, hook_keys(server)[1])
    assert hook_keys(server)[3] == original_key
    assert len(hook_keys(server)) == 4  # the second request made no new execution


@pytest.mark.parametrize(
    ("selection", "limit", "field"),
    [
        ({"status": "BROKEN"}, 10, "status"),
        ({}, 0, "limit"),
        ({}, 1001, "limit"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 10, "until"),
    ],
)
async def test_bad_filters_are_refused(
    gateway: Gateway, selection: dict[str, str], limit: int, field: str
) -> None:
    failure = await error(gateway, RESUME, filter=selection, limit=limit)
    assert failure["extensions"]["code"] == "BAD_USER_INPUT"
    assert failure["extensions"]["field"] == field


async def test_the_cli_resumes_and_replays(
    allowed: Gateway, server: TestServer, database_url: str, tmp_path: Path
) -> None:
    ids = await dead_letters(allowed, server, 2)

    resumed = cli(database_url, tmp_path, "resume", "--workflow", "orders", "--limit", "1")
    replayed = cli(database_url, tmp_path, "replay", "--status", "dead_letter")
    refused = cli(database_url, tmp_path, "replay", "--limit", "5000")

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "1 resumed (2 matched, 1 considered, 0 skipped)\n"
    assert (await Execution.get(id=ids[0])).status == "QUEUED"  # a sweep picks it up
    assert replayed.stdout == "1 replayed (1 matched, 1 considered, 0 skipped)\n"
    assert await Execution.filter(replay_of=ids[1]).count() == 1
    assert refused.returncode == 1 and "limit" in refused.stderr
