"""Execution retries and dead letters as people see them, and the bulk operations on
failed executions: resume (from the failed node) and replay (from the start).

A waiting retry is an execution QUEUED with reason `retry` and `resume_at` (its next try);
a dead letter is FAILED with reason `dead letter` (docs/executions.md).
"""

from __future__ import annotations

from gateway.service.reads import ExecutionRecord
from gateway.store.retries import DEAD_LETTER, RETRY

__all__ = ["DEAD_LETTER", "RETRY", "waiting_retry"]


def waiting_retry(row: ExecutionRecord) -> bool:
    return row.status == "QUEUED" and row.reason == RETRY and row.resume_at is not None
