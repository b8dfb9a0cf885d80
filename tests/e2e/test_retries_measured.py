"""The retry guarantee, measured (docs/reliability.md), scaled to a test's time: a downstream on
127.0.0.x that answers 503 to 30% of calls and drops 5% of connections (half of them after
doing the work), hundreds of async calls, retries without waits — every execution ends
RESOLVED and the downstream, de-duplicating by Idempotency-Key, does each side effect
exactly once; and a downstream down for the whole run leaves dead letters, each with one
run of the failure workflow."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from gateway.store.models import Execution
from tests.conftest import SettingsFactory
from tests.executors.test_arq import run_workers
from tests.httpserver import Answer, Received, TestServer
from tests.support import Gateway, running_gateway

CALLS = 300


class Flaky:
    """503 for 30% of calls, a dropped connection for 5% (half after doing the work);
    the work is keyed by Idempotency-Key, as a de-duplicating downstream does it."""

    def __init__(self, seed: int = 25) -> None:
        self.random = random.Random(seed)
        self.done: Counter[str] = Counter()  # side effects, by key
        self.seen: Counter[str] = Counter()  # every request, by key

    async def __call__(self, request: Received) -> Answer:
        key = request.headers["idempotency-key"]
        self.seen[key] += 1
        draw = self.random.random()
        if draw < 0.30:
            return Answer(503, "busy")
        if draw < 0.35:
            if draw < 0.325:
                self.done[key] = 1  # did the work, then lost the connection
            raise ConnectionResetError
        self.done[key] = 1
        return Answer(200, {"ok": True})


async def down(_: Received) -> Answer:
    return Answer(503, "down")


def orders(server: TestServer, schedule: str) -> str:
    return f"""
key: orders
options: {{retry: {{schedule: {schedule}}}, onFailure: {{workflow: alerts}}}}
nodes:
  - key: hook
    type: request
    config:
      url: "{server.url("/hook")}"
      data: {{order: "{{{{$context.body.n}}}}"}}
      retry: {{attempts: 2, initialInterval: 1, maxInterval: 2}}
"""


ALERTS = """
key: alerts
nodes:
  - {key: note, type: calculation, config: {engine: cel, expression: "{{$context.body.executionId}}"}}
"""


@pytest.fixture
async def allowed(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    settings = settings_factory(outbound_allow=("127.0.0.0/8",))
    async with running_gateway(settings) as running:
        yield running


async def test_a_flaky_downstream_gets_every_side_effect_exactly_once(allowed: Gateway) -> None:
    flaky = Flaky()
    async with TestServer(flaky, host="127.0.0.4") as server:
        await allowed.apply(ALERTS, orders(server, "[" + ", ".join(["0"] * 20) + "]"))
        ids = [
            (await allowed.post("orders", json={"n": n})).headers["x-execution-id"]
            for n in range(CALLS)
        ]
        await allowed.drain()

    statuses = Counter(await Execution.filter(id__in=ids).values_list("status", flat=True))
    assert statuses == {"RESOLVED": CALLS}  # none failed, none stuck
    assert len(flaky.done) == CALLS  # one side effect per execution, de-duplicated by key
    assert sum(flaky.seen.values()) > CALLS  # and there were retries to get there
    assert await allowed.executions("alerts") == []


async def test_a_downstream_down_for_the_whole_run_leaves_dead_letters(allowed: Gateway) -> None:
    async with TestServer(down, host="127.0.0.4") as server:
        await allowed.apply(ALERTS, orders(server, "[0, 0]"))
        ids = [
            (await allowed.post("orders", json={"n": n})).headers["x-execution-id"]
            for n in range(50)
        ]
        await allowed.drain()
        await allowed.drain()
        tries = len(server.received)

    ended = await Execution.filter(id__in=ids).values_list("status", "reason")
    assert Counter(map(tuple, ended)) == {("FAILED", "dead letter"): 50}
    assert tries == 50 * 3 * 2  # 3 runs (1 + 2 retries) of 2 tries each
    alerts = await allowed.executions("alerts")
    assert sorted(a["jobs"][0]["result"] for a in alerts) == sorted(ids)  # once each
    assert {a["status"] for a in alerts} == {"RESOLVED"}


async def test_two_workers_get_every_side_effect_exactly_once(
    arq_settings: SettingsFactory,
) -> None:
    settings = arq_settings(outbound_allow=("127.0.0.0/8",))
    flaky = Flaky(seed=7)
    calls = 100
    async with running_gateway(settings) as gateway, TestServer(flaky, host="127.0.0.4") as server:
        await gateway.apply(ALERTS, orders(server, "[" + ", ".join(["0"] * 20) + "]"))
        ids = [
            (await gateway.post("orders", json={"n": n})).headers["x-execution-id"]
            for n in range(calls)
        ]
        await gateway.drain()
        for _ in range(20):  # burst workers stop when Redis is empty; a retry may come later
            await asyncio.gather(run_workers(settings, sweep=True), run_workers(settings))
            statuses = Counter(await Execution.filter(id__in=ids).values_list("status", flat=True))
            if statuses == {"RESOLVED": calls}:
                break

    assert statuses == {"RESOLVED": calls}
    assert len(flaky.done) == calls
