"""`gateway worker`: runs executions from Redis, and sweeps for lost work.

Any number of workers (and servers) share one database and one Redis. Every
`sweep_interval` seconds each worker:
- recovers executions whose lease expired (their worker died): re-queued and redelivered,
  or marked ERROR `worker lost`, per the workflow's `onWorkerLost`;
- redelivers QUEUED executions older than `delivery_grace` (a hand-off to Redis that
  failed, Redis restarted and lost its queue, or a worker died before claiming).
An execution a dead worker was running is therefore running again within `lease` +
`sweep_interval` seconds (defaults: 30 + 5). Duplicated deliveries are harmless: only the
claim (QUEUED → STARTED, a conditional update) starts an execution.

arq's own worker loop ends when its Redis connection breaks; `serve_worker` restarts it
with a backoff while the rest of the process (database, caches) stays up, until SIGTERM or
SIGINT, on which it stops taking jobs and lets running ones finish (`shutdown_grace`); the
ones still running then are cancelled and handed back: re-queued at once (and run again
from Redis, or delivered by a sweep), not left STARTED until their lease runs out. Its
background loops stop after the query at hand (core/stopping.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from datetime import datetime, timedelta
from typing import Any

import orjson
from arq import Retry
from arq.connections import ArqRedis
from arq.worker import Worker, func
from redis.exceptions import RedisError

from gateway import outbound
from gateway.core import shortcuts, tracing
from gateway.core.backoff import compute_backoff
from gateway.core.clock import utcnow
from gateway.core.errors import GatewayError, StoreUnavailable
from gateway.core.settings import Settings
from gateway.core.stopping import Stop, stop_task
from gateway.executors.arq import JOB, deliver_many, redis_settings, trace_key
from gateway.executors.batch_worker import BatchWorker
from gateway.executors.runner import Runner
from gateway.service import credentials
from gateway.service.events import Events
from gateway.service.housekeeping import Housekeeper
from gateway.store import claims
from gateway.store.db import close_store, open_store
from gateway.store.writer import ExecutionWriter
from gateway.workflows.registry import Registry

log = logging.getLogger("gateway.worker")
# arq cancels a job that runs longer than this; executions are bounded by their workflow's
# own timeout instead, and delays are parked, not running.
JOB_TIMEOUT = 24 * 3600
SWEEP_BATCH = 500
_CONNECTION_ERRORS = (RedisError, OSError, TimeoutError)


class WorkerProcess:
    """Everything a worker process holds besides arq's loop. `standalone=False` when the
    process-wide resources (database, outbound HTTP client) are already open in this
    process, as when a test runs a worker beside a server."""

    def __init__(self, settings: Settings, standalone: bool = True) -> None:
        self.settings = settings
        self.standalone = standalone
        self.registry = Registry(settings)
        self.writer = ExecutionWriter()
        self.runner = Runner(
            self.registry, self.writer, settings.template_env_values, lease=settings.lease
        )
        self.runner.on_parked = self._schedule
        self.events = Events(settings)
        self.runner.on_changed = self.events.publish
        self.housekeeper = Housekeeper(settings)
        self.pool: ArqRedis | None = None
        self._running: set[uuid.UUID] = set()
        self._interrupted: set[uuid.UUID] = set()
        self._scheduled: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._stop = Stop()

    async def open(self) -> None:
        if self.standalone:
            shortcuts.configure(self.settings.shortcuts)
            tracing.configure(self.settings.env)
            await open_store(self.settings)
            await outbound.start(
                self.settings.outbound_allow, per_host=self.settings.outbound_per_host
            )
            credentials.install(self.settings)
        await self.registry.start()
        await self.writer.start()
        await self.events.start()
        await self.housekeeper.start()
        self._stop = Stop()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="sweep")

    async def close(self) -> None:
        if self._sweeper is not None:
            await stop_task(self._sweeper, self._stop)  # after the sweep at hand
            self._sweeper = None
        await self.hand_back()
        await self.housekeeper.stop()
        await self.writer.stop()
        await self.events.stop()
        await self.registry.stop()
        if self.standalone:
            await outbound.stop()
            await close_store()

    async def on_startup(self, ctx: dict[str, Any]) -> None:
        self.pool = ctx["redis"]
        log.info("worker connected to Redis", extra={"status": "ready"})

    async def on_shutdown(self, ctx: dict[str, Any]) -> None:
        # arq closes its pool right after this: resume hand-offs still in flight finish
        # first, or they would reopen connections on a closed pool (and leak them).
        await self.settle()
        self.pool = None

    def arq_worker(self, *, burst: bool = False) -> Worker:
        # a shortcut through arq's Worker internals (executors/batch_worker.py)
        worker_class = BatchWorker if shortcuts.enabled() else Worker
        return worker_class(
            functions=[func(self.run_execution, name=JOB, timeout=JOB_TIMEOUT, max_tries=10_000)],
            queue_name=self.settings.redis_queue,
            redis_settings=redis_settings(self.settings),
            on_startup=self.on_startup,
            on_shutdown=self.on_shutdown,
            max_jobs=self.settings.worker_concurrency,
            job_timeout=JOB_TIMEOUT,
            keep_result=0,
            burst=burst,
            poll_delay=0.01,  # arq sleeps this long between polls, even when busy
            job_completion_wait=self.settings.shutdown_grace,
            handle_signals=False,
        )

    def _schedule(self, execution_id: uuid.UUID, at: datetime) -> None:
        """A parked execution's resume, as a deferred job of its own (the running job still
        holds the execution's id); if this fails, the sweep delivers it once due."""
        if self.pool is not None:
            task = asyncio.create_task(self._deliver_resume(self.pool, execution_id, at))
            self._scheduled.add(task)
            task.add_done_callback(self._scheduled.discard)

    async def _deliver_resume(self, pool: ArqRedis, execution_id: uuid.UUID, at: datetime) -> None:
        try:
            await pool.enqueue_job(
                JOB,
                str(execution_id),
                _job_id=f"{execution_id}:resume:{at.timestamp()}",
                _defer_until=at,
            )
        except _CONNECTION_ERRORS as exc:
            log.warning("resume not scheduled in Redis, the sweep will deliver it: %s", exc)

    async def settle(self) -> None:
        """Wait for resume hand-offs in flight."""
        while self._scheduled:
            await asyncio.gather(*list(self._scheduled), return_exceptions=True)

    async def _adopt_trace(self, execution_id: str) -> None:
        """Join the trace of the call that accepted the execution (`ArqExecutor._carry`)."""
        if self.pool is None:
            return
        try:
            raw = await self.pool.getdel(trace_key(self.settings, execution_id))
        except _CONNECTION_ERRORS as exc:
            log.warning("trace context not read: %s", exc, extra={"execution_id": execution_id})
            return
        if raw:
            tracing.adopt(execution_id, orjson.loads(raw))

    async def run_execution(self, ctx: dict[str, Any], execution_id: str) -> None:
        key = uuid.UUID(execution_id)
        self._running.add(key)
        try:
            if tracing.ON:
                await self._adopt_trace(execution_id)
            await self.runner.run(key)
        except StoreUnavailable as exc:
            defer = compute_backoff(int(ctx.get("job_try", 1)))
            log.warning(
                "database unavailable, retrying in %ss: %s",
                defer,
                exc,
                extra={"execution_id": execution_id},
            )
            raise Retry(defer=defer) from exc
        except asyncio.CancelledError:
            self._interrupted.add(key)  # stopped, not finished: `hand_back` re-queues it
            raise
        finally:
            self._running.discard(key)

    async def hand_back(self) -> None:
        """Executions this worker was running when it stopped (still running, or their jobs
        cancelled) go back to the queue now, instead of waiting for their leases to expire."""
        running = list(self._running | self._interrupted)
        if not running:
            return
        self._interrupted.clear()
        try:
            requeued = await claims.requeue(running)
            if self.pool is not None:
                await deliver_many(self.pool, requeued, redeliver=True)
        except (GatewayError, *_CONNECTION_ERRORS) as exc:
            log.warning("could not hand back running executions (the sweep will): %s", exc)

    async def _sweep_forever(self) -> None:
        while not await self._stop.wait(self.settings.sweep_interval):
            if self.pool is None:
                continue
            try:
                await self.sweep(self.pool)
            except (GatewayError, *_CONNECTION_ERRORS) as exc:
                log.warning("sweep failed: %s", exc)

    async def sweep(self, pool: ArqRedis) -> int:
        """One pass of recovery and redelivery; returns how many executions it delivered."""
        requeued, lost = await self.runner.recover(lease_expired=True)
        if requeued or lost:
            log.warning("recovered executions: %d re-queued, %d marked lost", len(requeued), lost)
        older = utcnow() - timedelta(seconds=self.settings.delivery_grace)
        waiting = await claims.queued_ids(limit=SWEEP_BATCH, older_than=older)
        await deliver_many(pool, [*requeued, *waiting], redeliver=True)
        return len(requeued) + len(waiting)


async def _close_quietly(worker: Worker) -> None:
    """arq's close() cancels the jobs still running, then gathers them, which re-raises
    their CancelledError (or any job's exception) and ends the process before the pool is
    closed. Jobs are cancelled and collected here first; `WorkerProcess.hand_back` then
    re-queues their executions."""
    for task in worker.tasks.values():
        task.cancel()
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    worker.tasks.clear()
    try:
        await worker.close()
    except _CONNECTION_ERRORS as exc:
        log.debug("arq worker closed without Redis: %s", exc)


async def _run_until(worker: Worker, stopping: asyncio.Event) -> bool:
    """Run arq's loop; True when asked to stop, False when the loop failed."""
    run = asyncio.create_task(worker.async_run())
    stop = asyncio.create_task(stopping.wait())
    await asyncio.wait({run, stop}, return_when=asyncio.FIRST_COMPLETED)
    if stop.done():
        worker.handle_sig_wait_for_completion(signal.SIGTERM)
        await asyncio.gather(run, return_exceptions=True)
        return True
    stop.cancel()
    error = run.exception()
    if error is not None:
        log.warning("lost Redis, restarting the arq loop: %s", error)
    return False


async def serve_worker(settings: Settings) -> None:
    """The `gateway worker` process, until SIGTERM or SIGINT."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    process = WorkerProcess(settings)
    await process.open()
    attempt = 0
    try:
        while not stopping.is_set():
            worker = process.arq_worker()
            if await _run_until(worker, stopping):
                await _close_quietly(worker)
                break
            await _close_quietly(worker)
            await process.hand_back()
            attempt += 1
            try:
                await asyncio.wait_for(stopping.wait(), compute_backoff(attempt, cap=10))
            except TimeoutError:
                pass
    finally:
        await process.close()
