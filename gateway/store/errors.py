"""Translation of database driver errors into the gateway's own (STYLE §7)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.exceptions import (
    ConfigurationError,
    DBConnectionError,
    IntegrityError,
    OperationalError,
    TransactionManagementError,
)

from gateway.errors import Conflict, StoreUnavailable

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    DBConnectionError,
    OperationalError,
    TransactionManagementError,
    ConfigurationError,
    sqlite3.OperationalError,
    ConnectionError,
    OSError,
    TimeoutError,
)

try:  # asyncpg is present with the PostgreSQL extra; its errors leak through Tortoise
    import asyncpg

    _UNAVAILABLE += (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.CannotConnectNowError,
    )
except ImportError:  # pragma: no cover
    pass


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Run a block of database calls; driver errors come out as gateway errors."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(f"{action}: {exc}") from exc
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(f"{action}: database unavailable ({exc})") from exc
