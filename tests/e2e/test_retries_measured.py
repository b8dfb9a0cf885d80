"""The retry guarantee, measured (docs/reliability.md), scaled to a test's time: a downstream on
127.0.0.x that answers 503 to 30% of calls and drops 5% of connections (half of them after
doing the work), hundreds of async calls, retries without waits — every execution ends
RESOLVED and the downstream, de-duplicating by Idempotency-Key, does each side effect
exactly once, also with two `gateway worker` processes on PostgreSQL and Redis of which one
is killed (SIGKILL) and replaced three times; and a downstream down for the whole run
leaves dead letters, each with one run of the failure workflow."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store.models import Execution
from tests.conftest import SettingsFactory
from tests.e2e.test_scale_out import fast_recovery
from tests.httpserver import Answer, Received, TestServer
from tests.processes import Server, start_worker, stop
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


class Stalling(Flaky):
    """`Flaky` that stalls at points of progress: once `reached(n)` side effects are done,
    every request waits (the work not yet done) until `resume()`."""

    def __init__(self, seed: int, stops: tuple[int, ...]) -> None:
        super().__init__(seed)
        self.stops = {n: asyncio.Event() for n in stops}
        self.open = asyncio.Event()
        self.open.set()

    async def reached(self, n: int) -> None:
        await self.stops[n].wait()

    def resume(self) -> None:
        self.open.set()

    async def __call__(self, request: Received) -> Answer:
        await self.open.wait()
        try:
            return await super().__call__(request)
        finally:
            stop = self.stops.get(len(self.done))
            if stop is not None and not stop.is_set():
                stop.set()
                self.open.clear()


async def resolved(gateway: Gateway, ids: list[str]) -> None:
    """Until every one of `ids` is RESOLVED in the database, read again at each change the
    workers publish (and after 5 s without one, as a change published by a worker that was
    then killed is lost)."""
    remaining = set(ids)
    async with gateway.runtime.events.watch(None) as watch:
        while remaining:
            found = Execution.filter(id__in=list(remaining), status="RESOLVED")
            remaining -= {str(i) for i in await found.values_list("id", flat=True)}
            if remaining:
                await watch.next(timeout=5)


@pytest.mark.postgres_only
@pytest.mark.timeout(120)
async def test_two_workers_killed_three_times_get_every_side_effect_exactly_once(
    database_url: str, tmp_path: Path, arq_settings: SettingsFactory
) -> None:
    settings = arq_settings(outbound_allow=("127.0.0.0/8",))
    env = fast_recovery(settings.redis_url or "", settings.redis_queue)
    env["GATEWAY_OUTBOUND_ALLOW"] = "127.0.0.0/8"
    calls, kill_at = 100, (25, 50, 75)
    flaky = Stalling(seed=7, stops=kill_at)
    workers: list[Server] = []

    async def kill_workers() -> int:
        """At each point: SIGKILL the older worker while calls are stalled in the
        downstream, start a replacement, then let the downstream go on."""
        for n in kill_at:
            await flaky.reached(n)
            await stop(workers.pop(0), kill=True)
            workers.append(await start_worker(database_url, tmp_path, **env))
            flaky.resume()
        return len(kill_at)

    async with running_gateway(settings) as gateway, TestServer(flaky, host="127.0.0.4") as server:
        await gateway.apply(ALERTS, orders(server, "[" + ", ".join(["0"] * 20) + "]"))
        workers += [await start_worker(database_url, tmp_path, **env) for _ in range(2)]
        try:
            killing = asyncio.create_task(kill_workers())
            ids = [
                (await gateway.post("orders", json={"n": n})).headers["x-execution-id"]
                for n in range(calls)
            ]
            kills = await killing
            # what the killed workers held comes back when its lease runs out
            await resolved(gateway, ids)
            codes = [await stop(worker) for worker in workers]
        finally:
            for worker in workers:
                await stop(worker, kill=True)
        statuses = Counter(await Execution.filter(id__in=ids).values_list("status", flat=True))

    assert kills == 3
    assert codes == [0, 0]
    assert statuses == {"RESOLVED": calls}  # none failed, none stuck
    assert len(flaky.done) == calls  # one side effect per execution, de-duplicated by key
    assert sum(flaky.seen.values()) > calls
