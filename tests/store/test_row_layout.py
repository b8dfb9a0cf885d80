"""The stored size of an execution: the bench's async call (bench/workflows/async-order.yaml
with bench/payload.json, as `make bench` sends it) stores one row in `executions`, one in
`execution_requests` and two in `jobs`; this pins their columns and the bytes each value
takes, so that what every execution costs the database does not grow unnoticed
(docs/performance.md, stored size per execution). Sizes, not timings: on SQLite the bytes
of each value (text and blobs as stored, a number as 8), on PostgreSQL `pg_column_size`
(after TOAST compression, as stored)."""

from __future__ import annotations

from typing import Any

from tortoise import connections

from tests.support import ROOT, Gateway

BENCH = ROOT / "bench"
HEADERS = {
    "content-type": "application/json",
    "authorization": "Basic YmVuY2g6YmVuY2gtcGFzc3dvcmQ=",  # bench:bench-password
    "x-request-id": "bench",
}
TABLES = {"executions": '"id"', "execution_requests": '"execution_id"', "jobs": '"execution_id"'}

# Bytes per column, summed over the execution's rows of each table. A value within
# MARGIN of its figure passes: the request's headers (httpx's user agent) and the
# compression of PostgreSQL vary a little; a new column, or a value that grows by more,
# fails. Measured as described in the module docstring; update them deliberately.
MARGIN = 0.10
SLACK = 16  # bytes: a small value may move by this much whatever its figure
EXPECTED = {
    "sqlite": {
        "executions": {
            **{"id": 36, "workflow_id": 8, "version_id": 8, "status": 8, "attempts": 8},
            **{"response": 70, "error": 0, "reason": 0, "event_key": 0, "replay_of": 0},
            **{"created_at": 32, "started_at": 32, "finished_at": 32},
            **{"lease_until": 0, "resume_at": 0, "state": 0},
        },
        "execution_requests": {"id": 8, "execution_id": 36, "context": 1673, "raw_body": 1344},
        "jobs": {
            **{"id": 16, "execution_id": 72, "node_key": 11, "node_type": 12, "status": 16},
            **{"result": 4, "position": 0, "started_at": 64, "finished_at": 64, "tries": 0},
        },
    },
    "postgres": {
        "executions": {
            **{"id": 16, "workflow_id": 4, "version_id": 4, "status": 9, "attempts": 4},
            **{"response": 101, "error": 0, "reason": 0, "event_key": 0, "replay_of": 0},
            **{"created_at": 8, "started_at": 8, "finished_at": 8},
            **{"lease_until": 0, "resume_at": 0, "state": 0},
        },
        # context and raw_body: compressed (lz4 where PostgreSQL has it, migration 0008)
        "execution_requests": {"id": 4, "execution_id": 16, "context": 1196, "raw_body": 692},
        "jobs": {
            **{"id": 8, "execution_id": 32, "node_key": 13, "node_type": 14, "status": 18},
            **{"result": 9, "position": 0, "started_at": 16, "finished_at": 16, "tries": 0},
        },
    },
}


def _size_sql(backend: str, table: str, column: str, key: str) -> str:
    if backend == "sqlite":
        size = (
            f"CASE typeof(\"{column}\") WHEN 'null' THEN 0 WHEN 'integer' THEN 8 "
            f"WHEN 'real' THEN 8 ELSE length(CAST(\"{column}\" AS BLOB)) END"
        )
    else:
        size = f'COALESCE(pg_column_size("{column}"), 0)'
    return f'SELECT COALESCE(SUM({size}), 0) FROM "{table}" WHERE {key} = $1'


async def _columns(backend: str, table: str) -> list[str]:
    conn = connections.get("default")
    if backend == "sqlite":
        _, rows = await conn.execute_query(f'PRAGMA table_info("{table}")')
        return [str(row["name"]) for row in rows]
    _, rows = await conn.execute_query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
        "ORDER BY ordinal_position",
        [table],
    )
    return [str(row["column_name"]) for row in rows]


async def stored_sizes(backend: str, execution_id: str) -> dict[str, dict[str, int]]:
    """Bytes per column of every table an execution writes, for that execution's rows."""
    conn = connections.get("default")
    out: dict[str, dict[str, int]] = {}
    for table, key in TABLES.items():
        out[table] = {}
        for column in await _columns(backend, table):
            sql = _size_sql(backend, table, column, key)
            if backend == "sqlite":
                sql = sql.replace("$1", "?")
            _, rows = await conn.execute_query(sql, [execution_id])
            out[table][column] = int(next(iter(dict(rows[0]).values())))
    return out


def differences(measured: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    problems = []
    for table in sorted(measured.keys() | expected.keys()):
        got, want = measured.get(table, {}), expected.get(table, {})
        for column in sorted(got.keys() | want.keys()):
            if column not in want:
                problems.append(f"{table}.{column}: new column, {got[column]} bytes")
            elif column not in got:
                problems.append(f"{table}.{column}: gone (expected {want[column]} bytes)")
            elif abs(got[column] - want[column]) > max(SLACK, MARGIN * want[column]):
                problems.append(f"{table}.{column}: {got[column]} bytes, expected {want[column]}")
    return problems


async def test_the_bench_execution_stores_what_its_columns_are_pinned_to(
    backend: str, gateway: Gateway
) -> None:
    await gateway.apply((BENCH / "workflows" / "async-order.yaml").read_text())
    answer = await gateway.post(
        "bench-async",
        params={"source": "bench"},
        headers=HEADERS,
        content=(BENCH / "payload.json").read_bytes(),
    )
    assert answer.status_code == 202, answer.text
    await gateway.drain()

    measured = await stored_sizes(backend, answer.headers["x-execution-id"])

    assert differences(measured, EXPECTED[backend]) == [], measured


def test_a_new_column_or_a_grown_value_is_a_difference() -> None:
    expected = {"t": {"a": 1000, "b": 10}}
    assert differences({"t": {"a": 1099, "b": 26}}, expected) == []  # within the margins
    assert differences({"t": {"a": 1101, "b": 27}}, expected) == [
        "t.a: 1101 bytes, expected 1000",
        "t.b: 27 bytes, expected 10",
    ]
    assert differences({"t": {"a": 1000, "b": 10, "c": 1}}, expected) == [
        "t.c: new column, 1 bytes"
    ]
    assert differences({"t": {"a": 1000}}, expected) == ["t.b: gone (expected 10 bytes)"]
