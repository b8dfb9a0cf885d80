"""The arq executor, server side: hand accepted executions to Redis.

An accepted execution is already committed when it is handed over; if Redis cannot take it
now, the call is still accepted (docs/webhooks.md, Answers) and the workers' sweep delivers
it later. The execution id is the arq job id, so delivering twice enqueues once. Executions
accepted together are enqueued together: one script call writes arq's job records for all
of them, where arq's `enqueue_job` costs three round trips and a WATCH transaction per job.

The script writes arq's Redis layout itself, so it is a shortcut, taken only while
`GATEWAY_SHORTCUTS` is on; off, each job goes through `ArqRedis.enqueue_job`. It saves most
of the hand-off's cost: without it the server's deliveries fall behind scenario 3's load
(docs/performance.md, Shortcuts).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms
from redis.exceptions import RedisError

from gateway.core import shortcuts, tracing
from gateway.core.settings import Settings
from gateway.executors.base import Accepted

log = logging.getLogger("gateway.executor")
JOB = "run_execution"


async def connect(settings: Settings) -> ArqRedis:
    """A pool whose default queue is the configured one (`GATEWAY_REDIS_QUEUE`)."""
    return await create_pool(redis_settings(settings), default_queue_name=settings.redis_queue)


def redis_settings(settings: Settings) -> RedisSettings:
    if not settings.redis_url:
        raise ValueError("the arq executor needs GATEWAY_REDIS_URL")
    redis = RedisSettings.from_dsn(settings.redis_url)
    redis.conn_timeout = 2
    redis.conn_retries = 1
    return redis


# arq's enqueue_job, for many jobs in one call: a job already queued (or with a result)
# is left alone. KEYS: the queue, then per job its job, result and in-progress keys. ARGV:
# expiry (ms), "1" to clear in-progress marks first, then per job its id, score, payload.
_ENQUEUE = """
local queued = 0
for j = 0, (#KEYS - 1) / 3 - 1 do
  local job_key, result_key, progress_key = KEYS[2 + 3 * j], KEYS[3 + 3 * j], KEYS[4 + 3 * j]
  if ARGV[2] == "1" then redis.call("DEL", progress_key) end
  if redis.call("EXISTS", job_key, result_key) == 0 then
    redis.call("PSETEX", job_key, ARGV[1], ARGV[5 + 3 * j])
    redis.call("ZADD", KEYS[1], ARGV[4 + 3 * j], ARGV[3 + 3 * j])
    queued = queued + 1
  end
end
return queued
"""
DELIVERY_BATCH = 500


async def deliver_many(
    pool: ArqRedis,
    execution_ids: Sequence[uuid.UUID],
    at: datetime | None = None,
    redeliver: bool = False,
) -> int:
    """Enqueue the executions' jobs (the execution id is the job id) in one script call
    per `DELIVERY_BATCH`, in arq's own job format; returns how many were not queued
    already. `redeliver` also clears the in-progress marks a dead worker left, so their
    jobs run again now."""
    if not shortcuts.enabled():
        return await _enqueue_each(pool, execution_ids, at, redeliver)
    script = pool.register_script(_ENQUEUE)
    queued = 0
    for start in range(0, len(execution_ids), DELIVERY_BATCH):
        now = timestamp_ms()
        score = to_unix_ms(at) if at is not None else now
        keys: list[str] = [pool.default_queue_name]
        args: list[Any] = [score - now + pool.expires_extra_ms, "1" if redeliver else "0"]
        for execution_id in execution_ids[start : start + DELIVERY_BATCH]:
            job_id = str(execution_id)
            keys += [
                job_key_prefix + job_id,
                result_key_prefix + job_id,
                in_progress_key_prefix + job_id,
            ]
            job = serialize_job(JOB, (job_id,), {}, None, now, serializer=pool.job_serializer)
            args += [job_id, score, job]
        queued += int(await script(keys=keys, args=args))
    return queued


async def _enqueue_each(
    pool: ArqRedis, execution_ids: Sequence[uuid.UUID], at: datetime | None, redeliver: bool
) -> int:
    """`deliver_many` through arq's public `enqueue_job`, one job after another."""
    queued = 0
    for execution_id in execution_ids:
        job_id = str(execution_id)
        if redeliver:
            await pool.delete(in_progress_key_prefix + job_id)
        job = await pool.enqueue_job(JOB, job_id, _job_id=job_id, _defer_until=at)
        queued += job is not None
    return queued


async def deliver(
    pool: ArqRedis,
    execution_id: uuid.UUID,
    at: datetime | None = None,
    redeliver: bool = False,
) -> bool:
    """Enqueue one execution's job; False when it was queued already."""
    return await deliver_many(pool, [execution_id], at, redeliver) == 1


TRACE_TTL = 3600  # seconds an execution's trace context waits in Redis for a worker


def trace_key(settings: Settings, execution_id: str) -> str:
    return f"{settings.redis_prefix}:trace:{execution_id}"


class ArqExecutor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: ArqRedis | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._waiting: list[uuid.UUID] = []
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            self.pool = await connect(self.settings)
        except (RedisError, OSError) as exc:
            # Accepting does not need Redis: executions are committed first and swept later.
            log.warning("Redis unavailable at start-up, deliveries will be swept later: %s", exc)

    def submit(self, execution_id: uuid.UUID, accepted: Accepted | None = None) -> None:
        """Deliver in the background: the caller's answer never waits for Redis (a worker
        reads the execution from the database: `accepted` is not needed). The executions
        submitted meanwhile go to Redis together, in one script call."""
        self._waiting.append(execution_id)
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_waiting())
            self._pending.add(self._sender)
            self._sender.add_done_callback(self._pending.discard)

    async def _send_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._deliver(batch)
        finally:
            self._sender = None

    async def _deliver(self, execution_ids: list[uuid.UUID], at: datetime | None = None) -> None:
        try:
            if self.pool is None:
                self.pool = await connect(self.settings)
            await deliver_many(self.pool, execution_ids, at)
            if tracing.ON:
                await self._carry(execution_ids)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning(
                "%d executions not handed to Redis, the sweep will deliver them: %s",
                len(execution_ids),
                exc,
                extra={"execution_id": str(execution_ids[0])},
            )

    async def _carry(self, execution_ids: list[uuid.UUID]) -> None:
        """Each execution's trace context, for the worker that runs it (`trace_key`)."""
        assert self.pool is not None
        async with self.pool.pipeline(transaction=False) as pipe:
            for execution_id in execution_ids:
                headers = tracing.carrier(str(execution_id))
                if headers:
                    key = trace_key(self.settings, str(execution_id))
                    pipe.set(key, orjson.dumps(headers), ex=TRACE_TTL)
            await pipe.execute()

    def schedule(self, execution_id: uuid.UUID, at: datetime) -> None:
        task = asyncio.create_task(self._deliver([execution_id], at))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def ping(self) -> str:
        try:
            if self.pool is None:
                self.pool = await connect(self.settings)
            await self.pool.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            return f"unavailable: {exc}"
        return "ok"

    async def join(self) -> None:
        """Wait for hand-offs in flight (not for the executions: workers run those)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def stop(self) -> None:
        await self.join()
        if self.pool is not None:
            await self.pool.aclose()
            self.pool = None
