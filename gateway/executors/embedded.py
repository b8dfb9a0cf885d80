"""The embedded executor: an in-process pool that drains queued executions.

The default when no Redis is configured: one server process, no other service. The
database is the queue's source of truth; the in-memory queue only carries ids (and, up to
`KEEP_ACCEPTED` of them, the context and raw body of calls this process accepted, so their
claim does not read those back). A claimer takes every id waiting at that moment and
claims them in one statement that rides the writer's group commit (so claiming costs no
commit of its own), then hands the claimed executions to `concurrency` runner tasks
through a small bounded queue. On start it recovers executions a dead process left
STARTED, picks up everything QUEUED and schedules the parked ones; a sweep every
`sweep_interval` seconds picks up anything queued that this process did not hear about. On
stop, running executions get `grace` seconds to finish; claimed-but-not-started ones go
back to QUEUED, and queued ones stay for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import suppress
from datetime import datetime

from gateway.core.clock import utcnow
from gateway.core.errors import GatewayError
from gateway.core.stopping import Stop, stop_task
from gateway.executors.base import Accepted
from gateway.executors.runner import Runner
from gateway.store import claims
from gateway.store.claims import Claimed, Known
from gateway.store.operations import ClaimBatch

log = logging.getLogger("gateway.executor")
CLAIM_BATCH = 64
KEEP_ACCEPTED = 1000  # executions waiting to be claimed whose context is kept in memory


class EmbeddedExecutor:
    def __init__(
        self, runner: Runner, concurrency: int, grace: float, sweep_interval: float = 30.0
    ) -> None:
        self.runner = runner
        self.concurrency = concurrency
        self.grace = grace
        self.sweep_interval = sweep_interval
        self._queue: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self._ready: asyncio.Queue[Claimed] = asyncio.Queue(maxsize=max(1, concurrency))
        self._known: set[uuid.UUID] = set()
        self._again: set[uuid.UUID] = set()
        self._accepted: Known = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[None]] = set()
        self._closing = False
        self._stop = Stop()
        self._sweeper: asyncio.Task[None] | None = None
        self._claiming: asyncio.Future[list[Claimed]] | None = None
        self._unready: list[Claimed] = []

    async def start(self) -> None:
        if self.concurrency == 0:
            log.info("embedded executor idle: GATEWAY_EXECUTOR_CONCURRENCY=0")
            return
        requeued, lost = await self.runner.recover(lease_expired=False)
        if requeued or lost:
            log.warning("recovered executions: %d re-queued, %d marked lost", len(requeued), lost)
        await self.sweep()
        self._tasks = [asyncio.create_task(self._claim_forever(), name="executor-claimer")]
        self._tasks += [
            asyncio.create_task(self._run_forever(), name=f"executor-{i}")
            for i in range(self.concurrency)
        ]
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="executor-sweep")

    def submit(self, execution_id: uuid.UUID, accepted: Accepted | None = None) -> None:
        if self.concurrency and not self._closing and execution_id not in self._known:
            self._known.add(execution_id)
            if accepted is not None and len(self._accepted) < KEEP_ACCEPTED:
                self._accepted[execution_id] = accepted
            self._queue.put_nowait(execution_id)

    def schedule(self, execution_id: uuid.UUID, at: datetime) -> None:
        delay = (at - utcnow()).total_seconds()
        if delay <= 0 and execution_id in self._known:  # a retry without a wait, from its run
            self._again.add(execution_id)
            return
        if delay <= 0:  # due now: counted by `join` at once
            self.submit(execution_id)
            return
        asyncio.get_running_loop().call_later(delay, self.submit, execution_id)

    async def join(self) -> None:
        """Wait until every submitted execution has been run (tests drain with this)."""
        await self._queue.join()

    async def sweep(self) -> None:
        """Submit every due QUEUED execution; schedule the parked ones for their time."""
        for execution_id in await claims.queued_ids():
            self.submit(execution_id)
        for execution_id, at in await claims.parked():
            self.schedule(execution_id, at)

    async def _sweep_forever(self) -> None:
        while not await self._stop.wait(self.sweep_interval):
            try:
                await self.sweep()
            except GatewayError as exc:
                log.warning("queue sweep failed: %s", exc)

    def _done(self, execution_id: uuid.UUID) -> None:
        if execution_id in self._again:  # queued again before this one is counted done
            self._again.discard(execution_id)
            self._queue.put_nowait(execution_id)
            self._queue.task_done()
            return
        self._known.discard(execution_id)
        self._accepted.pop(execution_id, None)
        self._queue.task_done()

    async def _claim_forever(self) -> None:
        while True:
            ids = [await self._queue.get()]
            while len(ids) < CLAIM_BATCH and not self._queue.empty():
                ids.append(self._queue.get_nowait())
            known = {i: self._accepted.pop(i) for i in ids if i in self._accepted}
            claim = ClaimBatch(ids, self.runner.lease, known or None)
            # The claim commits even if this task is cancelled (stop) meanwhile: then
            # `_hand_back_claimed` takes what it claimed, as it takes `_unready`.
            self._claiming = self.runner.writer.write_soon(claim)
            try:
                claimed = await asyncio.shield(self._claiming)
            except GatewayError as exc:  # they stay QUEUED: the sweep brings them back
                log.warning("claiming %d executions failed: %s", len(ids), exc)
                claimed = []
            self._claiming = None
            taken = {c.id for c in claimed}
            for execution_id in ids:
                if execution_id not in taken:
                    self._done(execution_id)
            self._unready = list(claimed)
            while self._unready:
                await self._ready.put(self._unready[0])
                self._unready.pop(0)

    async def _run_forever(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        while not self._closing:
            execution = await self._ready.get()
            self._busy.add(task)
            try:
                await self.runner.run_claimed(execution)
            except GatewayError as exc:
                log.warning("execution %s not run: %s", execution.id, exc)
            except Exception:
                log.exception("execution %s failed in the executor", execution.id)
            finally:
                self._busy.discard(task)
                self._done(execution.id)

    async def stop(self) -> None:
        """The sweep stops after the one at hand; idle tasks, which wait on a queue and
        query nothing (the claimer's claim is the writer's), are cancelled; running
        executions get `grace` seconds, then are cancelled (core/stopping.py)."""
        self._closing = True
        if self._sweeper is not None:
            await stop_task(self._sweeper, self._stop)
            self._sweeper = None
        idle = [t for t in self._tasks if t not in self._busy]
        for task in idle:
            task.cancel()
        busy = list(self._busy)
        if busy:
            log.info("waiting up to %ss for %d running executions", self.grace, len(busy))
            _, pending = await asyncio.wait(busy, timeout=self.grace)
            for task in pending:
                task.cancel()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._hand_back_claimed()

    async def _hand_back_claimed(self) -> None:
        """Claimed executions no runner started go back to QUEUED for the next start."""
        waiting = [execution.id for execution in self._unready]
        if self._claiming is not None:
            with suppress(Exception):  # failed: nothing claimed (the writer logged a bug)
                waiting += [execution.id for execution in await self._claiming]
        while not self._ready.empty():
            waiting.append(self._ready.get_nowait().id)
        if waiting:
            with suppress(GatewayError):
                await claims.requeue(waiting)
