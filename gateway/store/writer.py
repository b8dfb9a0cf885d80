"""The group-committed writer: the one path by which executions are written on the request
path and by executors.

Callers hand `ExecutionWriter` an operation (`operations.py`) and await it (`write_soon`
queues one without waiting); a single flusher commits every operation pending at that
moment in one transaction (group commit, `commits.py`) and only then resolves the callers'
futures, so an answer that depends on a write is sent after its commit. If a batch fails,
its operations are retried one by one so one bad write fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any

from gateway.core.errors import GatewayError
from gateway.core.stopping import STOP_GRACE
from gateway.store import commits
from gateway.store.errors import translate
from gateway.store.operations import Operation

log = logging.getLogger("gateway.store")
# How many group commits' worth of writes may wait before callers that do not wait for
# their commit (sync records) do: two let a loaded server's sync calls wait on a commit
# whenever one commit ran long, and that was its p99.
BACKLOG_COMMITS = 4
Pending = tuple[Operation, "asyncio.Future[Any]"]


class ExecutionWriter:
    def __init__(self, max_batch: int = 500) -> None:
        self.max_batch = max_batch
        # Thread rule: touched on the event loop only (no database thread takes from it).
        self._pending: deque[Pending] = deque()
        self._unsettled: set[asyncio.Future[Any]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._flush_forever(), name="execution-writer")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Commit what is pending, then stop: the flusher ends after its commit at hand
        (cancelled only if that takes over `grace` seconds)."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            log.warning("the execution writer did not stop within %ss: cancelled", grace)
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self._task = None
        await self._flush()  # written meanwhile

    async def write(self, op: Operation) -> Any:
        """Resolve once `op` is committed, with its result (the claims of a ClaimBatch);
        raise StoreUnavailable (or Conflict) otherwise."""
        if self._task is None:
            return (await commits.commit([op]))[0]
        return await self.write_soon(op)

    def write_soon(self, op: Operation) -> asyncio.Future[Any]:
        """Queue `op` for the next group commit without waiting for it; the future settles
        with the commit. `settled()` waits for every such write."""
        if self._task is None:  # not started (a command, not a server): commit right away
            direct = asyncio.ensure_future(_commit_one(op))
            self._unsettled.add(direct)
            direct.add_done_callback(self._unsettled.discard)
            return direct
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._unsettled.add(future)
        future.add_done_callback(self._unsettled.discard)
        self._pending.append((op, future))
        self._wake.set()
        return future

    def backlogged(self) -> bool:
        """More writes waiting than `BACKLOG_COMMITS` group commits take: callers that do
        not wait for their commit should, so the backlog (memory) stays bounded."""
        return len(self._unsettled) >= BACKLOG_COMMITS * self.max_batch

    async def settled(self) -> None:
        """Wait until every write queued so far is committed (or failed)."""
        while self._unsettled:
            await asyncio.gather(*list(self._unsettled), return_exceptions=True)

    async def _flush_forever(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        while self._pending:
            count = min(len(self._pending), self.max_batch)
            batch = [self._pending.popleft() for _ in range(count)]
            try:
                results = await commits.commit_isolated([op for op, _ in batch])
            except Exception as exc:
                await self._failed(batch, exc)
            else:
                _resolve(batch, results)

    async def _failed(self, batch: list[Pending], exc: Exception) -> None:
        error = exc if isinstance(exc, GatewayError) else translate(commits.WRITE, exc)
        if isinstance(error, GatewayError):
            if len(batch) == 1:
                _fail(batch, error)
            else:
                await self._one_by_one(batch)
            return
        # a bug, not an outage: each caller logs and answers 500
        log.error("execution write failed", exc_info=exc)
        _fail(batch, error)

    async def _one_by_one(self, batch: list[Pending]) -> None:
        for op, future in batch:
            try:
                results = await commits.commit_isolated([op])
            except GatewayError as exc:
                _fail([(op, future)], exc)
            else:
                _resolve([(op, future)], results)


async def _commit_one(op: Operation) -> Any:
    return (await commits.commit_isolated([op]))[0]


def _resolve(batch: Sequence[Pending], results: Sequence[Any]) -> None:
    for (_, future), result in zip(batch, results, strict=True):
        if not future.done():
            future.set_result(result)


def _fail(batch: list[Pending], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)
