"""The batched arq worker (gateway/executors/batch_worker.py) on a real Redis: jobs start
as arq's worker would start them (not twice, not early, not when expired), and end as
arq's would (finished, failed, retried later, or run again after a cancellation)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from arq import Retry
from arq.connections import ArqRedis
from arq.typing import WorkerCoroutine
from arq.worker import func

from gateway.core.settings import Settings
from gateway.executors.arq import JOB, connect, deliver_many
from gateway.executors.batch_worker import BatchWorker
from tests.conftest import SettingsFactory

Job = Callable[[dict[str, Any], str], Awaitable[None]]


def batch_worker(settings: Settings, job: Job, pool: ArqRedis, **options: Any) -> BatchWorker:
    return BatchWorker(
        functions=[func(cast(WorkerCoroutine, job), name=JOB, max_tries=3)],
        queue_name=settings.redis_queue,
        redis_pool=pool,
        keep_result=0,
        handle_signals=False,
        **options,
    )


async def drain(settings: Settings, job: Job, ids: list[uuid.UUID]) -> BatchWorker:
    """One poll of a worker that was handed `ids`, and the jobs it started, to their end."""
    pool = await connect(settings)
    worker = batch_worker(settings, job, pool)
    try:
        await worker.start_jobs([str(i).encode() for i in ids])
        await asyncio.gather(*worker.tasks.values())
    finally:
        await pool.aclose()
    return worker


def recording() -> tuple[list[str], Job]:
    """A job that notes the executions it was run for."""
    ran: list[str] = []

    async def job(ctx: dict[str, Any], execution_id: str) -> None:
        ran.append(execution_id)

    return ran, job


async def queue_state(pool: ArqRedis, settings: Settings, ids: list[uuid.UUID]) -> list[Any]:
    """Per job: (queued, its payload kept, in progress)."""
    rows = []
    for i in ids:
        score = await pool.zscore(settings.redis_queue, str(i))
        rows.append(
            (
                score is not None,
                bool(await pool.exists(f"arq:job:{i}")),
                bool(await pool.exists(f"arq:in-progress:{i}")),
            )
        )
    return rows


async def test_due_jobs_start_once_and_finish_together(arq_settings: SettingsFactory) -> None:
    settings = arq_settings()
    pool = await connect(settings)
    ran, job = recording()

    ids = [uuid.uuid4() for _ in range(5)]
    elsewhere, expired = ids[3], ids[4]
    try:
        await deliver_many(pool, ids)
        await pool.set(f"arq:in-progress:{elsewhere}", b"1")  # another worker runs it
        await pool.delete(f"arq:job:{expired}")  # its payload expired
        worker = await drain(settings, job, ids)
        state = await queue_state(pool, settings, ids)
    finally:
        await pool.aclose()

    assert sorted(ran) == sorted(str(i) for i in ids[:3])
    assert (worker.jobs_complete, worker.jobs_failed) == (3, 1)
    assert state == [(False, False, False)] * 3 + [(True, True, True), (False, False, False)]


async def ended(worker: Any, job_id: str) -> None:
    """Wait for a started job; one that ended already (during the poll's own awaits) has
    left `worker.tasks`."""
    task = worker.tasks.get(job_id)
    if task is not None:
        await task


async def test_a_free_slot_takes_the_next_job_while_earlier_ones_still_run(
    arq_settings: SettingsFactory,
) -> None:
    # A job stays at the head of the queue until it finishes: a poll with one slot free
    # must pass over the jobs this worker is running and start the next one.
    settings = arq_settings()
    pool = await connect(settings)
    release = asyncio.Event()
    ran: list[str] = []
    ids = sorted((uuid.uuid4() for _ in range(4)), key=str)  # one score: queued by id
    slow = str(ids[0])

    async def job(ctx: dict[str, Any], execution_id: str) -> None:
        ran.append(execution_id)
        if execution_id == slow:
            await release.wait()

    worker = batch_worker(settings, job, pool, max_jobs=2)
    try:
        await deliver_many(pool, ids)
        await worker._poll_iteration()  # starts the first two; the second ends
        await ended(worker, str(ids[1]))
        await worker._poll_iteration()  # one slot free: the third, not the running first
        await ended(worker, str(ids[2]))
        assert ran == [str(i) for i in ids[:3]]
        release.set()
        await worker.tasks[slow]
        await worker._poll_iteration()
        await asyncio.gather(*worker.tasks.values())
    finally:
        release.set()
        await pool.aclose()

    assert ran == [str(i) for i in ids]
    assert worker.jobs_complete == 4


async def test_a_job_not_due_yet_waits(arq_settings: SettingsFactory) -> None:
    settings = arq_settings()
    pool = await connect(settings)
    ran, job = recording()

    now, later = uuid.uuid4(), uuid.uuid4()
    try:
        await deliver_many(pool, [now])
        await deliver_many(pool, [later])
        await pool.zincrby(settings.redis_queue, 3_600_000, str(later))  # due in an hour
        await drain(settings, job, [now, later])
        state = await queue_state(pool, settings, [later])
    finally:
        await pool.aclose()

    assert ran == [str(now)]
    assert state == [(True, True, False)]


async def test_a_retry_moves_the_job_later_and_counts_the_try(
    arq_settings: SettingsFactory,
) -> None:
    settings = arq_settings()
    pool = await connect(settings)
    tries: list[int] = []

    async def job(ctx: dict[str, Any], execution_id: str) -> None:
        tries.append(ctx["job_try"])
        raise Retry(defer=60)

    execution_id = uuid.uuid4()
    try:
        await deliver_many(pool, [execution_id])
        before = await pool.zscore(settings.redis_queue, str(execution_id))
        worker = await drain(settings, job, [execution_id])
        after = await pool.zscore(settings.redis_queue, str(execution_id))
        state = await queue_state(pool, settings, [execution_id])
        counted = await pool.get(f"arq:retry:{execution_id}")
    finally:
        await pool.aclose()

    assert tries == [1] and worker.jobs_retried == 1
    assert before is not None and after is not None and after - before >= 60_000
    assert state == [(True, True, False)]  # queued, kept, free for the next try
    assert counted == b"1"


async def test_a_failing_job_ends_and_a_cancelled_one_stays_queued(
    arq_settings: SettingsFactory,
) -> None:
    settings = arq_settings()
    pool = await connect(settings)
    failing, cancelled = uuid.uuid4(), uuid.uuid4()

    async def job(ctx: dict[str, Any], execution_id: str) -> None:
        if execution_id == str(failing):
            raise ValueError("a bug")
        raise asyncio.CancelledError

    try:
        await deliver_many(pool, [failing, cancelled])
        worker = await drain(settings, job, [failing, cancelled])
        state = await queue_state(pool, settings, [failing, cancelled])
    finally:
        await pool.aclose()

    assert (worker.jobs_failed, worker.jobs_retried) == (1, 1)
    assert state == [(False, False, False), (True, True, False)]


async def test_a_job_past_its_tries_ends_without_running(arq_settings: SettingsFactory) -> None:
    settings = arq_settings()
    pool = await connect(settings)
    ran, job = recording()

    execution_id = uuid.uuid4()
    try:
        await deliver_many(pool, [execution_id])
        await pool.set(f"arq:retry:{execution_id}", 3)  # max_tries=3 used up
        worker = await drain(settings, job, [execution_id])
        state = await queue_state(pool, settings, [execution_id])
    finally:
        await pool.aclose()

    assert ran == [] and worker.jobs_failed == 1
    assert state == [(False, False, False)]
