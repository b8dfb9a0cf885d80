"""A stored execution history for the scenarios at scale (8, 9, 11 of `bench/run.py`).

`seed(path, template, count)` copies one real execution (its row, its request and its jobs,
as the gateway wrote them for the bench payload) `count` times into a SQLite database with
bulk `INSERT … SELECT` statements, spread over every workflow stored and every status, one
a minute back from an hour ago: the history is older than anything the load then adds, and
expired for a retention of an hour. `sizes` reports the stored bytes per execution.
"""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORKFLOWS = 100  # the seeded history is spread over them
SPACING_S = 60  # between two seeded executions' creation times
NEWEST_AGE_S = 3600  # the newest seeded execution's age

# Statuses by `n % 10000`: mostly resolved, some of every failure, a few parked (QUEUED
# until a resume time far ahead, as a long `delay` leaves them) and a few STARTED.
STATUSES = (
    (8900, "RESOLVED"),
    (9400, "FAILED"),
    (9600, "ERROR"),
    (9800, "REJECTED"),
    (9880, "ABORTED"),
    (9960, "CANCELED"),
    (9990, "QUEUED"),
    (10000, "STARTED"),
)
UNFINISHED = ("QUEUED", "STARTED")
FINISHED = tuple(s for _, s in STATUSES if s not in UNFINISHED)

_EXECUTION_COLUMNS = '"response", "error", "reason", "event_key", "attempts", "replay_of", "state"'
_JOB_COLUMNS = '"node_key", "node_type", "status", "result", "position"'


def _status_case() -> str:
    cases = " ".join(f"WHEN s.n % 10000 < {bound} THEN '{name}'" for bound, name in STATUSES)
    return f"CASE {cases} END"


def _time(offset: str) -> str:
    """SQL for a time `offset` seconds (an SQL expression) after `:base`, in the text form
    Tortoise stores on SQLite (`2026-12-07 14:00:00.123456+00:00`), so that it sorts
    and compares with the rows the gateway writes."""
    return (
        f"strftime('%Y-%m-%d %H:%M:%S', :base + ({offset}), 'unixepoch') "
        f"|| printf('.%06d+00:00', s.n % 1000000)"
    )


def _statements(template: str) -> list[str]:
    created = _time("s.n * :spacing")
    finished = (
        f"CASE WHEN s.status IN {UNFINISHED} THEN NULL ELSE {_time('s.n * :spacing + 1')} END"
    )
    started = f"CASE WHEN s.status = 'QUEUED' THEN NULL ELSE {created} END"
    resume = "CASE WHEN s.status = 'QUEUED' THEN '2999-01-01 00:00:00.000000+00:00' END"
    lease = f"CASE WHEN s.status = 'STARTED' THEN {_time('s.n * :spacing + 3600')} END"
    # a UUIDv7 of the creation time, as the gateway makes them (core/ids.py): the ids of
    # a history sort as its creation times do, which is what its indexes hold
    millis = "printf('%012x', (:base + c.n * :spacing) * 1000 + (c.n % 1000000) / 1000)"
    uuid = (
        f"lower(printf('%s-%s-7%s-%s-%s', substr({millis}, 1, 8), substr({millis}, 9, 4), "
        "substr(hex(randomblob(2)), 2), '8' || substr(hex(randomblob(2)), 2), "
        "hex(randomblob(6))))"
    )
    return [
        "DROP TABLE IF EXISTS temp.seed_flows",
        "DROP TABLE IF EXISTS temp.seed",
        "CREATE TEMP TABLE seed_flows (n INTEGER PRIMARY KEY, workflow_id INT, version_id INT)",
        "INSERT INTO seed_flows SELECT row_number() OVER (ORDER BY w.id) - 1, w.id, v.id "
        'FROM "workflows" w JOIN "workflow_versions" v '
        "ON v.workflow_id = w.id AND v.version = w.version WHERE true",
        "CREATE TEMP TABLE seed (n INTEGER PRIMARY KEY, id TEXT, status TEXT)",
        "WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < :count) "
        f"INSERT INTO seed SELECT c.n, {uuid}, NULL FROM c",
        f"UPDATE seed AS s SET status = {_status_case()}",
        f'INSERT INTO "executions" ("id", "workflow_id", "version_id", "status", '
        f'"created_at", "started_at", "finished_at", "lease_until", "resume_at", '
        f"{_EXECUTION_COLUMNS}) "
        f"SELECT s.id, f.workflow_id, f.version_id, s.status, {created}, {started}, "
        f"{finished}, {lease}, {resume}, "
        + ", ".join(f"t.{c.strip()}" for c in _EXECUTION_COLUMNS.split(","))
        + " FROM seed s "
        "JOIN seed_flows f ON f.n = s.n % (SELECT COUNT(*) FROM seed_flows) "
        f'CROSS JOIN (SELECT * FROM "executions" WHERE "id" = \'{template}\') t '
        "WHERE true ORDER BY s.n",
        'INSERT INTO "execution_requests" ("execution_id", "context", "raw_body") '
        "SELECT s.id, r.context, r.raw_body FROM seed s CROSS JOIN "
        f'(SELECT * FROM "execution_requests" WHERE "execution_id" = \'{template}\') r '
        "ORDER BY s.n",
        f'INSERT INTO "jobs" ("execution_id", "started_at", "finished_at", {_JOB_COLUMNS}) '
        f"SELECT s.id, {created}, {_time('s.n * :spacing + 1')}, "
        + ", ".join(f"j.{c.strip()}" for c in _JOB_COLUMNS.split(","))
        + " FROM seed s CROSS JOIN "
        f'(SELECT * FROM "jobs" WHERE "execution_id" = \'{template}\' ORDER BY id) j '
        "ORDER BY s.n, j.id",
        "DROP TABLE temp.seed",
        "DROP TABLE temp.seed_flows",
    ]


def seed(path: Path, template: str, count: int) -> float:
    """Store `count` copies of execution `template` (with its request and jobs) in the
    SQLite database at `path`; returns the seconds it took. Nothing else may write to the
    database meanwhile (one transaction holds its write lock throughout)."""
    started = time.monotonic()
    base = int(time.time()) - NEWEST_AGE_S - count * SPACING_S
    params = {"count": count, "base": base, "spacing": SPACING_S}
    with sqlite3.connect(path, timeout=60) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for statement in _statements(template):
            names = {k: v for k, v in params.items() if f":{k}" in statement}
            conn.execute(statement, names)
    return time.monotonic() - started


def expired_left(path: Path, before: str) -> int:
    """Executions created and finished before `before` (a stored time): what retention
    has yet to prune of the seeded history (its STARTED ones, recovered and run by a
    server, finish later). Reads the (status, created_at) index and those rows."""
    marks = ", ".join("?" for _ in FINISHED)
    with sqlite3.connect(path, timeout=60) as conn:
        row = conn.execute(
            f'SELECT COUNT(*) FROM "executions" WHERE "status" IN ({marks}) '
            'AND "created_at" < ? AND "finished_at" < ?',
            (*FINISHED, before, before),
        ).fetchone()
    return int(row[0])


def stored_now(offset: float = 0) -> str:
    """Now plus `offset` seconds, as a stored time (text that compares as times do)."""
    moment = time.time() + offset
    return time.strftime("%Y-%m-%d %H:%M:%S.000000+00:00", time.gmtime(moment))


def unfinished_since(path: Path, since: str) -> int:
    """Executions created at or after `since` that are still QUEUED or STARTED: the drain
    check of a load on top of the history, whose parked and STARTED rows stay as they are."""
    with sqlite3.connect(path, timeout=60) as conn:
        row = conn.execute(
            'SELECT COUNT(*) FROM "executions" WHERE "status" IN (?, ?) AND "created_at" >= ?',
            (*UNFINISHED, since),
        ).fetchone()
    return int(row[0])


def list_arguments(path: Path, depth: int) -> tuple[int, str]:
    """Scenario 9's arguments: the async bench workflow's id, and the cursor of the
    execution `depth` places down the list of all executions, newest first (as the API
    makes it: base64url of `execution:` + created at + `|` + id)."""
    with sqlite3.connect(path, timeout=60) as conn:
        (workflow,) = conn.execute(
            'SELECT id FROM "workflows" WHERE "key" = \'bench-async\''
        ).fetchone()
        created, last_id = conn.execute(
            'SELECT "created_at", "id" FROM "executions" ORDER BY "created_at" DESC, "id" DESC '
            "LIMIT 1 OFFSET ?",
            (depth - 1,),
        ).fetchone()
    text = f"execution:{created.replace(' ', 'T')}|{last_id}"
    return int(workflow), base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


TABLES = ("executions", "execution_requests", "jobs")  # what an execution stores


def sqlite_bytes_per_execution(path: Path) -> int:
    """The pages an execution's rows and their index entries take in a SQLite database
    (`dbstat`), divided by the executions stored."""
    tables = ", ".join(f"'{t}'" for t in TABLES)
    with sqlite3.connect(path, timeout=60) as conn:
        (size,) = conn.execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
            f"(SELECT name FROM sqlite_master WHERE tbl_name IN ({tables}))"
        ).fetchone()
        (count,) = conn.execute('SELECT COUNT(*) FROM "executions"').fetchone()
    return round(int(size) / max(int(count), 1))


def postgres_bytes_per_execution(pg: Callable[[str, str], Any], database: str) -> int:
    """The same on PostgreSQL: the tables with their TOAST and indexes, after a
    `VACUUM FULL` drops the row versions the claims and finishes left behind."""
    pg(f"VACUUM FULL {', '.join(TABLES)}", database)
    size = " + ".join(f"pg_total_relation_size('{t}')" for t in TABLES)
    total = int(pg(f"SELECT {size}", database))
    count = int(pg('SELECT COUNT(*) FROM "executions"', database))
    return round(total / max(count, 1))
