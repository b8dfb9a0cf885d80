"""Migrations that move data: run up to the migration before them on a database that holds
rows, then the rest through `gateway migrate`."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate

from gateway.store.db import tortoise_config
from tests.databases import PostgresTemplate
from tests.support import ROOT, make_settings, migrate_database, sqlite_url


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    postgres: PostgresTemplate = request.getfixturevalue("postgres_template")
    name = postgres.empty()
    try:
        yield postgres.url(name)
    finally:
        postgres.drop(name)


async def migrate_to(url: str, target: str) -> None:
    try:
        await tortoise_migrate(config=tortoise_config(make_settings(url)), target=target)
    finally:
        await Tortoise.close_connections()


async def sql(url: str, statement: str, *args: Any) -> list[dict[str, Any]]:
    """One statement with `?` parameters, on a connection of its own."""
    if url.startswith("sqlite://"):
        values = [str(a) if isinstance(a, uuid.UUID | datetime) else a for a in args]
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(statement, values)]
    numbers = iter(range(1, len(args) + 1))
    statement = re.sub(r"\?", lambda _: f"${next(numbers)}", statement)
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return [dict(row) for row in await conn.fetch(statement, *args)]
    finally:
        await conn.close()


async def test_0007_moves_every_request_to_its_own_table(empty_url: str) -> None:
    await migrate_to(empty_url, "gateway.0006_parse_rule_trigger_index")
    now = datetime(2026, 12, 4, tzinfo=UTC)
    await sql(
        empty_url,
        'INSERT INTO "workflows" ("id", "key", "title", "description", "enabled", "sync", '
        '"version", "options", "created_at", "updated_at") '
        "VALUES (1, 'w', 'W', '', ?, ?, 1, '{}', ?, ?)",
        True,
        True,
        now,
        now,
    )
    await sql(
        empty_url,
        'INSERT INTO "workflow_versions" ("id", "workflow_id", "version", "definition", '
        "\"created_at\") VALUES (1, 1, 1, '{}', ?)",
        now,
    )
    ids = [uuid.uuid4(), uuid.uuid4()]
    contexts = [{"body": {"n": n}, "headers": {"x": "é"}} for n in range(2)]
    raws = [b'{"n":0}', b"\x00\xffnot utf-8"]
    for execution_id, context, raw in zip(ids, contexts, raws, strict=True):
        await sql(
            empty_url,
            'INSERT INTO "executions" ("id", "workflow_id", "version_id", "status", '
            '"context", "raw_body", "attempts", "created_at") VALUES (?, 1, 1, \'FINISHED\', '
            "?, ?, 1, ?)",
            execution_id,
            orjson.dumps(context).decode(),
            raw,
            now,
        )
        await sql(
            empty_url,
            'INSERT INTO "jobs" ("execution_id", "node_key", "node_type", "status", '
            "\"started_at\") VALUES (?, 'n', 'end', 'RESOLVED', ?)",
            execution_id,
            now,
        )

    migrate_database(empty_url, ROOT)

    requests = await sql(
        empty_url, 'SELECT "execution_id", "context", "raw_body" FROM "execution_requests"'
    )
    moved = {
        uuid.UUID(str(r["execution_id"])): (orjson.loads(r["context"]), bytes(r["raw_body"]))
        for r in requests
    }
    assert moved == {i: (c, r) for i, c, r in zip(ids, contexts, raws, strict=True)}
    executions = await sql(empty_url, 'SELECT * FROM "executions"')
    assert len(executions) == 2
    assert not {"context", "raw_body"} & executions[0].keys()
    jobs = await sql(empty_url, 'SELECT "execution_id" FROM "jobs"')
    assert sorted(uuid.UUID(str(j["execution_id"])) for j in jobs) == sorted(ids)


@pytest.mark.postgres_only
async def test_0008_compresses_requests_with_lz4_where_postgres_has_it(empty_url: str) -> None:
    lz4 = await sql(
        empty_url,
        "SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings"
        " WHERE name = 'default_toast_compression'",
    )
    columns = (
        "SELECT attname, attcompression::text AS method FROM pg_attribute"
        " WHERE attrelid = 'execution_requests'::regclass AND attname IN ('context', 'raw_body')"
    )
    migrate_database(empty_url, ROOT)
    expected = "l" if lz4[0]["lz4"] else ""
    assert {r["attname"]: r["method"] for r in await sql(empty_url, columns)} == {
        "context": expected,
        "raw_body": expected,
    }
    await migrate_to(empty_url, "gateway.0007_execution_requests")  # and back
    assert {r["method"] for r in await sql(empty_url, columns)} == {""}
