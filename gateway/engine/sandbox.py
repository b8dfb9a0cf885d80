"""A small pool of worker processes that evaluate CEL expressions under hard limits.

CEL cannot loop forever, but an expression can still be expensive: comprehensions nested
over a large list, or a value doubled level after level, cost time and memory that grow
exponentially with the expression's length. No CEL library for Python bounds both, so the
bound is the operating system's: every evaluation runs in a worker process whose address
space is capped (`MEMORY_LIMIT`) and which is killed when the evaluation overruns
`TIME_LIMIT`. The server never runs user expressions in its own process.

The pool is per process, created lazily and shared by every event loop (workers are plain
`subprocess.Popen` objects driven from a thread), so nothing needs starting; `shutdown()`
ends the workers and runs at exit. Workers are shared fairly between workflows (`tenant`,
set by the processor): waiting for one is bounded (`WAIT_LIMIT`, `MAX_WAITING`) and a
workflow's flood of evaluations cannot starve another's.

    await evaluate("_v0 > 10", {"_v0": 12})   # True
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict, deque
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.core.errors import NodeFailure

WORKER = Path(__file__).with_name("sandbox_worker.py")
HEADER = struct.Struct(">I")
TIME_LIMIT = 1.0  # seconds per evaluation
MEMORY_LIMIT = 512 * 1024 * 1024  # bytes of address space per worker
MAX_INPUT = 2 * 1024 * 1024  # bytes of JSON: the variables bound to one evaluation
MAX_RESULT = 1024 * 1024  # bytes of JSON: one evaluation's result
WORKERS = 2
WAIT_LIMIT = 5.0  # seconds an evaluation may wait for a worker
MAX_WAITING = 16  # evaluations of one workflow waiting for a worker


class WorkerGone(Exception):
    """The worker process died or was killed mid-evaluation."""


class Worker:
    """One worker process; `call` sends a request and waits for the answer until `deadline`."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER), str(MEMORY_LIMIT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def call(self, payload: bytes, deadline: float) -> bytes:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(HEADER.pack(len(payload)) + payload)
            stdin.flush()
        except OSError as exc:
            raise WorkerGone from exc
        header = self._read(stdout.fileno(), HEADER.size, deadline)
        return self._read(stdout.fileno(), HEADER.unpack(header)[0], deadline)

    def _read(self, fd: int, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, size)
            if not chunk:
                raise WorkerGone
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class SandboxBusy(Exception):
    """No worker came free in time, or too many evaluations of one workflow are waiting."""


@dataclass(eq=False, slots=True)
class _Waiter:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Worker]


class Pool:
    """Up to `size` workers, handed out fairly: a caller takes an idle worker or starts
    one, else waits in its workflow's queue. A freed worker goes to the workflow that has
    waited longest for a turn (round robin over workflows, first come first served within
    one), so one workflow's flood of evaluations delays another's by at most one
    evaluation per worker. A workflow may have `max_waiting` evaluations waiting.

    Waiting is asynchronous (no thread blocks on it); only an evaluation holds a thread."""

    def __init__(self, size: int = WORKERS, max_waiting: int = MAX_WAITING) -> None:
        self.size = size
        self.max_waiting = max_waiting
        self.lock = threading.Lock()
        self.idle: list[Worker] = []
        self.workers: list[Worker] = []
        self.waiting: OrderedDict[str, deque[_Waiter]] = OrderedDict()

    async def call(self, tenant: str, payload: bytes, time_limit: float, wait: float) -> bytes:
        worker = await self._take(tenant, wait)
        deadline = time.monotonic() + time_limit
        # shielded: a caller cancelled mid-evaluation leaves the thread to end it and hand
        # the worker on
        return await asyncio.shield(asyncio.to_thread(self._run, worker, payload, deadline))

    def _run(self, worker: Worker, payload: bytes, deadline: float) -> bytes:
        try:
            answer = worker.call(payload, deadline)
        except BaseException:
            self._discard(worker)
            raise
        self._give(worker)
        return answer

    async def _take(self, tenant: str, wait: float) -> Worker:
        loop = asyncio.get_running_loop()
        with self.lock:
            if self.idle:
                return self.idle.pop()
            if len(self.workers) < self.size:
                self.workers.append(worker := Worker())
                return worker
            queue = self.waiting.setdefault(tenant, deque())
            if len(queue) >= self.max_waiting:
                raise SandboxBusy(f"{len(queue)} expressions of this workflow already waiting")
            queue.append(waiter := _Waiter(loop, loop.create_future()))
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.future), wait)
        except (TimeoutError, asyncio.CancelledError) as exc:
            self._abandon(tenant, waiter)
            if isinstance(exc, TimeoutError):
                raise SandboxBusy(f"no expression worker free within {wait:g} s") from None
            raise

    def _abandon(self, tenant: str, waiter: _Waiter) -> None:
        with self.lock:
            queue = self.waiting.get(tenant)
            if queue is not None and waiter in queue:
                queue.remove(waiter)
                if not queue:
                    del self.waiting[tenant]
        # cancelled, a delivery still on its way passes the worker on (`_deliver`); one
        # that arrived just as the wait ended is passed on here
        if not waiter.future.cancel() and not waiter.future.cancelled():
            self._give(waiter.future.result())

    def _give(self, worker: Worker) -> None:
        """Hand `worker` to the next workflow in turn, or make it idle."""
        with self.lock:
            while self.waiting:
                tenant, queue = next(iter(self.waiting.items()))
                waiter = queue.popleft()
                if queue:
                    self.waiting.move_to_end(tenant)
                else:
                    del self.waiting[tenant]
                try:
                    waiter.loop.call_soon_threadsafe(self._deliver, waiter, worker)
                except RuntimeError:  # that waiter's event loop is closed
                    continue
                return
            self.idle.append(worker)

    def _deliver(self, waiter: _Waiter, worker: Worker) -> None:
        if waiter.future.done():  # its caller stopped waiting meanwhile
            self._give(worker)
        else:
            waiter.future.set_result(worker)

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self.lock:
            self.workers.remove(worker)
            if len(self.workers) >= self.size:
                return
            # a caller may be waiting for a worker that will now never come back
            self.workers.append(replacement := Worker())
        self._give(replacement)

    def shutdown(self) -> None:
        with self.lock:
            workers, self.workers, self.idle = self.workers, [], []
        for worker in workers:
            worker.kill()


_pool = Pool()
atexit.register(_pool.shutdown)
tenant: ContextVar[str] = ContextVar("sandbox_tenant", default="")
"""Whose evaluations these are (the workflow key): the unit the pool is fair between."""


def shutdown() -> None:
    """End every worker (they start again on the next evaluation)."""
    _pool.shutdown()


async def evaluate(src: str, variables: dict[str, Any], time_limit: float = TIME_LIMIT) -> Any:
    """The value of the CEL program `src` with `variables` bound; `NodeFailure` when it
    fails, overruns `time_limit` or `MEMORY_LIMIT`, or its input or result is too large."""
    request = {"src": src, "names": sorted(variables), "vars": variables, "max": MAX_RESULT}
    try:
        payload = json.dumps(request, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise NodeFailure(f"expression variables are not JSON data: {exc}") from exc
    if len(payload) > MAX_INPUT:
        raise NodeFailure(f"expression variables are larger than {MAX_INPUT} bytes")
    try:
        answer = json.loads(await _pool.call(tenant.get(), payload, time_limit, WAIT_LIMIT))
    except SandboxBusy as exc:
        raise NodeFailure(f"expression sandbox busy: {exc}") from None
    except TimeoutError:
        raise NodeFailure(f"expression took longer than {time_limit:g} s") from None
    except WorkerGone:
        raise NodeFailure("expression exceeded the memory limit or crashed") from None
    if "error" in answer:
        raise NodeFailure(f"expression failed: {answer['error']}")
    return answer["ok"]
