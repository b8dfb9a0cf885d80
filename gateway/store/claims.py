"""Who runs an execution: claims with leases, and finding work that lost its runner.

A claim is a conditional update (QUEUED → STARTED), so an execution is started once however
often it is delivered. A claim holds a lease (`lease_until`) that the runner renews while it
works; an execution left STARTED with an expired lease lost its worker and is recovered.
Parked executions (`resume_at` in the future) are QUEUED but not claimable until then.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from gateway.core.clock import utcnow
from gateway.core.statuses import ExecutionStatus
from gateway.store.errors import translated
from gateway.store.models import Execution

QUEUED = ExecutionStatus.QUEUED
STARTED = ExecutionStatus.STARTED


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    workflow_id: int
    version_id: int
    context: dict[str, Any]
    raw_body: bytes
    attempts: int
    state: dict[str, Any] | None


def _due(now: datetime) -> Q:
    return Q(resume_at__isnull=True) | Q(resume_at__lte=now)


_RETURNING = ("id", "workflow_id", "version_id", "attempts", "state")
_SQLITE_CLAIM = (
    'UPDATE "executions" SET "status" = ?, "started_at" = ?, "lease_until" = ?, '
    '"resume_at" = NULL, "attempts" = "attempts" + 1 '
    'WHERE "status" = ? AND ("resume_at" IS NULL OR "resume_at" <= ?) '
    'AND "id" IN ({ids}) RETURNING {returning}'
)
# The request, for a claim that reads it: SQLite's RETURNING names only the updated table,
# but may hold subqueries.
_SQLITE_REQUEST = (
    ', (SELECT "{column}" FROM "execution_requests" AS r '
    'WHERE r."execution_id" = "executions"."id") AS "{column}"'
)
# PostgreSQL takes the ids as one array: one statement text for any count, prepared once
# (asyncpg prepares every new text, a round trip of its own). Joined to the array, each id
# is looked up by primary key: with `id = ANY(...)` the planner also scanned the status
# index over every QUEUED entry (dead ones included) when its statistics lagged behind a
# growing backlog.
_POSTGRES_CLAIM = (
    'UPDATE "executions" AS e SET "status" = $1, "started_at" = $2, "lease_until" = $3, '
    '"resume_at" = NULL, "attempts" = e."attempts" + 1 FROM unnest($6::uuid[]) AS c(id){join} '
    'WHERE e."id" = c.id AND e."status" = $4 AND (e."resume_at" IS NULL OR e."resume_at" <= $5)'
    "{on} RETURNING {returning}"
)
_POSTGRES_REQUEST = ', "execution_requests" AS r', ' AND r."execution_id" = e."id"'

Known = dict[uuid.UUID, tuple[dict[str, Any], bytes]]
"""Context and raw body of executions this process accepted, by id: a claim of those does
not read them back from the database."""


def _claim_sql(dialect: str, count: int, lean: bool = False) -> str:
    """`lean`: without the request (context and raw body)."""
    if dialect != "sqlite":
        join, on = ("", "") if lean else _POSTGRES_REQUEST
        returning = ", ".join(f'e."{c}"' for c in _RETURNING)
        if not lean:
            returning += ', r."context", r."raw_body"'
        return _POSTGRES_CLAIM.format(join=join, on=on, returning=returning)
    returning = ", ".join(f'"{c}"' for c in _RETURNING)
    if not lean:
        returning += "".join(_SQLITE_REQUEST.format(column=c) for c in ("context", "raw_body"))
    return _SQLITE_CLAIM.format(ids=", ".join(["?"] * count), returning=returning)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def claim_statement(
    dialect: str, ids: Sequence[uuid.UUID], lease: float | None, lean: bool = False
) -> tuple[str, list[Any]]:
    """The statement that claims `ids` (QUEUED and due → STARTED) and returns them;
    `lean`: without their context and raw body (the caller has them: `Known`)."""
    now = utcnow()
    lease_until = now + timedelta(seconds=lease) if lease else None
    values: list[Any] = [STARTED.value, now, lease_until, QUEUED.value, now]
    if dialect == "sqlite":
        values += [str(i) for i in ids]
    else:
        values.append(list(ids))
    return _claim_sql(dialect, len(ids), lean), values


def claimed_rows(rows: Iterable[Mapping[str, Any]], known: Known | None = None) -> list[Claimed]:
    """The executions a claim statement returned, ready to run; a lean statement's rows
    take their context and raw body from `known`."""
    claimed = []
    for row in rows:
        execution_id = uuid.UUID(str(row["id"]))
        if known is not None and execution_id in known:
            context, raw = known[execution_id]
        else:
            context, raw = _json(row["context"]), bytes(row["raw_body"])
        claimed.append(
            Claimed(
                execution_id,
                int(row["workflow_id"]),
                int(row["version_id"]),
                context,
                raw,
                int(row["attempts"]),
                _json(row["state"]),
            )
        )
    return claimed


async def claim_batch(
    conn: BaseDBAsyncClient, ids: Sequence[uuid.UUID], lease: float | None
) -> list[Claimed]:
    """QUEUED (and due) → STARTED for every id that is still ours to run, in one statement
    inside the caller's transaction; the claimed executions, ready to run."""
    if not ids:
        return []
    sql, values = claim_statement(conn.capabilities.dialect, ids, lease)
    return claimed_rows(await conn.execute_query_dict(sql, values))


async def claim(execution_id: uuid.UUID, lease: float | None = None) -> Claimed | None:
    """QUEUED (and due) → STARTED; None when it is not ours to run (claimed, parked, gone)."""
    async with translated("claim execution"), in_transaction() as conn:
        claimed = await claim_batch(conn, [execution_id], lease)
    return claimed[0] if claimed else None


async def renew_lease(execution_id: uuid.UUID, lease: float) -> bool:
    """Extend a running execution's lease; False when it is no longer ours (recovered by
    someone else, canceled), and the runner should stop."""
    async with translated("renew lease"):
        updated = await Execution.filter(id=execution_id, status=STARTED).update(
            lease_until=utcnow() + timedelta(seconds=lease)
        )
    return bool(updated)


async def queued_ids(
    limit: int | None = None, older_than: datetime | None = None
) -> list[uuid.UUID]:
    """Due QUEUED executions, oldest first (parked ones only once their time has come)."""
    now = utcnow()
    query = Execution.filter(Q(status=QUEUED) & _due(now))
    if older_than is not None:
        query = query.filter(created_at__lt=older_than)
    query = query.order_by("created_at")
    if limit is not None:
        query = query.limit(limit)
    async with translated("list queued executions"):
        return [uuid.UUID(str(value)) for value in await query.values_list("id", flat=True)]


async def parked() -> list[tuple[uuid.UUID, datetime]]:
    """(id, resume time) of every execution parked for later."""
    async with translated("list parked executions"):
        rows = await Execution.filter(status=QUEUED, resume_at__gt=utcnow()).values_list(
            "id", "resume_at"
        )
    return [(uuid.UUID(str(row[0])), row[1]) for row in rows]


async def started_executions(
    lease_expired: bool = False, limit: int = 1000
) -> list[tuple[uuid.UUID, int]]:
    """(id, version id) of STARTED executions; only those whose lease ran out if asked."""
    query = Execution.filter(status=STARTED)
    if lease_expired:
        query = query.filter(lease_until__lt=utcnow())
    async with translated("list started executions"):
        rows = await query.limit(limit).values_list("id", "version_id")
    return [(uuid.UUID(str(row[0])), int(row[1])) for row in rows]


def _lost(ids: Sequence[uuid.UUID], lease_expired: bool) -> Any:
    query = Execution.filter(id__in=list(ids), status=STARTED)
    return query.filter(lease_until__lt=utcnow()) if lease_expired else query


async def requeue(ids: Sequence[uuid.UUID], lease_expired: bool = False) -> list[uuid.UUID]:
    """STARTED → QUEUED for executions that lost their runner; returns those re-queued."""
    async with translated("requeue executions"):
        query = _lost(ids, lease_expired)
        taken = [uuid.UUID(str(v)) for v in await query.values_list("id", flat=True)]
        if taken:
            await _lost(taken, lease_expired).update(
                status=QUEUED, started_at=None, lease_until=None
            )
    return taken


async def mark_lost(ids: Sequence[uuid.UUID], reason: str, lease_expired: bool = False) -> None:
    async with translated("mark executions lost"):
        await _lost(ids, lease_expired).update(
            status=ExecutionStatus.ERROR,
            reason=reason,
            error=reason,
            finished_at=utcnow(),
            lease_until=None,
        )


async def count_by_status() -> dict[str, int]:
    async with translated("count executions"):
        rows = await Execution.annotate(n=Count("id")).group_by("status").values("status", "n")
    return {str(row["status"]): int(row["n"]) for row in rows}


async def backlog() -> tuple[int, float]:
    """(executions due to run now, age in seconds of the oldest of them)."""
    now = utcnow()
    due = Execution.filter(Q(status=QUEUED) & _due(now))
    async with translated("measure backlog"):
        depth = await due.count()
        oldest = await due.order_by("created_at").first().values_list("created_at", flat=True)
    age = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
    return depth, max(0.0, age)
