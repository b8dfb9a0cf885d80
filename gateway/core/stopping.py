"""Stopping background loops: ask first, cancel only as a bounded last resort.

A task cancelled in the middle of a query leaves its database connection busy: asyncpg
cancels the query over a second connection, and closing the pool waits for that connection
until its timeout. So every background loop (housekeeping, sweeps, lease renewal, the
revision poll, the writer) waits on a `Stop` between steps and returns once it is set,
finishing the step at hand; `stop_task` cancels a loop only when it has not returned within
its grace.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

log = logging.getLogger("gateway")
STOP_GRACE = 5.0
"""Seconds a loop gets to finish its step (a query, a commit) before it is cancelled."""


class Stop:
    """A stop request that loops wait on between their steps."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, seconds: float) -> bool:
        """Sleep `seconds`, less when a stop is asked meanwhile; whether a stop is asked."""
        if not self._event.is_set():
            with suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._event.wait()
        return self._event.is_set()


async def stop_task(task: asyncio.Task[Any], stop: Stop, grace: float = STOP_GRACE) -> None:
    """Ask `task` to stop (`stop.set()`) and wait for it to return; cancel it if it has not
    within `grace` seconds. Its own exception, if any, is logged, not raised."""
    stop.set()
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        log.warning("%s did not stop within %ss: cancelled", task.get_name(), grace)
        task.cancel()
    results = await asyncio.gather(task, return_exceptions=True)
    error = results[0]
    if isinstance(error, Exception):
        log.error("%s failed", task.get_name(), exc_info=error)
