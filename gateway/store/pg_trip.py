"""A group commit on PostgreSQL that is one statement, in one round trip.

Through Tortoise a commit is a pool acquire, BEGIN, the statements and COMMIT, and under
load each of those round trips waits its turn on a busy event loop, so a commit takes
several times what it takes alone. A commit whose only statement is one insert of many
rows (`rows.pg_inserts`) needs no explicit transaction: PostgreSQL runs a lone statement as
its own transaction, and its caller is answered as soon as it returns. (The pool's release
sends nothing: see `db._keep_session`.)

This reads Tortoise's asyncpg pool (a private attribute), so it is a shortcut, taken only
while `GATEWAY_SHORTCUTS` is on (and the pool is there); otherwise the writer commits through
a Tortoise transaction. It pays: 1.2 times the accepted writes per second (`bench/writer.py`).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise import connections

from gateway.core import shortcuts


def _pool() -> asyncpg.Pool | None:
    pool = getattr(connections.get("default"), "_pool", None)
    return pool if isinstance(pool, asyncpg.Pool) else None


def available() -> bool:
    """Whether the shortcuts are on and the default connection is PostgreSQL through an
    asyncpg pool."""
    return shortcuts.enabled() and _pool() is not None


async def execute(sql: str, args: list[Any]) -> None:
    """One statement, committed when this returns (its own implicit transaction)."""
    pool = _pool()
    assert pool is not None, "pg_trip used without an asyncpg pool"
    async with pool.acquire() as connection:  # a broken connection is closed, not reused
        await connection.execute(sql, *args)
