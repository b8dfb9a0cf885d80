"""Tortoise's SQLite client with a connection the event loop may use too (a Tortoise
engine module: `client_class`).

aiosqlite opens its connection in its own thread, and Python's sqlite3 refuses a
connection in any other thread unless it was opened with `check_same_thread=False`. With
this client the group commit can run a commit that callers wait for on the event loop
itself (`store/sqlite_trip.py`), holding the same lock as every Tortoise query, so the
connection is never used by two threads at once. The connection is opened as Tortoise's
own `create_connection` opens it, with that one argument more; a shortcut, so the store
uses this client only while `GATEWAY_SHORTCUTS` is on (`store/db.py`).
"""

from __future__ import annotations

import sqlite3

import aiosqlite
from tortoise.backends.sqlite.client import SqliteClient


class LoopSqliteClient(SqliteClient):
    async def create_connection(self, with_db: bool) -> None:
        if not self._connection:
            self._connection = await aiosqlite.connect(
                self.filename, isolation_level=None, check_same_thread=False
            )
            self._connection._conn.row_factory = sqlite3.Row
            for pragma, value in self.pragmas.items():
                cursor = await self._connection.execute(f"PRAGMA {pragma}={value}")
                await cursor.close()
            await self._post_connect()


client_class = LoopSqliteClient
