"""How a claimed execution ends: finishes, applied only where the claim is still current.

The common end (a first run that finished) is written many to a statement: one
`UPDATE ... FROM (VALUES ...)` per chunk on SQLite, one `unnest()` update on PostgreSQL.
Parked runs, deletions and answers go row by row.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from gateway.core.records import JobRecord
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.store.models import Execution, Job
from gateway.store.rows import job_values, sqlite_chunks, to_json


@dataclass
class FinishExecution:
    """The end of a claimed execution: its status, answer, error and jobs."""

    id: uuid.UUID
    status: ExecutionStatus
    finished_at: datetime
    response: dict[str, Any] | None = None
    error: str | None = None
    reason: str | None = None
    jobs: list[JobRecord] = field(default_factory=list)
    delete: bool = False
    resume_at: datetime | None = None
    """Set when the run parked (a delay): the execution goes back to QUEUED until then."""
    state: dict[str, Any] | None = None
    attempt: int | None = None
    fresh: bool = False
    """A first run that never parked: no earlier job rows to supersede."""
    """The claim this finish belongs to: a finish from an older claim (a worker that lost its
    lease while someone else took over) changes nothing."""


_FINISH_COLUMNS = ("status", "finished_at", "error", "reason", "lease_until", "resume_at", "state")


def _mark(dialect: str, index: int) -> str:
    return "?" if dialect == "sqlite" else f"${index}"


def _finish_sql(dialect: str, with_response: bool, with_attempt: bool) -> str:
    columns = [*_FINISH_COLUMNS, *(("response",) if with_response else ())]
    count = len(columns)

    def mark(index: int) -> str:
        return _mark(dialect, index)

    sets = ", ".join(f'"{c}" = {mark(i)}' for i, c in enumerate(columns, start=1))
    where = f'"id" = {mark(count + 1)} AND "status" = {mark(count + 2)}'
    if with_attempt:
        where += f' AND "attempts" = {mark(count + 3)}'
    return f'UPDATE "executions" SET {sets} WHERE {where}'


def plain(fin: FinishExecution) -> bool:
    """The common end, a first run that finished: many of them go in one statement."""
    return (
        fin.fresh
        and not fin.delete
        and fin.resume_at is None
        and fin.state is None
        and fin.response is None
        and fin.attempt is not None
    )


_PLAIN_SETS = (
    '"status" = v.status, "finished_at" = v.finished_at, "error" = v.error, '
    '"reason" = v.reason, "lease_until" = NULL, "resume_at" = NULL, "state" = NULL'
)
_PLAIN_POSTGRES = (
    f'UPDATE "executions" AS e SET {_PLAIN_SETS} '
    "FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::int[])"
    " AS v(id, status, finished_at, error, reason, attempt) "
    'WHERE e."id" = v.id AND e."status" = $7 AND e."attempts" = v.attempt RETURNING e."id"'
)
# UPDATE ... FROM needs SQLite 3.33 and RETURNING 3.35; older ones update row by row.
SQLITE_BATCH_UPDATE = sqlite3.sqlite_version_info >= (3, 35)


def _plain_sqlite(count: int) -> str:
    rows = ", ".join(["(?, ?, ?, ?, ?, ?)"] * count)  # id, status, finished_at, error, ...
    sets = (
        '"status" = v.column2, "finished_at" = v.column3, "error" = v.column4, '
        '"reason" = v.column5, "lease_until" = NULL, "resume_at" = NULL, "state" = NULL'
    )
    return (
        f'UPDATE "executions" SET {sets} FROM (VALUES {rows}) AS v '
        'WHERE "executions"."id" = v.column1 AND "executions"."status" = ? '
        'AND "executions"."attempts" = v.column6 RETURNING "id"'
    )


async def finish_plain(finishes: list[FinishExecution], conn: BaseDBAsyncClient) -> list[list[Any]]:
    """Plain finishes in one statement per chunk (one round trip, and on SQLite one hand
    back of the GIL, instead of one per execution); the job rows of those still ours."""
    dialect = conn.capabilities.dialect
    if not finishes:
        return []
    if dialect == "sqlite" and not SQLITE_BATCH_UPDATE:
        jobs: list[list[Any]] = []
        for fin in finishes:
            jobs += await finish_one(fin, conn)
        return jobs
    updated: set[str] = set()
    for sql, values in plain_statements(dialect, finishes):
        rows = await conn.execute_query_dict(sql, values)
        updated.update(str(row["id"]) for row in rows)
    return plain_jobs(finishes, updated)


def plain_statements(dialect: str, finishes: list[FinishExecution]) -> list[tuple[str, list[Any]]]:
    """The statements of `finish_plain`; each returns the ids it finished."""
    started = ExecutionStatus.STARTED.value
    if dialect == "sqlite":
        statements = []
        for chunk in sqlite_chunks(finishes, 7):
            values: list[Any] = []
            for fin in chunk:
                values += [str(fin.id), fin.status.value, fin.finished_at, fin.error]
                values += [fin.reason, fin.attempt]
            statements.append((_plain_sqlite(len(chunk)), [*values, started]))
        return statements
    chunks = [finishes[i : i + _FINISH_CHUNK] for i in range(0, len(finishes), _FINISH_CHUNK)]
    return [
        (
            _PLAIN_POSTGRES,
            [
                [fin.id for fin in chunk],
                [fin.status.value for fin in chunk],
                [fin.finished_at for fin in chunk],
                [fin.error for fin in chunk],
                [fin.reason for fin in chunk],
                [fin.attempt for fin in chunk],
                started,
            ],
        )
        for chunk in chunks
    ]


def plain_jobs(finishes: list[FinishExecution], updated: set[str]) -> list[list[Any]]:
    """The job rows of the finishes that applied (their ids in `updated`)."""
    jobs = []
    for fin in finishes:
        if str(fin.id) in updated:
            jobs += job_values(fin.id, fin.jobs)
    return jobs


_FINISH_CHUNK = 1000


async def finish_one(fin: FinishExecution, conn: BaseDBAsyncClient) -> list[list[Any]]:
    """Apply one finish; the job rows to insert for it (none when it was not ours).

    Only a STARTED execution of the same claim attempt is finished: one canceled meanwhile
    stays CANCELED, one recovered by another worker is theirs."""
    if fin.delete:
        mine = Execution.filter(id=fin.id, status=ExecutionStatus.STARTED).using_db(conn)
        if fin.attempt is not None:
            mine = mine.filter(attempts=fin.attempt)
        await mine.delete()
        return []
    values: list[Any] = [
        fin.status.value,
        None if fin.resume_at else fin.finished_at,
        fin.error,
        fin.reason,
        None,
        fin.resume_at,
        to_json(fin.state),
    ]
    if fin.response is not None:
        values.append(to_json(fin.response))
    values += [str(fin.id), ExecutionStatus.STARTED.value]
    if fin.attempt is not None:
        values.append(fin.attempt)
    sql = _finish_sql(conn.capabilities.dialect, fin.response is not None, fin.attempt is not None)
    updated, _ = await conn.execute_query(sql, values)
    if not updated:
        return []
    if not fin.fresh:
        # Jobs of earlier parked runs stay; a parked delay's PENDING job is superseded by
        # the resumed run's first job.
        pending = Job.filter(execution_id=fin.id, status=JobStatus.PENDING)
        await pending.using_db(conn).delete()
    return job_values(fin.id, fin.jobs)
