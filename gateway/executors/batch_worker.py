"""arq's worker, starting and finishing jobs in batches.

arq's own worker starts each job with a WATCH transaction (four round trips to Redis, one
job after another), reads it with a fifth and finishes it with a sixth: those round trips
dominate a worker's time, and the serial start caps how fast a backlog drains
(docs/performance.md, scenario 3). This worker keeps arq's queue, job format, keys, retries
and loop, and changes how jobs go in and out:

- every poll starts all the due jobs it has room for in one script call, which marks each
  in progress (skipping those already running or no longer due, as arq's transaction
  does), counts its try and returns its payload; the jobs this worker already runs, at
  the head of what the poll read, are passed over first;
- the finishes of jobs that end together go to Redis in one transaction.

It serves the gateway's one job function; arq's extras it does not use (cron jobs, aborts,
kept results, job hooks) are not supported here.

It reaches into arq's `Worker` (its `start_jobs`, slot counter and semaphore, task table and
Redis keys), so it is a shortcut: `gateway worker` runs it only while `GATEWAY_SHORTCUTS` is
on, and arq's own `Worker` otherwise (gateway/service/worker.py). It saves most of the
worker's CPU per execution: arq's own worker cannot keep up with scenario 3's load
(docs/performance.md, Shortcuts).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix
from arq.jobs import SerializationError, deserialize_job_raw
from arq.utils import ms_to_datetime, timestamp_ms
from arq.worker import Retry, RetryJob, Worker
from redis.commands.core import AsyncScript

log = logging.getLogger("gateway.worker")
RETRY_KEY_TTL = 88400  # seconds, as arq keeps a job's try count

# KEYS: the queue, then per job its in-progress, job and retry keys. ARGV: now (ms), the
# in-progress mark's lifetime (ms), the try count's lifetime (s), then the job ids.
# Returns, per job started, its id, score, payload ("" if it expired) and try number.
_START = """
local started = {}
for j = 0, (#KEYS - 1) / 3 - 1 do
  local progress, job, retry = KEYS[2 + 3 * j], KEYS[3 + 3 * j], KEYS[4 + 3 * j]
  local id = ARGV[4 + j]
  local score = redis.call("ZSCORE", KEYS[1], id)
  if score and tonumber(score) <= tonumber(ARGV[1]) and redis.call("EXISTS", progress) == 0 then
    redis.call("PSETEX", progress, ARGV[2], "1")
    local try = redis.call("INCR", retry)
    redis.call("EXPIRE", retry, ARGV[3])
    started[#started + 1] = id
    started[#started + 1] = score
    started[#started + 1] = redis.call("GET", job) or ""
    started[#started + 1] = try
  end
end
return started
"""


@dataclass(slots=True)
class _Finish:
    job_id: str
    done: bool  # False: the job stays queued, to run again (after `defer_ms`)
    defer_ms: int | None
    future: asyncio.Future[None]


class BatchWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._start_script: AsyncScript | None = None
        self._finishing: list[_Finish] = []
        self._finisher: asyncio.Task[None] | None = None

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """Start as many of the polled jobs as there are free slots. The poll reads the
        queue from its head, and a job stays queued until it finishes: the jobs this
        worker runs come first, and are passed over here. (Taking the first `room` ids,
        running ones included, started new jobs only once more than half the slots were
        free: a backlog drained in waves.)"""
        room = self.max_jobs - self.job_counter
        running = self.tasks
        ids: list[str] = []
        for raw in job_ids:
            if len(ids) >= room:
                break
            job_id = raw.decode()
            if job_id not in running:
                ids.append(job_id)
        if not ids:
            return
        if self._start_script is None:
            self._start_script = self.pool.register_script(_START)
        keys = [self.queue_name]
        for job_id in ids:
            keys += [
                in_progress_key_prefix + job_id,
                job_key_prefix + job_id,
                retry_key_prefix + job_id,
            ]
        progress_ms = int(self.in_progress_timeout_s * 1000)
        args: list[int | str] = [timestamp_ms(), progress_ms, RETRY_KEY_TTL, *ids]
        started = await self._start_script(keys=keys, args=args)
        for i in range(0, len(started), 4):
            job_id = started[i].decode()
            score = int(float(started[i + 1]))
            payload, job_try = started[i + 2] or None, int(started[i + 3])
            await self.sem.acquire()  # never waits: job_counter < max_jobs
            self.job_counter += 1
            task = self.loop.create_task(self._run(job_id, score, payload, job_try))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task

    async def _run(self, job_id: str, score: int, payload: bytes | None, job_try: int) -> None:
        """arq's run_job for a job already started and read."""
        if payload is None:
            log.warning("job %s expired", job_id)
            self.jobs_failed += 1
            return await asyncio.shield(self._finish(job_id, True))
        try:
            name, args, kwargs, enqueued_try, enqueued_ms = deserialize_job_raw(
                payload, deserializer=self.job_deserializer
            )
            function = self.functions[name]
        except (SerializationError, KeyError) as exc:
            log.error("job %s cannot be run: %r", job_id, exc)
            self.jobs_failed += 1
            return await asyncio.shield(self._finish(job_id, True))
        job_try = max(job_try, enqueued_try or 0)
        max_tries = self.max_tries if function.max_tries is None else function.max_tries
        if job_try > max_tries:
            log.warning("job %s: max retries %d exceeded", job_id, max_tries)
            self.jobs_failed += 1
            return await asyncio.shield(self._finish(job_id, True))
        ctx = {
            **self.ctx,
            "job_id": job_id,
            "job_try": job_try,
            "enqueue_time": ms_to_datetime(enqueued_ms),
            "score": score,
        }
        timeout = self.job_timeout_s if function.timeout_s is None else function.timeout_s
        done, defer_ms = True, None
        try:
            async with asyncio.timeout(timeout):
                await function.coroutine(ctx, *args, **kwargs)
        except Retry as exc:
            done = False
            if exc.defer_score:
                defer_ms = exc.defer_score + (timestamp_ms() - score)
            self.jobs_retried += 1
        except (asyncio.CancelledError, RetryJob):
            done = False  # run again, as arq does with a cancelled job
            self.jobs_retried += 1
        except Exception:
            log.exception("job %s failed", job_id)
            self.jobs_failed += 1
        else:
            self.jobs_complete += 1
        await asyncio.shield(self._finish(job_id, done, defer_ms))

    def _finish(self, job_id: str, done: bool, defer_ms: int | None = None) -> asyncio.Future[None]:
        """Queue the job's finish for the next transaction; the future settles with it."""
        future: asyncio.Future[None] = self.loop.create_future()
        self._finishing.append(_Finish(job_id, done, defer_ms, future))
        if self._finisher is None:
            self._finisher = self.loop.create_task(self._finish_waiting())
        return future

    async def _finish_waiting(self) -> None:
        try:
            while self._finishing:
                batch, self._finishing = self._finishing, []
                try:
                    await self._finish_batch(batch)
                except BaseException as exc:
                    for finish in batch:
                        if not finish.future.done():
                            finish.future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for finish in batch:
                        if not finish.future.done():
                            finish.future.set_result(None)
        finally:
            self._finisher = None

    async def _finish_batch(self, batch: list[_Finish]) -> None:
        """arq's finish_job, for many jobs in one transaction: a finished job's keys go and
        it leaves the queue; an unfinished one loses its in-progress mark (so it runs
        again) and, if deferred, moves later in the queue."""
        async with self.pool.pipeline(transaction=True) as tr:
            for finish in batch:
                job_id = finish.job_id
                if finish.done:
                    tr.delete(
                        in_progress_key_prefix + job_id,
                        retry_key_prefix + job_id,
                        job_key_prefix + job_id,
                    )
                    tr.zrem(self.queue_name, job_id)
                else:
                    if finish.defer_ms:
                        tr.zincrby(self.queue_name, finish.defer_ms, job_id)
                    tr.delete(in_progress_key_prefix + job_id)
            await tr.execute()
