"""A small pool of worker processes that evaluate CEL expressions under hard limits.

CEL cannot loop forever, but an expression can still be expensive: comprehensions nested
over a large list, or a value doubled level after level, cost time and memory that grow
exponentially with the expression's length. No CEL library for Python bounds both, so the
bound is the operating system's: every evaluation runs in a worker process whose address
space is capped (`MEMORY_LIMIT`) and which is killed when the evaluation overruns
`TIME_LIMIT`. The server never runs user expressions in its own process.

The pool is per process, created lazily and shared by every event loop (workers are plain
`subprocess.Popen` objects driven from a thread), so nothing needs starting; `shutdown()`
ends the workers and runs at exit.

    await evaluate("_v0 > 10", {"_v0": 12})   # True
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import queue
import select
import struct
import subprocess
import sys
import threading
import time
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


class Pool:
    """Up to `size` workers; a call takes an idle one or starts one, else waits for one."""

    def __init__(self, size: int = WORKERS) -> None:
        self.size = size
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.lock = threading.Lock()
        self.workers: list[Worker] = []

    def call(self, payload: bytes, time_limit: float) -> bytes:
        worker = self._take()
        try:
            answer = worker.call(payload, time.monotonic() + time_limit)
        except BaseException:
            self._discard(worker)
            raise
        self.idle.put(worker)
        return answer

    def _take(self) -> Worker:
        with self.lock:
            if self.idle.empty() and len(self.workers) < self.size:
                worker = Worker()
                self.workers.append(worker)
                return worker
        return self.idle.get()

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self.lock:
            self.workers.remove(worker)
            if len(self.workers) < self.size:
                # a caller may be waiting for an idle worker that will now never come
                self.workers.append(replacement := Worker())
                self.idle.put(replacement)

    def shutdown(self) -> None:
        with self.lock:
            workers, self.workers = self.workers, []
        for worker in workers:
            worker.kill()


_pool = Pool()
atexit.register(_pool.shutdown)


def shutdown() -> None:
    """End every worker (they start again on the next evaluation)."""
    _pool.shutdown()
    while not _pool.idle.empty():
        _pool.idle.get_nowait()


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
        answer = json.loads(await asyncio.to_thread(_pool.call, payload, time_limit))
    except TimeoutError:
        raise NodeFailure(f"expression took longer than {time_limit:g} s") from None
    except WorkerGone:
        raise NodeFailure("expression exceeded the memory limit or crashed") from None
    if "error" in answer:
        raise NodeFailure(f"expression failed: {answer['error']}")
    return answer["ok"]
