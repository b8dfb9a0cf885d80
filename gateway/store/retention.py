"""Retention: finished executions older than `GATEWAY_EXECUTION_MAX_AGE` are deleted, in
batches so no single statement holds locks for long (their jobs and requests with them),
and expired de-duplication keys with them.

A batch's deletes are one transaction, and batches are paced so the group commit of the
calls being served keeps its turn: on SQLite they share one connection, and a commit that
waits behind a long batch is a slow call. Each batch's size adapts to a time budget
(`next_batch`), and after each batch the prune pauses as long as the batch took, so it
holds the connection at most about half the time: its rate is about half its rate alone,
never less (docs/performance.md, scenario 11). A batch is timed from when its
transaction holds the connection: the wait for a group commit to end is not the batch's,
and counting it kept batches small under load. On SQLite (with the shortcuts on) a batch
is one trip to the database thread (`_delete_in_thread`), so it holds the connection for
its statements' time alone.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from gateway.core.clock import utcnow
from gateway.core.statuses import FINISHED
from gateway.core.stopping import Stop
from gateway.store import sqlite_trip
from gateway.store.dedup import prune_expired
from gateway.store.errors import translated
from gateway.store.models import Execution, ExecutionRequest, Job

BUDGET_S = 0.004  # what one batch's deletes may take, about
MIN_BATCH = 16
MAX_BATCH = 1000
PER_PASS = 100_000  # executions one pass deletes at most; the next pass goes on


def next_batch(size: int, seconds: float, budget: float = BUDGET_S) -> int:
    """The size of the next batch after one of `size` took `seconds`: halved past the
    budget, doubled under half of it, within MIN_BATCH..MAX_BATCH.

    `next_batch(1000, 0.010)` → 500; `next_batch(100, 0.001)` → 200;
    `next_batch(100, 0.003)` → 100.
    """
    if seconds > budget:
        size //= 2
    elif seconds < budget / 2:
        size *= 2
    return max(MIN_BATCH, min(MAX_BATCH, size))


async def prune_executions(
    max_age: float,
    limit: int = PER_PASS,
    budget: float = BUDGET_S,
    first: int = 100,
    stop: Stop | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[int, int]:
    """Delete up to `limit` finished executions older than `max_age` seconds, in paced
    batches starting at `first`, until `stop` is set; returns how many, and the largest
    batch deleted. Unfinished ones (queued, parked, running) are never pruned."""
    stop = stop or Stop()
    cutoff = utcnow() - timedelta(seconds=max_age)
    total, size, largest = 0, first, 0
    while total < limit:
        wanted = min(size, limit - total)
        deleted, took = await _delete_batch(cutoff, wanted, clock)
        total, largest = total + deleted, max(largest, deleted)
        if deleted < wanted:
            break
        size = next_batch(size, took, budget)
        if await stop.wait(took):  # the pause is the group commit's turn
            break
    return total, largest


def expired(cutoff: datetime) -> QuerySet[Execution]:
    """Finished executions that finished before `cutoff`. An execution finishes after it
    is created, so the bound on `created_at` selects the same rows; it lets the (status,
    created_at) index stop at the cutoff, where without it a pass's last batch walked
    every finished execution kept, a read that grows with the history. `_SELECT_SQL` is
    the same query for the database thread."""
    return Execution.filter(
        status__in=list(FINISHED), created_at__lt=cutoff, finished_at__lt=cutoff
    )


async def _delete_batch(
    cutoff: datetime, size: int, clock: Callable[[], float]
) -> tuple[int, float]:
    """How many were deleted, and for how long the batch held the connection."""
    if sqlite_trip.available():
        async with translated("prune executions"):
            return await sqlite_trip.call(_delete_in_thread, cutoff, size, clock)
    async with translated("prune executions"), in_transaction():
        started = clock()
        ids = list(await expired(cutoff).limit(size).values_list("id", flat=True))
        if ids:
            await Job.filter(execution_id__in=ids).delete()
            await ExecutionRequest.filter(execution_id__in=ids).delete()
            await Execution.filter(id__in=ids).delete()
        held = clock() - started
    return len(ids), held


async def prune(max_age: float, stop: Stop | None = None) -> tuple[int, int]:
    """(executions, de-duplication keys) deleted; a pass ends early once `stop` is set."""
    executions, _ = await prune_executions(max_age, stop=stop)
    keys = 0
    while (deleted := await prune_expired()) > 0:
        keys += deleted
    return executions, keys


_FINISHED = sorted(status.value for status in FINISHED)
_SELECT_SQL = (
    f'SELECT "id" FROM "executions" WHERE "status" IN ({", ".join("?" for _ in _FINISHED)}) '
    'AND "created_at" < ? AND "finished_at" < ? LIMIT ?'
)
_DELETES = (("jobs", "execution_id"), ("execution_requests", "execution_id"), ("executions", "id"))


def _delete_in_thread(
    db: sqlite3.Connection, cutoff: datetime, size: int, clock: Callable[[], float]
) -> tuple[int, float]:
    """`_delete_batch` on SQLite, in the database thread (store/sqlite_trip.py): the same
    statements in one trip instead of six through a busy event loop, which a batch's
    connection lock (and so every group commit behind it) waited on, and which its time
    counted."""
    started = clock()
    with sqlite_trip.transaction(db):
        ids = [row[0] for row in db.execute(_SELECT_SQL, [*_FINISHED, cutoff, cutoff, size])]
        if ids:
            marks = ", ".join("?" for _ in ids)
            for table, column in _DELETES:
                db.execute(f'DELETE FROM "{table}" WHERE "{column}" IN ({marks})', ids)
    return len(ids), clock() - started
