"""The database as one-off commands see it: migrating it, and a session to work in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.core.settings import Settings
from gateway.store import db


async def migrate(settings: Settings) -> list[str]:
    """Create or upgrade the schema to the newest migration; the migrations applied."""
    return await db.migrate(settings)


@asynccontextmanager
async def session(settings: Settings) -> AsyncIterator[None]:
    """The store opened for the block and closed after it."""
    await db.open_store(settings)
    try:
        yield
    finally:
        await db.close_store()


async def readiness() -> str:
    """ "ok" when the database answers, else why not."""
    return await db.ping()
