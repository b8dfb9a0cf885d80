"""Execution retries and dead letters as people see them, and the bulk operations on
failed executions: resume (from the failed node, as the same execution) and replay (from
the start, as a new one). The API and the CLI call these.

A waiting retry is an execution QUEUED with reason `retry` and `resume_at` (its next try);
a dead letter is FAILED with reason `dead letter` (docs/executions.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from gateway.core.clock import utcnow
from gateway.core.errors import DefinitionInvalid, Problem
from gateway.core.ids import new_id
from gateway.core.statuses import ExecutionStatus
from gateway.executors.base import Executor
from gateway.service.reads import ExecutionRecord
from gateway.store import retries
from gateway.store.retries import DEAD_LETTER, RETRY, Selection

__all__ = [
    "DEAD_LETTER",
    "MAX_BULK",
    "RETRY",
    "Bulk",
    "Selection",
    "dead_letters",
    "replay_matching",
    "resume_matching",
    "selection",
    "waiting_retry",
]

MAX_BULK = 1000
DEFAULT_BULK = 100


def waiting_retry(row: ExecutionRecord) -> bool:
    return row.status == "QUEUED" and row.reason == RETRY and row.resume_at is not None


@dataclass(frozen=True, slots=True)
class Bulk:
    """What a bulk operation did: `matched` executions fit the filter, the first `limit`
    were considered, `queued` of them were queued (the others were already resumed or
    replayed: sending the same operation twice queues nothing more)."""

    matched: int
    considered: int
    queued: int


def selection(
    workflow: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Selection:
    """A filter from its parts; `status` may be an execution status or `DEAD_LETTER`
    (`DEADLETTER`, FAILED with reason dead letter). Default: FAILED."""
    problems = []
    statuses: tuple[str, ...] = (ExecutionStatus.FAILED.value,)
    dead = False
    if status is not None:
        name = status.upper().replace(" ", "_")
        if name in ("DEAD_LETTER", "DEADLETTER"):
            statuses, dead = (), True
        elif name in ExecutionStatus.__members__:
            statuses = (name,)
        else:
            problems.append(Problem("status", f"unknown status {status!r}"))
    if since is not None and until is not None and since >= until:
        problems.append(Problem("until", "must be after since"))
    if problems:
        raise DefinitionInvalid(problems)
    return Selection(workflow, statuses, dead, since, until)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_BULK:
        raise DefinitionInvalid([Problem("limit", f"must be from 1 to {MAX_BULK}")])
    return limit


async def resume_matching(which: Selection, limit: int, executor: Executor | None) -> Bulk:
    """Queue again, from where each stopped, the first `limit` ended executions matching
    `which` (oldest first), as the same executions: their request nodes send the same
    `Idempotency-Key`s. Without `executor` (the CLI) a running server's or worker's
    sweep picks them up."""
    ids, matched = await retries.select_ids(which, _limit(limit))
    queued = await retries.resume(ids)
    _hand_over(executor, queued)
    return Bulk(matched, len(ids), len(queued))


async def replay_matching(
    which: Selection, limit: int, executor: Executor | None, fresh_key: bool = False
) -> Bulk:
    """A new execution from the start for each of the first `limit` matching executions
    not replayed before; it sends the original's `Idempotency-Key`s unless `fresh_key`."""
    ids, matched = await retries.select_ids(which, _limit(limit))
    created = await retries.replay(ids, new_id, utcnow(), same_key=not fresh_key)
    _hand_over(executor, created)
    return Bulk(matched, len(ids), len(created))


def _hand_over(executor: Executor | None, ids: list[uuid.UUID]) -> None:
    """To the executor; without one (the CLI) a server's or worker's sweep finds them."""
    if executor is not None:
        for execution_id in ids:
            executor.submit(execution_id)


async def dead_letters() -> dict[str, int]:
    """Workflow key → dead letters stored."""
    return await retries.dead_letters_by_workflow()
