"""Hot-path inserts as plain parameterised SQL, one statement per table per batch
(multi-row on SQLite, column arrays on PostgreSQL).

Building a Tortoise model per row cost more than the insert itself (profiled: about a
sixth of a sync call). Values are encoded the way Tortoise stores them, so the ORM reads
these rows back unchanged: UUIDs as text, JSON as text, datetimes as aware datetimes (the
SQLite adapter Tortoise registers writes them as `isoformat(" ")`).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from gateway.core.records import JobRecord

EXECUTION_COLUMNS = (
    "id",
    "workflow_id",
    "version_id",
    "status",
    "response",
    "error",
    "reason",
    "event_key",
    "attempts",
    "created_at",
    "started_at",
    "finished_at",
)
REQUEST_COLUMNS = ("execution_id", "context", "raw_body")
JOB_COLUMNS = (
    "execution_id",
    "node_key",
    "node_type",
    "status",
    "result",
    "position",
    "started_at",
    "finished_at",
    "tries",
)

# PostgreSQL types of the columns above, for inserts that take each column as one array.
PG_TYPES = {
    "id": "uuid",
    "execution_id": "uuid",
    "workflow_id": "int",
    "version_id": "int",
    "attempts": "int",
    "raw_body": "bytea",
    "context": "jsonb",
    "response": "jsonb",
    "result": "jsonb",
    "position": "jsonb",
    "tries": "jsonb",
    "created_at": "timestamptz",
    "started_at": "timestamptz",
    "finished_at": "timestamptz",
}


# Bound parameters per SQLite statement: SQLITE_MAX_VARIABLE_NUMBER is 32766 since 3.32.
T = TypeVar("T")
SQLITE_MAX_VARIABLES = 32_000 if sqlite3.sqlite_version_info >= (3, 32) else 999


def sqlite_chunks(items: Sequence[T], params_each: int) -> Iterator[Sequence[T]]:
    """Split `items` for multi-row SQLite statements in power-of-two sizes (at most 256):
    the connection caches each distinct statement text, and one prepared statement for
    hundreds of rows is large, so a batch of any size uses at most nine shapes."""
    cap = max(1, min(256, SQLITE_MAX_VARIABLES // params_each))
    largest = 1 << (cap.bit_length() - 1)
    start = 0
    while start < len(items):
        size = min(largest, 1 << ((len(items) - start).bit_length() - 1))
        yield items[start : start + size]
        start += size


def to_json(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=str).decode()


Statement = tuple[str, list[Any]]


def sqlite_insert_sql(table: str, columns: Sequence[str], rows: int = 1) -> str:
    marks = ", ".join(["(" + ", ".join("?" for _ in columns) + ")"] * rows)
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES {marks}'


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
            to_json(job.attempts),
        ]
        for job in jobs
    ]


def pg_insert(table: str, columns: Sequence[str], rows: list[list[Any]]) -> Statement:
    """`rows` as one PostgreSQL statement that takes each column as an array (`unnest`):
    one execution of the statement for the whole batch. An `executemany` runs it once per
    row, and PostgreSQL's CPU is what bounds scenario 3 of docs/performance.md."""
    return pg_inserts([(table, columns, rows)])


def pg_inserts(parts: Sequence[tuple[str, Sequence[str], list[list[Any]]]]) -> Statement:
    """Inserts into several tables, in order, as one statement (each but the last a
    data-modifying `WITH` part): one round trip, and atomic without a transaction. Foreign
    keys are checked at the statement's end, so a later part may refer to an earlier one."""
    inserts: list[str] = []
    values: list[Any] = []
    for table, columns, rows in parts:
        arrays = ", ".join(
            f"${len(values) + i}::{PG_TYPES.get(column, 'text')}[]"
            for i, column in enumerate(columns, start=1)
        )
        names = ", ".join(f'"{c}"' for c in columns)
        inserts.append(f'INSERT INTO "{table}" ({names}) SELECT * FROM unnest({arrays})')
        values += [list(column) for column in zip(*rows, strict=True)] or [[] for _ in columns]
    *before, last = inserts
    if not before:
        return last, values
    parts_sql = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(before))
    return f"WITH {parts_sql} {last}", values


async def insert(
    conn: BaseDBAsyncClient, table: str, columns: Sequence[str], rows: list[list[Any]]
) -> None:
    """PostgreSQL: one statement over column arrays (`pg_insert`). SQLite: multi-row
    statements. Python's sqlite3 takes the GIL back after every row of an `executemany`,
    and while the event loop is busy each take waits a switch interval; one statement
    takes it once."""
    if not rows:
        return
    dialect = conn.capabilities.dialect
    if dialect != "sqlite":
        await conn.execute_query(*pg_insert(table, columns, rows))
        return
    for sql, values in sqlite_inserts(table, columns, rows):
        await conn.execute_query(sql, values)


def sqlite_inserts(table: str, columns: Sequence[str], rows: list[list[Any]]) -> list[Statement]:
    """`rows` as multi-row SQLite INSERT statements (see `insert`)."""
    return [
        (sqlite_insert_sql(table, columns, len(chunk)), [v for row in chunk for v in row])
        for chunk in sqlite_chunks(rows, len(columns))
    ]
