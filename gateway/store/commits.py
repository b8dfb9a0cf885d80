"""How a batch of the writer's operations is committed, in one transaction.

Three ways, the first that fits the batch:
- on SQLite, the common kinds (new executions without a de-duplication key, claims, plain
  finishes) as one function in the database thread (`sqlite_trip.py`, a shortcut);
- on PostgreSQL, a batch of only new executions without jobs or keys as one statement in
  one round trip (`pg_trip.py`, a shortcut);
- anything else through a Tortoise transaction, statement by statement (`commit`).
Each returns every operation's result in order (the `Claimed` executions of a ClaimBatch,
None for the others).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from tortoise.transactions import in_transaction

from gateway.store import pg_trip, sqlite_trip
from gateway.store.claims import Claimed, Known, claim_statement, claimed_rows
from gateway.store.dedup import insert_claims, settle_key
from gateway.store.errors import translated
from gateway.store.finishes import (
    SQLITE_BATCH_UPDATE,
    FinishExecution,
    finish_one,
    finish_plain,
    plain,
    plain_jobs,
    plain_statements,
)
from gateway.store.operations import ClaimBatch, ClaimKey, NewExecution, Operation, SettleKey
from gateway.store.rows import (
    EXECUTION_COLUMNS,
    JOB_COLUMNS,
    REQUEST_COLUMNS,
    Statement,
    insert,
    job_values,
    pg_inserts,
    sqlite_chunks,
    sqlite_inserts,
    to_json,
)
from gateway.store.sqlite_trip import Done, Trip

WRITE = "write executions"
_CLAIM_CHUNK = 5000


def _execution_values(op: NewExecution) -> list[Any]:
    return [
        str(op.id),
        op.workflow_id,
        op.version_id,
        op.status.value,
        to_json(op.response),
        op.error,
        op.reason,
        op.event_key,
        1 if op.started_at else 0,
        op.created_at,
        op.started_at,
        op.finished_at,
    ]


def _request_values(op: NewExecution) -> list[Any]:
    return [str(op.id), to_json(op.context), op.raw_body]


def _new_rows(inserts: Sequence[NewExecution]) -> list[tuple[str, Sequence[str], list[list[Any]]]]:
    """The rows of new executions, by table, in the order they are inserted."""
    return [
        ("executions", EXECUTION_COLUMNS, [_execution_values(op) for op in inserts]),
        ("execution_requests", REQUEST_COLUMNS, [_request_values(op) for op in inserts]),
    ]


async def commit(ops: Sequence[Operation]) -> list[Any]:
    """Every operation in one Tortoise transaction, statement by statement."""
    results: list[Any] = [None] * len(ops)
    inserts = [op for op in ops if isinstance(op, NewExecution)]
    finishes = [op for op in ops if isinstance(op, FinishExecution)]
    keys = [op.claim for op in ops if isinstance(op, ClaimKey)]
    keys += [op.dedup for op in inserts if op.dedup is not None]
    jobs: list[list[Any]] = []
    async with translated(WRITE), in_transaction() as conn:
        if keys:
            await insert_claims(keys, conn)
        for table, columns, rows in _new_rows(inserts):
            await insert(conn, table, columns, rows)
        for new in inserts:
            jobs += job_values(new.id, new.jobs)
        await _claim_all(ops, results, conn)
        jobs += await finish_plain([fin for fin in finishes if plain(fin)], conn)
        for fin in finishes:
            if not plain(fin):
                jobs += await finish_one(fin, conn)
        await insert(conn, "jobs", JOB_COLUMNS, jobs)
        for settle in (op for op in ops if isinstance(op, SettleKey)):
            await settle_key(
                settle.workflow_id, settle.key, settle.execution_id, settle.response, conn
            )
    return results


async def commit_isolated(ops: list[Operation]) -> list[Any]:
    """Commit `ops` the first way that fits them (the module docstring).

    Through Tortoise, in a task of its own: when a connection dies mid-transaction, Tortoise
    can leave its transaction in the task's context (returning the broken connection to the
    pool raises before the context is reset); in a child task that leak dies with the task
    instead of poisoning every later commit of the long-lived flusher. A commit in one
    SQLite or PostgreSQL trip opens no Tortoise transaction and needs no task."""
    if all(in_one_trip(op) for op in ops) and sqlite_trip.available():
        trip, known = _trip(ops)
        async with translated(WRITE):
            done = await sqlite_trip.commit(trip)
        return _trip_results(ops, done, known)
    if _inserts_only(ops) and pg_trip.available():
        async with translated(WRITE):
            inserts = [op for op in ops if isinstance(op, NewExecution)]
            await pg_trip.execute(*pg_inserts(_new_rows(inserts)))
        return [None] * len(ops)
    return await asyncio.create_task(commit(ops))


async def _claim_all(ops: Sequence[Operation], results: list[Any], conn: Any) -> None:
    """Every ClaimBatch of the commit in one statement per lease (each runner claims one
    execution: one round trip for all of them, not one each); each op gets its own."""
    statements, known = _claim_statements(conn.capabilities.dialect, ops)
    claimed: dict[uuid.UUID, Claimed] = {}
    for sql, values in statements:
        rows = await conn.execute_query_dict(sql, values)
        claimed.update((c.id, c) for c in claimed_rows(rows, known))
    _hand_out(ops, claimed, results)


def _claim_statements(dialect: str, ops: Sequence[Operation]) -> tuple[list[Statement], Known]:
    """The claim statements of a commit (per lease: one for the executions whose context
    the claimers know, one for the rest), and what they know."""
    batches = [op for op in ops if isinstance(op, ClaimBatch)]
    known: Known = {}
    for op in batches:
        known.update(op.known or {})
    statements = []
    for lease in dict.fromkeys(op.lease for op in batches):
        ids = list(dict.fromkeys(i for op in batches if op.lease == lease for i in op.ids))
        for lean in (True, False):
            part = [i for i in ids if (i in known) == lean]
            statements += [claim_statement(dialect, c, lease, lean) for c in _chunks(dialect, part)]
    return statements, known


def _chunks(dialect: str, ids: list[uuid.UUID]) -> list[Sequence[uuid.UUID]]:
    if dialect == "sqlite":
        return list(sqlite_chunks(ids, 1))
    return [ids[start : start + _CLAIM_CHUNK] for start in range(0, len(ids), _CLAIM_CHUNK)]


def _hand_out(
    ops: Sequence[Operation], claimed: dict[uuid.UUID, Claimed], results: list[Any]
) -> None:
    for index, op in enumerate(ops):
        if isinstance(op, ClaimBatch):
            results[index] = [claimed.pop(i) for i in op.ids if i in claimed]


def in_one_trip(op: Operation) -> bool:
    """Whether `op` is of the common kinds `sqlite_trip` runs: a new execution without a
    de-duplication key, a claim, a plain finish."""
    return SQLITE_BATCH_UPDATE and (
        isinstance(op, ClaimBatch)
        or (isinstance(op, NewExecution) and op.dedup is None)
        or (isinstance(op, FinishExecution) and plain(op))
    )


def _trip(ops: Sequence[Operation]) -> tuple[Trip, Known]:
    inserts = [op for op in ops if isinstance(op, NewExecution)]
    finishes = [op for op in ops if isinstance(op, FinishExecution)]
    jobs = [row for new in inserts for row in job_values(new.id, new.jobs)]
    claims, known = _claim_statements("sqlite", ops)
    writes = [statement for part in _new_rows(inserts) for statement in sqlite_inserts(*part)]
    trip = Trip(
        writes=writes + sqlite_inserts("jobs", JOB_COLUMNS, jobs),
        claims=claims,
        finishes=plain_statements("sqlite", finishes),
        after=lambda finished: sqlite_inserts("jobs", JOB_COLUMNS, plain_jobs(finishes, finished)),
    )
    return trip, known


def _trip_results(ops: Sequence[Operation], done: Done, known: Known) -> list[Any]:
    results: list[Any] = [None] * len(ops)
    claimed = {c.id: c for rows in done.claimed for c in claimed_rows(rows, known)}
    _hand_out(ops, claimed, results)
    return results


def _inserts_only(ops: Sequence[Operation]) -> bool:
    """Whether the commit is only new executions without jobs or de-duplication keys (an
    async accept's): one statement (`pg_inserts`), which `pg_trip` runs in one round trip."""
    return all(isinstance(op, NewExecution) and op.dedup is None and not op.jobs for op in ops)
