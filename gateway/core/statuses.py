"""Execution and job statuses (NocoBase's names), shared by the engine and the store."""

from __future__ import annotations

from enum import StrEnum


class ExecutionStatus(StrEnum):
    QUEUED = "QUEUED"
    STARTED = "STARTED"
    RESOLVED = "RESOLVED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RESOLVED = "RESOLVED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"


FINISHED = frozenset(
    {
        ExecutionStatus.RESOLVED,
        ExecutionStatus.FAILED,
        ExecutionStatus.ERROR,
        ExecutionStatus.ABORTED,
        ExecutionStatus.CANCELED,
        ExecutionStatus.REJECTED,
    }
)
