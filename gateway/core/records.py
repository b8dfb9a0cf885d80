"""Records shared by the layers: what the engine produces and the store writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.core.clock import utcnow
from gateway.core.statuses import JobStatus


@dataclass(slots=True)
class JobRecord:
    node_key: str
    node_type: str
    started_at: datetime
    status: JobStatus = JobStatus.PENDING
    result: Any = None
    finished_at: datetime | None = None
    position: tuple[int, ...] = ()
    attempts: list[dict[str, Any]] | None = None
    """Each try of a node that does I/O: `{at, outcome, status | error}`, oldest first."""

    def finish(self, status: JobStatus, result: Any) -> None:
        self.status = status
        self.result = result
        self.finished_at = utcnow()


@dataclass(frozen=True)
class StoredToken:
    """An admin token as stored: never its text, which is shown once when it is made."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
