"""What every executor offers the server: accepted executions go in, nothing comes back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

Accepted = tuple[dict[str, Any], bytes]


class Executor(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def submit(self, execution_id: uuid.UUID, accepted: Accepted | None = None) -> None:
        """Hand over a committed QUEUED execution; never blocks the caller's answer.
        `accepted`: its context and raw body, when this process has them at hand."""

    def schedule(self, execution_id: uuid.UUID, at: datetime) -> None:
        """Hand over a parked execution to run once `at` has come."""

    async def join(self) -> None:
        """Wait until what was handed over has been dealt with (tests drain with it)."""
