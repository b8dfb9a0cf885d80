"""The arq executor: servers commit and hand executions to Redis, workers claim and run
them, sweeps recover what was lost. Workers run in-process in burst mode (drained, not
waited for)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from arq.jobs import Job as ArqJob

from gateway.core.backoff import compute_backoff
from gateway.core.clock import utcnow
from gateway.core.settings import Settings
from gateway.core.statuses import ExecutionStatus
from gateway.executors.arq import connect, deliver, deliver_many
from gateway.service.worker import WorkerProcess
from gateway.store import claims
from gateway.store.finishes import FinishExecution
from gateway.store.models import Execution, Job
from gateway.workflows.registry import Registry
from tests.conftest import SettingsFactory
from tests.support import Gateway, free_port, running_gateway

FLOWS = (
    "{key: flow, nodes: [{key: done, type: end, config: {endStatus: 1}}]}",
    "{key: flow-lost, options: {onWorkerLost: error}, nodes: [{key: done, type: end, config: {endStatus: 1}}]}",
)


async def run_workers(
    settings: Settings, sweep: bool = False, stop_when_parked: bool = False
) -> WorkerProcess:
    """A burst worker in this process: runs everything queued, then returns. A parked
    execution leaves a deferred job behind that burst mode would wait for: with
    `stop_when_parked` the worker stops after the jobs that were due."""
    process = WorkerProcess(settings, standalone=False)
    await process.open()
    worker = process.arq_worker(burst=True)
    if stop_when_parked:
        worker.max_burst_jobs = 1
    try:
        if sweep:
            pool = await connect(settings)
            try:
                await process.sweep(pool)
            finally:
                await pool.aclose()
        await worker.async_run()
    finally:
        await worker.close()
        await process.close()
    return process


async def statuses(gateway: Gateway) -> dict[str, str]:
    return {row["id"]: row["status"] for row in await gateway.executions(jobs=False)}


async def test_accepted_calls_are_run_by_a_worker(arq_settings: SettingsFactory) -> None:
    async with running_gateway(arq_settings()) as gateway:
        await gateway.apply(*FLOWS)
        answers = [await gateway.post("flow", json={"n": n}) for n in range(5)]
        await gateway.drain()  # the hand-offs to Redis
        queued = await statuses(gateway)

        await run_workers(arq_settings())

        finished = await statuses(gateway)
    ids = {a.headers["x-execution-id"] for a in answers}
    assert {a.status_code for a in answers} == {200}
    assert set(queued) == ids and set(queued.values()) == {"QUEUED"}
    assert set(finished.values()) == {"RESOLVED"}


async def test_a_second_delivery_runs_nothing(arq_settings: SettingsFactory) -> None:
    async with running_gateway(arq_settings()) as gateway:
        await gateway.apply(*FLOWS)
        execution_id = (await gateway.post("flow", json={})).headers["x-execution-id"]
        await gateway.drain()
        await run_workers(arq_settings())
        pool = await connect(gateway.settings)
        try:
            assert await deliver(pool, uuid.UUID(execution_id))  # delivered again
        finally:
            await pool.aclose()

        await run_workers(arq_settings())

        row = await Execution.get(id=execution_id)
        jobs = await Job.filter(execution_id=execution_id).count()
    assert (row.status, row.attempts, jobs) == ("RESOLVED", 1, 1)


async def test_many_deliveries_in_one_call_are_arq_jobs_queued_once(
    arq_settings: SettingsFactory,
) -> None:
    settings = arq_settings()
    pool = await connect(settings)
    ids = [uuid.uuid4() for _ in range(3)]
    try:
        first = await deliver_many(pool, [*ids, ids[0]])
        again = await deliver_many(pool, ids[1:])
        await pool.set(f"arq:in-progress:{ids[2]}", b"1")
        redelivered = await deliver_many(pool, ids[2:], redeliver=True)
        infos = [await ArqJob(str(i), pool).info() for i in ids]
        queued = await pool.zrange(settings.redis_queue, 0, -1)
        marked = await pool.exists(f"arq:in-progress:{ids[2]}")
    finally:
        await pool.aclose()
    # each once, as arq's enqueue_job would; a redelivery clears a dead worker's mark
    assert (first, again, redelivered, marked) == (3, 0, 0, 0)
    assert sorted(q.decode() for q in queued) == sorted(str(i) for i in ids)
    assert [(i.function, i.args) for i in infos if i is not None] == [
        ("run_execution", (str(i),)) for i in ids
    ]


async def test_calls_are_accepted_while_redis_is_down_and_swept_later(
    arq_settings: SettingsFactory,
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    async with running_gateway(arq_settings(redis_url=nowhere)) as gateway:
        await gateway.apply(*FLOWS)
        answer = await gateway.post("flow", json={})
        await gateway.drain()
        before = await statuses(gateway)

        await run_workers(arq_settings(delivery_grace=0.001), sweep=True)

        after = await statuses(gateway)
    execution_id = answer.headers["x-execution-id"]
    assert answer.status_code == 200
    assert before == {execution_id: "QUEUED"}
    assert after == {execution_id: "RESOLVED"}


async def test_a_dead_workers_executions_are_recovered_when_their_lease_expires(
    arq_settings: SettingsFactory,
) -> None:
    async with running_gateway(arq_settings()) as gateway:
        await gateway.apply(*FLOWS)
        rerun = uuid.UUID((await gateway.post("flow", json={})).headers["x-execution-id"])
        lost = uuid.UUID((await gateway.post("flow-lost", json={})).headers["x-execution-id"])
        await gateway.drain()
        for execution_id in (rerun, lost):  # claimed by a worker that then died...
            assert await claims.claim(execution_id, lease=30)
        live = await claims.started_executions(lease_expired=True)
        await Execution.filter(id__in=[rerun, lost]).update(  # ...and its leases ran out
            lease_until=utcnow() - timedelta(seconds=1)
        )

        await run_workers(arq_settings(), sweep=True)

        rerun_row = await Execution.get(id=rerun)
        lost_row = await Execution.get(id=lost)
    assert live == []  # unexpired leases are left alone
    assert (rerun_row.status, rerun_row.attempts) == ("RESOLVED", 2)
    assert (lost_row.status, lost_row.reason) == ("ERROR", "worker lost")


async def test_a_finish_from_an_older_claim_changes_nothing(gateway: Gateway) -> None:
    await gateway.apply(*FLOWS)
    await gateway.runtime.executor.stop()  # nobody runs it but this test
    execution_id = uuid.UUID((await gateway.post("flow", json={})).headers["x-execution-id"])
    first = await claims.claim(execution_id, lease=30)
    await claims.requeue([execution_id])  # recovered from the first claimer
    second = await claims.claim(execution_id, lease=30)
    assert first and second and (first.attempts, second.attempts) == (1, 2)

    for claim, status in ((first, ExecutionStatus.FAILED), (second, ExecutionStatus.RESOLVED)):
        await gateway.runtime.writer.write(
            FinishExecution(execution_id, status, utcnow(), attempt=claim.attempts)
        )

    row = await Execution.get(id=execution_id)
    assert row.status == "RESOLVED"


async def test_a_definition_change_reaches_other_processes(gateway: Gateway) -> None:
    await gateway.apply(
        "{key: wf, sync: true, nodes: [{key: a, type: end, config: {endStatus: 1}}]}"
    )
    key = (await gateway.url("wf")).rsplit("/", 1)[1]
    other = Registry(gateway.settings)  # another server's cache, on the same database
    await other.check_revision()
    before = await other.route(key)

    await gateway.apply(
        "{key: wf, sync: true, nodes: [{key: a, type: end, config: {endStatus: -1}}]}"
    )
    stale = await other.route(key)
    await other.check_revision()  # what its poller does every GATEWAY_REVISION_POLL seconds
    after = await other.route(key)

    assert before and stale and after
    assert before.workflow.version_id == stale.workflow.version_id
    assert after.workflow.version_id != before.workflow.version_id


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [compute_backoff(n) for n in (0, 1, 2, 3, 7, 50)] == [1.0, 1.0, 2.0, 4.0, 60.0, 60.0]
