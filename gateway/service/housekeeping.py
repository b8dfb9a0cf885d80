"""Background upkeep every server and worker runs: retention pruning."""

from __future__ import annotations

import asyncio
import logging

from gateway.core.errors import GatewayError
from gateway.core.settings import Settings
from gateway.core.stopping import Stop, stop_task
from gateway.service import captures
from gateway.store.retention import prune

log = logging.getLogger("gateway.housekeeping")


class Housekeeper:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._task: asyncio.Task[None] | None = None
        self._stop = Stop()

    async def start(self) -> None:
        self._stop = Stop()
        self._task = asyncio.create_task(self._forever(), name="housekeeping")

    async def stop(self) -> None:
        """Stop after the pass at hand (core/stopping.py)."""
        if self._task is not None:
            await stop_task(self._task, self._stop)
            self._task = None

    async def _forever(self) -> None:
        while not await self._stop.wait(self.settings.prune_interval):
            await self.run_once()

    async def run_once(self) -> tuple[int, int]:
        try:
            executions, keys = await prune(self.settings.execution_max_age, self._stop)
        except GatewayError as exc:
            log.warning("pruning failed, will retry: %s", exc)
            return 0, 0
        if executions or keys:
            log.info("pruned %d executions and %d de-duplication keys", executions, keys)
        await self.prune_captures()
        return executions, keys

    async def prune_captures(self) -> int:
        """Captures ended more than a day ago, with their calls."""
        try:
            pruned = await captures.prune()
        except GatewayError as exc:
            log.warning("pruning captures failed, will retry: %s", exc)
            return 0
        if pruned:
            log.info("pruned %d captures", pruned)
        return pruned
