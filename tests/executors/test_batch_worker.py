"""The batched arq worker (gateway/executors/batch_worker.py) on a real Redis: jobs start
as arq's worker would start them (not twice, not early, not when expired), and end as
arq's would (finished, failed, retried later, or run again after a cancellation). Every
test runs on arq's own `Worker` too (the plain path, `GATEWAY_SHORTCUTS=false`): what it
does is what the batched worker must do."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
from arq import Retry
from arq.connections import ArqRedis
from arq.typing import WorkerCoroutine
from arq.worker import Worker, func

from gateway.core.settings import Settings
from gateway.executors.arq import JOB, connect, deliver_many
from gateway.executors.batch_worker import BatchWorker
from tests.support import make_settings

Job = Callable[[dict[str, Any], str], Awaitable[None]]
MakeWorker = Callable[..., Worker]


@pytest.fixture
def settings(redis_url: str) -> Settings:
    """A queue of this test's own; no database (these tests touch only Redis)."""
    queue = f"arq:test:{uuid.uuid4().hex}"
    return make_settings("sqlite://:memory:", redis_url=redis_url, redis_queue=queue)


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[ArqRedis]:
    pool = await connect(settings)
    yield pool
    await pool.aclose()


@pytest.fixture(params=[BatchWorker, Worker], ids=["batch", "arq"])
def make_worker(request: pytest.FixtureRequest, settings: Settings) -> MakeWorker:
    worker_class: type[Worker] = request.param

    def build(job: Job, pool: ArqRedis, **options: Any) -> Worker:
        return worker_class(
            functions=[func(cast(WorkerCoroutine, job), name=JOB, max_tries=3)],
            queue_name=settings.redis_queue,
            redis_pool=pool,
            keep_result=0,
            handle_signals=False,
            **options,
        )

    return build


async def drain(make_worker: MakeWorker, job: Job, pool: ArqRedis, ids: list[uuid.UUID]) -> Worker:
    """One poll of a worker that was handed `ids`, and the jobs it started, to their end."""
    worker = make_worker(job, pool)
    await worker.start_jobs([str(i).encode() for i in ids])
    await asyncio.gather(*worker.tasks.values())
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


async def test_due_jobs_start_once_and_finish_together(
    make_worker: MakeWorker, pool: ArqRedis, settings: Settings
) -> None:
    ran, job = recording()
    ids = [uuid.uuid4() for _ in range(5)]
    elsewhere, expired = ids[3], ids[4]
    await deliver_many(pool, ids)
    await pool.set(f"arq:in-progress:{elsewhere}", b"1")  # another worker runs it
    await pool.delete(f"arq:job:{expired}")  # its payload expired

    worker = await drain(make_worker, job, pool, ids)

    assert sorted(ran) == sorted(str(i) for i in ids[:3])
    assert (worker.jobs_complete, worker.jobs_failed) == (3, 1)
    assert await queue_state(pool, settings, ids) == [(False, False, False)] * 3 + [
        (True, True, True),
        (False, False, False),
    ]


async def test_a_free_slot_takes_the_next_job_while_an_earlier_one_still_runs(
    make_worker: MakeWorker, pool: ArqRedis
) -> None:
    # A job stays at the head of the queue until it finishes: while the first job holds
    # one of two slots, each poll must pass over it and start the next job in the other.
    ids = sorted((uuid.uuid4() for _ in range(4)), key=str)  # one score: queued by id
    slow, others = str(ids[0]), {str(i) for i in ids[1:]}
    ran: list[str] = []
    others_ran = asyncio.Event()

    async def job(ctx: dict[str, Any], execution_id: str) -> None:
        ran.append(execution_id)
        if execution_id == slow:  # a bound only for a failure: it fails the job, not a hang
            await asyncio.wait_for(others_ran.wait(), timeout=10)
        elif others <= set(ran):
            others_ran.set()

    await deliver_many(pool, ids)
    worker = make_worker(job, pool, max_jobs=2, burst=True, poll_delay=0)
    await worker.async_run()  # arq's loop, until the queue is empty

    assert ran == [str(i) for i in ids]
    assert (worker.jobs_complete, worker.jobs_failed) == (4, 0)


async def test_a_job_not_due_yet_waits(
    make_worker: MakeWorker, pool: ArqRedis, settings: Settings
) -> None:
    ran, job = recording()
    now, later = uuid.uuid4(), uuid.uuid4()
    await deliver_many(pool, [now])
    await deliver_many(pool, [later])
    await pool.zincrby(settings.redis_queue, 3_600_000, str(later))  # due in an hour

    await drain(make_worker, job, pool, [now, later])

    assert ran == [str(now)]
    assert await queue_state(pool, settings, [later]) == [(True, True, False)]


async def test_a_retry_moves_the_job_later_and_counts_the_try(
    make_worker: MakeWorker, pool: ArqRedis, settings: Settings
) -> None:
    tries: list[int] = []

    async def job(ctx: dict[str, Any], execution_id: str) -> None:
        tries.append(ctx["job_try"])
        raise Retry(defer=60)

    execution_id = uuid.uuid4()
    await deliver_many(pool, [execution_id])
    before = await pool.zscore(settings.redis_queue, str(execution_id))

    worker = await drain(make_worker, job, pool, [execution_id])

    after = await pool.zscore(settings.redis_queue, str(execution_id))
    assert tries == [1] and worker.jobs_retried == 1
    assert before is not None and after is not None and after - before >= 60_000
    # queued, kept, free for the next try, which is counted
    assert await queue_state(pool, settings, [execution_id]) == [(True, True, False)]
    assert await pool.get(f"arq:retry:{execution_id}") == b"1"


async def test_a_failing_job_ends_and_a_cancelled_one_stays_queued(
    make_worker: MakeWorker, pool: ArqRedis, settings: Settings
) -> None:
    failing, cancelled = uuid.uuid4(), uuid.uuid4()

    async def job(ctx: dict[str, Any], execution_id: str) -> None:
        if execution_id == str(failing):
            raise ValueError("a bug")
        raise asyncio.CancelledError

    await deliver_many(pool, [failing, cancelled])

    worker = await drain(make_worker, job, pool, [failing, cancelled])

    assert (worker.jobs_failed, worker.jobs_retried) == (1, 1)
    assert await queue_state(pool, settings, [failing, cancelled]) == [
        (False, False, False),
        (True, True, False),
    ]


async def test_a_job_past_its_tries_ends_without_running(
    make_worker: MakeWorker, pool: ArqRedis, settings: Settings
) -> None:
    ran, job = recording()
    execution_id = uuid.uuid4()
    await deliver_many(pool, [execution_id])
    await pool.set(f"arq:retry:{execution_id}", 3)  # max_tries=3 used up

    worker = await drain(make_worker, job, pool, [execution_id])

    assert ran == [] and worker.jobs_failed == 1
    assert await queue_state(pool, settings, [execution_id]) == [(False, False, False)]
