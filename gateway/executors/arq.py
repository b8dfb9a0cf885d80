"""The arq executor, server side: hand accepted executions to Redis.

An accepted execution is already committed when it is handed over; if Redis cannot take it
now, the call is still accepted (SPEC §3) and the workers' sweep delivers it later. The
execution id is the arq job id, so delivering twice enqueues once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.exceptions import RedisError

from gateway.executors.base import Accepted
from gateway.settings import Settings

log = logging.getLogger("gateway.executor")
JOB = "run_execution"
IN_PROGRESS = "arq:in-progress:"


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


async def deliver(
    pool: ArqRedis,
    execution_id: uuid.UUID,
    at: datetime | None = None,
    redeliver: bool = False,
) -> bool:
    """Enqueue the execution's job (no-op when it is queued already). `redeliver` also
    clears the in-progress mark a dead worker left, so its job runs again now."""
    job_id = str(execution_id)
    if redeliver:
        await pool.delete(IN_PROGRESS + job_id)
    job = await pool.enqueue_job(JOB, job_id, _job_id=job_id, _defer_until=at)  # default queue
    return job is not None


class ArqExecutor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: ArqRedis | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        try:
            self.pool = await connect(self.settings)
        except (RedisError, OSError) as exc:
            # Accepting does not need Redis: executions are committed first and swept later.
            log.warning("Redis unavailable at start-up, deliveries will be swept later: %s", exc)

    def submit(self, execution_id: uuid.UUID, accepted: Accepted | None = None) -> None:
        """Deliver in the background: the caller's answer never waits for Redis (a worker
        reads the execution from the database: `accepted` is not needed)."""
        task = asyncio.create_task(self._deliver(execution_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, execution_id: uuid.UUID, at: datetime | None = None) -> None:
        try:
            if self.pool is None:
                self.pool = await connect(self.settings)
            await deliver(self.pool, execution_id, at)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning(
                "execution not handed to Redis, the sweep will deliver it: %s",
                exc,
                extra={"execution_id": str(execution_id)},
            )

    def schedule(self, execution_id: uuid.UUID, at: datetime) -> None:
        task = asyncio.create_task(self._deliver(execution_id, at))
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
