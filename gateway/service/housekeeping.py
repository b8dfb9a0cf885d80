"""Background upkeep every server and worker runs: retention pruning."""

from __future__ import annotations

import asyncio
import logging

from gateway.core.errors import GatewayError
from gateway.core.settings import Settings
from gateway.service import captures
from gateway.store.retention import prune

log = logging.getLogger("gateway.housekeeping")


class Housekeeper:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="housekeeping")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.prune_interval)
            await self.run_once()

    async def run_once(self) -> tuple[int, int]:
        try:
            executions, keys = await prune(self.settings.execution_max_age)
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
