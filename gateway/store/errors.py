"""Translation of database driver errors into the gateway's own, chained to the original.

Tortoise wraps most driver errors in `OperationalError`, including SQL mistakes, so the
decision is made on the driver's error underneath: only failures of the database *service*
(connection refused or lost, server shutting down, too many connections, SQLite busy or
unwritable) become `StoreUnavailable`, which callers answer with 503 + Retry-After. Anything
else propagates as the bug it is (logged, answered 500).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from tortoise.exceptions import DBConnectionError, IntegrityError

from gateway.core.errors import Conflict, StoreUnavailable

_SERVICE_ERRORS: tuple[type[BaseException], ...] = (
    DBConnectionError,
    ConnectionError,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,  # class 08: connection exceptions
    asyncpg.InterfaceError,  # connection closed or pool shut down under us
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InsufficientResourcesError,
    asyncpg.ReadOnlySQLTransactionError,  # a standby, or a read-only database
    asyncpg.QueryCanceledError,  # statement timeout
)
_SQLITE_SERVICE_MESSAGES = ("locked", "readonly", "read-only", "disk", "unable to open", "busy")


def _service_failure(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, _SERVICE_ERRORS):
            return True
        if isinstance(exc, sqlite3.OperationalError):
            return any(word in str(exc).lower() for word in _SQLITE_SERVICE_MESSAGES)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


_INTEGRITY_ERRORS = (  # the drivers' own too: pg_trip.py runs without Tortoise
    IntegrityError,
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)


def translate(action: str, exc: Exception) -> Exception:
    """The gateway error a driver error stands for, or `exc` itself (a bug, not an outage)."""
    if isinstance(exc, _INTEGRITY_ERRORS):
        return Conflict(f"{action}: {exc}")
    if _service_failure(exc):
        return StoreUnavailable(f"{action}: database unavailable ({exc})")
    return exc


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Run a block of database calls; driver errors come out as gateway errors."""
    try:
        yield
    except Exception as exc:
        error = translate(action, exc)
        if error is exc:
            raise
        raise error from exc
