"""A group commit on SQLite in one trip to the database thread (and `call`, any function
run there in one trip: a retention batch, store/retention.py).

aiosqlite runs every statement in a thread of its own and hands each result back through
the event loop. Through Tortoise a commit of the writer is seven such trips (BEGIN, new
executions, claims, finishes, jobs, COMMIT, and the no-op commit Tortoise sends before
BEGIN), and while the loop is busy answering calls each trip waits its turn, so a commit
takes several times the database's own work. Here the statements are prepared on the loop
and run by one function in that thread: one trip per commit.

This uses two private attributes (`available`): Tortoise's SQLite client's connection
lock, held so that no other query runs inside this transaction, and aiosqlite's `_execute`,
which runs a function in its thread. So it is a shortcut, taken only while
`GATEWAY_SHORTCUTS` is on (and the attributes are there); otherwise the writer commits
through a Tortoise transaction (`commits.commit`). What it saves is in docs/architecture.md
(Shortcuts).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise import connections

from gateway.core import shortcuts
from gateway.store.rows import Statement

R = TypeVar("R")


@dataclass
class Trip:
    """What one commit writes, in order: `writes`, then `claims` (their rows are returned),
    then `finishes` (each returns the ids it finished), then what `after` makes of the ids
    finished."""

    writes: list[Statement]
    claims: list[Statement]
    finishes: list[Statement]
    after: Callable[[set[str]], list[Statement]]


@dataclass
class Done:
    claimed: list[list[dict[str, Any]]]
    """Rows of each claim statement, in order."""
    finished: set[str]


def _client() -> Any:
    client = connections.get("default")
    return client if client.capabilities.dialect == "sqlite" else None


def available() -> bool:
    """Whether the shortcuts are on and the default connection is SQLite offering what a
    trip needs."""
    if not shortcuts.enabled():
        return False
    client = _client()
    if client is None:
        return False
    connection = getattr(client, "_connection", None)
    return hasattr(client, "_lock") and hasattr(connection, "_execute")


async def commit(trip: Trip) -> Done:
    """Run `trip` in one transaction, in one call to the database thread."""
    done: Done = await call(_run, trip)
    return done


async def call(function: Callable[..., R], *args: Any) -> R:
    """`function(db, *args)` in the database thread, in one call, with the connection to
    itself (`db`: the sqlite3 connection, in autocommit mode as Tortoise opens it)."""
    client = _client()
    async with client._lock:
        connection = client._connection
        result: R = await connection._execute(function, connection._conn, *args)
        return result


def _run(db: sqlite3.Connection, trip: Trip) -> Done:
    """In the database thread (autocommit mode, as Tortoise opens it)."""
    with transaction(db):
        for sql, values in trip.writes:
            db.execute(sql, values)
        claimed = [[dict(row) for row in db.execute(sql, values)] for sql, values in trip.claims]
        finished = {str(row[0]) for sql, values in trip.finishes for row in db.execute(sql, values)}
        for sql, values in trip.after(finished):
            db.execute(sql, values)
    return Done(claimed, finished)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """In the database thread: the block's statements in one transaction, committed at its
    end, rolled back if it raises."""
    db.execute("BEGIN")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
