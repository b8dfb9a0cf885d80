from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
import pytest
from tortoise import connections
from tortoise.exceptions import OperationalError

from gateway.core.errors import StoreUnavailable
from gateway.core.settings import Settings
from gateway.store import lookups
from gateway.store.db import database_url, model_changes
from gateway.store.errors import translated
from gateway.store.models import Node, ParseRule, Trigger, Workflow
from gateway.store.rows import sqlite_chunks
from tests.conftest import SettingsFactory
from tests.support import Gateway


async def test_models_and_migrations_agree(settings_factory: SettingsFactory) -> None:
    assert await model_changes(settings_factory()) == []


# A foreign key without an index: executions.version_id is only looked up when a workflow
# is deleted (its versions go with it), and every accepted call would pay for the index.
UNINDEXED_FOREIGN_KEYS = {("executions", "version_id")}


async def test_foreign_keys_are_indexed(gateway: Gateway) -> None:
    """Rows are read by their parent (a trigger's parse rules, a workflow's nodes …) and
    deleted with it; neither database indexes a foreign key by itself."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        _, tables = await conn.execute_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
        )
        keys, leading = set(), set()
        for (table,) in tables:
            _, fks = await conn.execute_query(f'PRAGMA foreign_key_list("{table}")')
            keys |= {(table, fk["from"]) for fk in fks}
            _, indexes = await conn.execute_query(f'PRAGMA index_list("{table}")')
            for index in indexes:
                _, columns = await conn.execute_query(f'PRAGMA index_info("{index["name"]}")')
                leading |= {(table, c["name"]) for c in columns if c["seqno"] == 0}
    else:
        _, fks = await conn.execute_query(
            "SELECT c.conrelid::regclass::text AS t, a.attname AS col FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f'"
        )
        keys = {(fk["t"].strip('"'), fk["col"]) for fk in fks}
        _, indexes = await conn.execute_query(
            "SELECT i.indrelid::regclass::text AS t, a.attname AS col FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
        )
        leading = {(index["t"].strip('"'), index["col"]) for index in indexes}

    assert ("parse_rules", "trigger_id") in keys
    assert keys - leading == UNINDEXED_FOREIGN_KEYS


@pytest.mark.sqlite_only
async def test_sqlite_runs_in_wal_with_full_sync(gateway: Gateway) -> None:
    conn = connections.get("default")

    _, journal = await conn.execute_query("PRAGMA journal_mode")
    _, synchronous = await conn.execute_query("PRAGMA synchronous")
    _, size_limit = await conn.execute_query("PRAGMA journal_size_limit")

    assert tuple(journal[0]) == ("wal",)
    assert tuple(synchronous[0]) == (2,)  # FULL
    # the WAL is not shrunk after each checkpoint
    assert tuple(size_limit[0]) == (64 * 1024 * 1024,)


def test_sqlite_url_gets_durability_pragmas() -> None:
    url = database_url(Settings(database_url="sqlite://data/x.db"))
    explicit = database_url(Settings(database_url="sqlite://data/x.db?synchronous=NORMAL"))

    assert url == (
        "sqlite://data/x.db?journal_mode=WAL&synchronous=FULL&journal_size_limit=67108864"
    )
    assert "synchronous=NORMAL" in explicit
    assert "synchronous=FULL" not in explicit


def wrapped(cause: BaseException) -> OperationalError:
    """A driver error as Tortoise raises it: wrapped in OperationalError."""
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (wrapped(ConnectionRefusedError(111, "refused")), True),  # server down
        (wrapped(asyncpg.CannotConnectNowError("starting up")), True),  # server restarting
        (wrapped(asyncpg.AdminShutdownError("terminating")), True),  # server shut down
        (wrapped(asyncpg.TooManyConnectionsError("too many")), True),  # overloaded
        (wrapped(sqlite3.OperationalError("database is locked")), True),  # SQLite busy
        (wrapped(sqlite3.OperationalError("attempt to write a readonly database")), True),
        (wrapped(sqlite3.OperationalError('near ",": syntax error')), False),  # our bug
        (wrapped(asyncpg.PostgresSyntaxError("syntax error")), False),  # our bug
        (wrapped(asyncpg.UndefinedColumnError("no column")), False),  # schema out of date
    ],
)
async def test_only_service_failures_mean_unavailable(
    error: BaseException, unavailable: bool
) -> None:
    with pytest.raises(StoreUnavailable if unavailable else OperationalError):
        async with translated("test"):
            raise error


@pytest.mark.postgres_only
async def test_postgres_statements_are_planned_with_their_own_values(gateway: Gateway) -> None:
    # asyncpg prepares each statement once per connection, and PostgreSQL may keep a generic
    # plan for it after five runs, made while the executions table was nearly empty
    # (gateway/store/db.py): the gateway's connections ask for a plan per run instead.
    conn = connections.get("default")
    _, rows = await conn.execute_query("SHOW plan_cache_mode")
    assert rows[0]["plan_cache_mode"] == "force_custom_plan"


@pytest.mark.postgres_only
async def test_a_pooled_connection_goes_back_without_a_reset_query(gateway: Gateway) -> None:
    # asyncpg's default reset is one more round trip on every release (advisory unlock,
    # CLOSE ALL, UNLISTEN *, RESET ALL); the gateway leaves no such state to undo
    # (gateway/store/db.py). A transaction left open is still rolled back.
    pool = connections.get("default")._pool
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query)

    async with pool.acquire() as connection:
        connection.add_query_logger(log)
        await connection.execute("SELECT 1")
    assert sent == ["SELECT 1"]
    sent.clear()
    async with pool.acquire() as connection:
        connection.add_query_logger(log)  # a set: once per connection
        transaction = connection.transaction()
        await transaction.start()
    assert sent == ["BEGIN;", "ROLLBACK"]


@pytest.mark.parametrize(
    ("count", "params_each", "sizes"),
    [
        (0, 14, []),
        (1, 14, [1]),
        (3, 14, [2, 1]),
        (500, 14, [256, 128, 64, 32, 16, 4]),
        (257, 14, [256, 1]),
        (300, 8, [256, 32, 8, 4]),
        (5, 20_000, [1, 1, 1, 1, 1]),  # never above SQLite's bound-parameter limit
    ],
)
def test_sqlite_statements_come_in_few_shapes(
    count: int, params_each: int, sizes: list[int]
) -> None:
    assert [len(c) for c in sqlite_chunks(list(range(count)), params_each)] == sizes


# --- definition rows read with plain SQL -------------------------------------------------

DEFINITIONS = (
    """
key: rows-a
title: A
options: {timeout: 5000}
trigger:
  basicAuthentication: {username: u, password: p-123456}
  request:
    headers: [{key: x-id, alias: Id}]
    body: [{key: order.id, required: true, type: number}, {key: note, var: note}]
  response: {statusCode: 202, body: {ok: true}}
nodes:
  - key: check
    type: condition
    config: {rejectOnFalse: false, calculation: {group: {type: and, calculations: []}}}
    branches:
      "1": [{key: accepted, type: end, config: {endStatus: 1}}]
      "0": [{key: refused, type: end, config: {endStatus: -1}}]
""",
    "{key: rows-b, enabled: false, nodes: [{key: done, type: end, config: {endStatus: 1}}]}",
    "{key: rows-c, sync: true, trigger: {request: {query: [{key: q}]}}, nodes: []}",
)


async def test_definition_rows_read_as_tortoise_reads_them(gateway: Gateway) -> None:
    """Every lookup's rows equal Tortoise's `values()` rows: same columns, same values
    and types (JSON decoded, booleans, aware datetimes), same order."""
    await gateway.apply(*DEFINITIONS)
    workflows = await Workflow.all().order_by("id").values()
    workflow_ids = [row["id"] for row in workflows]
    triggers = await Trigger.filter(workflow_id__in=workflow_ids).order_by("id").values()
    trigger_ids = [row["id"] for row in triggers]

    def typed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: (type(v), v) for k, v in row.items()} for row in rows]

    pairs = [
        (await lookups.workflows_page(lookups.WorkflowFilter(), None, 10), workflows),
        (
            await lookups.workflows_page(lookups.WorkflowFilter(enabled=False), None, 10),
            [w for w in workflows if not w["enabled"]],
        ),
        (
            await lookups.workflows_page(lookups.WorkflowFilter(), workflow_ids[0], 1),
            workflows[1:2],
        ),
        (await lookups.workflows_by_id(reversed(workflow_ids)), workflows),
        (await lookups.triggers_by_workflow(workflow_ids), triggers),
        (await lookups.triggers_by_id(trigger_ids[:1]), triggers[:1]),
        (
            await lookups.rules_by_trigger(trigger_ids),
            await ParseRule.filter(trigger_id__in=trigger_ids).order_by("position", "id").values(),
        ),
        (
            await lookups.nodes_by_workflow(workflow_ids),
            await Node.filter(workflow_id__in=workflow_ids).order_by("position", "id").values(),
        ),
        (await lookups.nodes_by_workflow([]), []),
    ]
    for ours, tortoise in pairs:
        assert typed(ours) == typed(tortoise)
    assert len(pairs[6][0]) == 4 and len(pairs[7][0]) == 4  # rules and nodes were read
    assert workflows[0]["created_at"].tzinfo is not None
