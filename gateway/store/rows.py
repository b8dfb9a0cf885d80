"""Hot-path inserts as plain parameterised SQL, one `executemany` per table per batch.

Building a Tortoise model per row cost more than the insert itself (profiled: about a
sixth of a sync call). Values are encoded the way Tortoise stores them, so the ORM reads
these rows back unchanged: UUIDs as text, JSON as text, datetimes as aware datetimes (the
SQLite adapter Tortoise registers writes them as `isoformat(" ")`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from gateway.engine.processor import JobRecord

EXECUTION_COLUMNS = (
    "id",
    "workflow_id",
    "version_id",
    "status",
    "context",
    "raw_body",
    "response",
    "error",
    "reason",
    "event_key",
    "attempts",
    "created_at",
    "started_at",
    "finished_at",
)
JOB_COLUMNS = (
    "execution_id",
    "node_key",
    "node_type",
    "status",
    "result",
    "position",
    "started_at",
    "finished_at",
)


def to_json(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=str).decode()


def insert_sql(table: str, columns: Sequence[str], dialect: str) -> str:
    if dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
    else:
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks})'


def job_values(execution_id: uuid.UUID, jobs: Iterable[JobRecord]) -> list[list[Any]]:
    text = str(execution_id)
    return [
        [
            text,
            job.node_key,
            job.node_type,
            job.status.value,
            to_json(job.result),
            to_json(list(job.position)) if job.position else None,
            job.started_at,
            job.finished_at,
        ]
        for job in jobs
    ]


async def insert(
    conn: BaseDBAsyncClient, table: str, columns: Sequence[str], rows: list[list[Any]]
) -> None:
    if rows:
        await conn.execute_many(insert_sql(table, columns, conn.capabilities.dialect), rows)
