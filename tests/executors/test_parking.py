"""`delay` (docs/nodes.md): the execution is parked in the database, not a sleeping task, and runs
on from where it stopped once its time has come — also after a restart, and on workers."""

from __future__ import annotations

from datetime import timedelta

from gateway.core.clock import utcnow
from gateway.executors.arq import connect
from gateway.executors.embedded import EmbeddedExecutor
from gateway.store.models import Execution, Job
from tests.conftest import SettingsFactory
from tests.executors.test_arq import run_workers
from tests.support import Gateway, running_gateway

WAIT = """
key: wait
nodes:
  - key: first
    type: condition
    config: {calculation: {group: {type: and, calculations: [{calculator: equal, operands: [1, 1]}]}}}
  - {key: pause, type: delay, config: {unit: 3600000, duration: 1, endStatus: 1}}
  - key: check
    type: condition
    config: {calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$jobsMapByNodeKey.first}}", true]}]}}}
  - {key: done, type: end, config: {endStatus: 1}}
"""


def embedded(gateway: Gateway) -> EmbeddedExecutor:
    executor = gateway.runtime.executor
    assert isinstance(executor, EmbeddedExecutor)
    return executor


async def parked_one(gateway: Gateway) -> str:
    await gateway.apply(WAIT)
    execution_id = (await gateway.post("wait", json={})).headers["x-execution-id"]
    await gateway.drain()
    return execution_id


async def time_passes(execution_id: str) -> None:
    await Execution.filter(id=execution_id).update(resume_at=utcnow() - timedelta(seconds=1))


async def jobs_of(execution_id: str) -> list[tuple[str, str]]:
    rows = (
        await Job.filter(execution_id=execution_id).order_by("id").values_list("node_key", "status")
    )
    return [(str(key), str(status)) for key, status in rows]


async def test_a_delay_parks_the_execution_and_resumes_it_when_due(gateway: Gateway) -> None:
    execution_id = await parked_one(gateway)
    parked = await Execution.get(id=execution_id)
    parked_jobs = await jobs_of(execution_id)

    await embedded(gateway).sweep()  # not due yet: nothing runs
    await gateway.drain()
    still = await Execution.get(id=execution_id)
    await time_passes(execution_id)
    await embedded(gateway).sweep()
    await gateway.drain()
    finished = await Execution.get(id=execution_id)

    assert parked.status == "QUEUED" and parked.resume_at is not None
    assert timedelta(minutes=59) < parked.resume_at - parked.created_at < timedelta(minutes=61)
    assert parked_jobs == [("first", "RESOLVED"), ("pause", "PENDING")]
    assert still.status == "QUEUED"
    assert (finished.status, finished.state, finished.resume_at) == ("RESOLVED", None, None)
    assert await jobs_of(execution_id) == [
        ("first", "RESOLVED"),
        ("pause", "RESOLVED"),
        ("check", "RESOLVED"),  # saw the first run's result after resuming
        ("done", "RESOLVED"),
    ]


async def test_a_parked_execution_survives_a_restart(settings_factory: SettingsFactory) -> None:
    async with running_gateway(settings_factory()) as first:
        execution_id = await parked_one(first)
    async with running_gateway(settings_factory(executor_concurrency=0)):  # only to move time
        await time_passes(execution_id)

    async with running_gateway(settings_factory()) as second:  # start-up picks it up
        await second.drain()
        finished = await Execution.get(id=execution_id)

    assert finished.status == "RESOLVED"


async def test_workers_resume_parked_executions_with_a_deferred_job(
    arq_settings: SettingsFactory,
) -> None:
    settings = arq_settings()
    async with running_gateway(settings) as gateway:
        await gateway.apply(WAIT)
        execution_id = (await gateway.post("wait", json={})).headers["x-execution-id"]
        await gateway.drain()
        await run_workers(settings, stop_when_parked=True)
        parked = await Execution.get(id=execution_id)
        pool = await connect(settings)
        try:
            [(job_id, score)] = await pool.zrange(settings.redis_queue, 0, -1, withscores=True)
            await time_passes(execution_id)
            await pool.zadd(settings.redis_queue, {job_id: utcnow().timestamp() * 1000})
        finally:
            await pool.aclose()

        await run_workers(settings)

        finished = await Execution.get(id=execution_id)
    assert parked.status == "QUEUED" and parked.resume_at is not None
    assert job_id.decode().startswith(f"{execution_id}:resume:")
    assert abs(score / 1000 - parked.resume_at.timestamp()) < 1  # deferred to the resume time
    assert finished.status == "RESOLVED"
