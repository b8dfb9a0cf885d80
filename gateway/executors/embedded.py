"""The embedded executor: an in-process pool that drains queued executions.

The default when no Redis is configured: one server process, no other service. The
database is the queue's source of truth; the in-memory queue only carries ids. On start
it recovers executions a dead process left STARTED and picks up everything QUEUED; a
sweep every `sweep_interval` seconds picks up anything queued that this process did not
hear about. On stop, running executions get `grace` seconds to finish; queued ones stay
QUEUED in the database for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import suppress

from gateway.errors import GatewayError
from gateway.executors.runner import Runner
from gateway.store import executions

log = logging.getLogger("gateway.executor")


class EmbeddedExecutor:
    def __init__(
        self, runner: Runner, concurrency: int, grace: float, sweep_interval: float = 30.0
    ) -> None:
        self.runner = runner
        self.concurrency = concurrency
        self.grace = grace
        self.sweep_interval = sweep_interval
        self._queue: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self._known: set[uuid.UUID] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        if self.concurrency == 0:
            log.info("embedded executor idle: GATEWAY_EXECUTOR_CONCURRENCY=0")
            return
        requeued, lost = await self.runner.recover()
        if requeued or lost:
            log.warning("recovered executions: %d re-queued, %d marked lost", requeued, lost)
        await self.sweep()
        self._workers = [
            asyncio.create_task(self._work(), name=f"executor-{i}") for i in range(self.concurrency)
        ]
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="executor-sweep")

    def submit(self, execution_id: uuid.UUID) -> None:
        if self.concurrency and not self._closing and execution_id not in self._known:
            self._known.add(execution_id)
            self._queue.put_nowait(execution_id)

    async def join(self) -> None:
        """Wait until every submitted execution has been run (tests drain with this)."""
        await self._queue.join()

    async def sweep(self) -> None:
        for execution_id in await executions.queued_ids():
            self.submit(execution_id)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                await self.sweep()
            except GatewayError as exc:
                log.warning("queue sweep failed: %s", exc)

    async def _work(self) -> None:
        while not self._closing:
            execution_id = await self._queue.get()
            task = asyncio.current_task()
            assert task is not None
            self._busy.add(task)
            try:
                await self.runner.run(execution_id)
            except GatewayError as exc:
                log.warning("execution %s not run: %s", execution_id, exc)
            except Exception:
                log.exception("execution %s failed in the executor", execution_id)
            finally:
                self._busy.discard(task)
                self._known.discard(execution_id)
                self._queue.task_done()

    async def stop(self) -> None:
        self._closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        idle = [w for w in self._workers if w not in self._busy]
        for worker in idle:
            worker.cancel()
        busy = list(self._busy)
        if busy:
            log.info("waiting up to %ss for %d running executions", self.grace, len(busy))
            _, pending = await asyncio.wait(busy, timeout=self.grace)
            for worker in pending:
                worker.cancel()
        for worker in self._workers:
            worker.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
