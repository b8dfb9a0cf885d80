"""What the execution writer commits: one record per kind of write.

Callers build these and hand them to `writer.ExecutionWriter`; `commits.py` turns a batch of
them into statements. A finish (`FinishExecution`) is in `finishes.py`, with its statements.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.core.records import JobRecord
from gateway.core.statuses import ExecutionStatus
from gateway.store.claims import Known
from gateway.store.dedup import DedupClaim
from gateway.store.finishes import FinishExecution


@dataclass
class NewExecution:
    """An execution to insert: QUEUED (async accept) or already finished (sync)."""

    id: uuid.UUID
    workflow_id: int
    version_id: int
    status: ExecutionStatus
    context: dict[str, Any]
    raw_body: bytes
    created_at: datetime
    event_key: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    response: dict[str, Any] | None = None
    error: str | None = None
    reason: str | None = None
    jobs: list[JobRecord] = field(default_factory=list)
    dedup: DedupClaim | None = None
    """Claimed in the same transaction: a live duplicate key fails this write (Conflict)."""


@dataclass
class ClaimKey:
    """A de-duplication key claimed on its own, before a sync call runs."""

    claim: DedupClaim


@dataclass
class ClaimBatch:
    """Claim these QUEUED executions (QUEUED → STARTED) in the same group commit as other
    writes; the write returns the `Claimed` executions."""

    ids: list[uuid.UUID]
    lease: float | None = None
    known: Known | None = None
    """Context and raw body of some of them, as accepted: not read back."""


@dataclass
class SettleKey:
    """The answer a sync call gave, for its duplicates to repeat."""

    workflow_id: int
    key: str
    execution_id: uuid.UUID
    response: dict[str, Any]


Operation = NewExecution | FinishExecution | ClaimKey | ClaimBatch | SettleKey
