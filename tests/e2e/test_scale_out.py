"""Real processes on PostgreSQL and Redis: `gateway serve`, `gateway worker`s, a Redis of
the test's own and a proxy in front of the database — killed, restarted and cut off under
load. What must hold: every call that got a 2xx has exactly one finished execution."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from arq.constants import in_progress_key_prefix

from gateway.core.settings import Settings
from gateway.executors.arq import connect, deliver
from gateway.service.worker import WorkerProcess
from gateway.store import claims
from gateway.store.models import Execution, Job
from tests.conftest import SettingsFactory
from tests.processes import RedisServer, Server, TcpProxy, serve, start_worker, stop

pytestmark = pytest.mark.postgres_only

PAYMENTS = "/api/webhook:trigger/example-payment-events-key-0001"
AUTH = {"authorization": "Basic " + base64.b64encode(b"payments:dev-only-password").decode()}
JOBS_PER_PAYMENT = 3  # kind → positive-amount → paid


def event(n: int) -> dict[str, Any]:
    return {
        "id": f"evt_{n}",
        "type": "payment_intent.succeeded",
        "data": {"object": {"amount": n + 1}},
    }


def fast_recovery(redis_url: str, queue: str) -> dict[str, str]:
    return {
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_REDIS_QUEUE": queue,
        "GATEWAY_LEASE": "3",
        "GATEWAY_SWEEP_INTERVAL": "0.5",
        "GATEWAY_DELIVERY_GRACE": "1",
        "GATEWAY_SHUTDOWN_GRACE": "5",
    }


async def load(
    server: Server, calls: int, on_answer: Callable[[int], Awaitable[None]] | None = None
) -> list[str]:
    """`calls` async calls, 32 at a time; `on_answer(n)` after the n-th answer. Returns the
    execution ids of the 2xx answers."""
    accepted: list[str] = []
    gate = asyncio.Semaphore(32)
    answered = 0

    async def one(client: httpx.AsyncClient, n: int) -> None:
        nonlocal answered
        async with gate:
            try:
                response = await client.post(PAYMENTS, json=event(n), headers=AUTH)
            except httpx.TransportError:
                return
        answered += 1
        if 200 <= response.status_code < 300:
            accepted.append(response.headers["x-execution-id"])
        if on_answer is not None:
            await on_answer(answered)

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        await asyncio.gather(*(one(client, n) for n in range(calls)))
    return accepted


async def drain(settings: Settings) -> None:
    """With every worker stopped: what they left STARTED is theirs no more, nor are the arq
    jobs they had picked up (a worker killed after finishing an execution leaves its job
    marked in progress until the job timeout); deliver and run everything still queued, in
    this process, until nothing is left."""
    process = WorkerProcess(settings)
    await process.open()
    try:
        await process.runner.recover(lease_expired=False)
        pool = await connect(settings)
        try:
            for job_id in await pool.zrange(settings.redis_queue, 0, -1):
                await pool.delete(in_progress_key_prefix + job_id.decode())
            for execution_id in await claims.queued_ids():
                await deliver(pool, execution_id, redeliver=True)
        finally:
            await pool.aclose()
        worker = process.arq_worker(burst=True)
        try:
            await worker.async_run()
        finally:
            await worker.close()
    finally:
        await process.close()


async def outcome(settings: Settings) -> tuple[dict[str, str], int]:
    process = WorkerProcess(settings)
    await process.open()
    try:
        rows = await Execution.all().values_list("id", "status")
        jobs = await Job.all().count()
    finally:
        await process.close()
    return {str(row[0]): str(row[1]) for row in rows}, jobs


@pytest.mark.timeout(300)
async def test_workers_killed_over_and_over_lose_nothing(
    database_url: str, tmp_path: Path, redis_url: str, settings_factory: SettingsFactory
) -> None:
    queue = f"arq:test:{uuid.uuid4().hex}"
    env = fast_recovery(redis_url, queue)
    workers: list[Server] = []
    kills = 0
    one_at_a_time = asyncio.Lock()

    async def kill_one(answered: int) -> None:
        nonlocal kills
        if answered % 100 != 0 or answered >= 1000:
            return
        async with one_at_a_time:  # while one worker restarts, the other keeps working
            await stop(workers.pop(0), kill=True)
            kills += 1
            workers.append(await start_worker(database_url, tmp_path, **env))

    async with serve(database_url, tmp_path, **env) as server:
        workers += [await start_worker(database_url, tmp_path, **env) for _ in range(2)]
        accepted = await load(server, 1000, kill_one)
        for worker in workers:
            code = await stop(worker)  # SIGTERM: running executions handed back
            assert code == 0, "".join(worker.log)
    settings = settings_factory(redis_url=redis_url, redis_queue=queue)
    await drain(settings)
    statuses, jobs = await outcome(settings)

    assert kills == 9
    assert len(accepted) == 1000
    assert set(accepted) == set(statuses), "every accepted call has its one execution"
    assert set(statuses.values()) == {"RESOLVED"}
    assert jobs == JOBS_PER_PAYMENT * 1000  # no execution ran twice to the end


@pytest.mark.timeout(120)
async def test_redis_killed_and_restarted_mid_load_loses_nothing(
    database_url: str, tmp_path: Path, settings_factory: SettingsFactory
) -> None:
    redis = RedisServer()
    await redis.start()
    env = fast_recovery(redis.url, "arq:queue")

    async def outage(answered: int) -> None:
        if answered == 100:
            await redis.kill()  # the queue in Redis is gone
        elif answered == 200:
            await redis.start()

    try:
        async with serve(database_url, tmp_path, **env) as server:
            worker = await start_worker(database_url, tmp_path, **env)
            accepted = await load(server, 400, outage)
            code = await stop(worker)
            assert code == 0, "".join(worker.log)
        settings = settings_factory(redis_url=redis.url)
        await drain(settings)
        statuses, _ = await outcome(settings)
    finally:
        await redis.kill()

    assert len(accepted) == 400  # accepted while Redis was down too: committed first
    assert set(accepted) == set(statuses)
    assert set(statuses.values()) == {"RESOLVED"}


async def test_a_database_cut_answers_503_then_recovers_without_a_restart(
    database_url: str, tmp_path: Path, settings_factory: SettingsFactory
) -> None:
    upstream = urlsplit(database_url)
    proxy = TcpProxy(upstream.port or 5432)
    await proxy.start()
    via_proxy = database_url.replace(f":{upstream.port}/", f":{proxy.port}/")
    try:
        async with (
            serve(via_proxy, tmp_path) as server,
            httpx.AsyncClient(base_url=server.base_url, timeout=30) as client,
        ):

            async def call(n: int) -> httpx.Response:
                return await client.post(PAYMENTS, json=event(n), headers=AUTH)

            before = [await call(n) for n in range(10)]
            proxy.cut()
            during = [await call(n) for n in range(10, 30)]
            proxy.restore()
            after = [await call(n) for n in range(30, 50)]
    finally:
        await proxy.close()
    statuses, _ = await outcome(settings_factory())

    assert {r.status_code for r in before} == {200}
    assert {r.status_code for r in during} == {503}
    assert {r.headers["retry-after"] for r in during} == {"5"}
    assert {r.status_code for r in after[1:]} == {200}  # the pool reconnects by itself
    accepted = {r.headers["x-execution-id"] for r in before + after if r.status_code == 200}
    assert accepted <= set(statuses)
