from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from tortoise import connections
from tortoise.exceptions import OperationalError

from gateway.errors import StoreUnavailable
from gateway.settings import Settings
from gateway.store.db import database_url, model_changes
from gateway.store.errors import translated
from gateway.store.executions import ClaimBatch, ExecutionWriter
from gateway.store.ids import new_id
from tests.conftest import SettingsFactory
from tests.support import Gateway


async def test_models_and_migrations_agree(settings_factory: SettingsFactory) -> None:
    assert await model_changes(settings_factory()) == []


@pytest.mark.sqlite_only
async def test_sqlite_runs_in_wal_with_full_sync(gateway: Gateway) -> None:
    conn = connections.get("default")

    _, journal = await conn.execute_query("PRAGMA journal_mode")
    _, synchronous = await conn.execute_query("PRAGMA synchronous")

    assert tuple(journal[0]) == ("wal",)
    assert tuple(synchronous[0]) == (2,)  # FULL


def test_sqlite_url_gets_durability_pragmas() -> None:
    url = database_url(Settings(database_url="sqlite://data/x.db"))
    explicit = database_url(Settings(database_url="sqlite://data/x.db?synchronous=NORMAL"))

    assert url == "sqlite://data/x.db?journal_mode=WAL&synchronous=FULL"
    assert explicit.endswith("synchronous=NORMAL")


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


async def test_the_writer_reports_a_backlog_until_it_has_committed(gateway: Gateway) -> None:
    # Sync answers do not wait for their record's commit unless the writer is this far
    # behind: the backlog, and the memory it holds, stay bounded.
    writer = ExecutionWriter(max_batch=2)
    await writer.start()
    try:
        queued = [writer.write_soon(ClaimBatch([new_id()])) for _ in range(4)]
        behind = writer.backlogged()
        await writer.settled()
        assert behind and not writer.backlogged()
        assert [f.result() for f in queued] == [[], [], [], []]  # nothing was queued to claim
    finally:
        await writer.stop()
