"""Per-test databases on SQLite and PostgreSQL, each a copy of one migrated template.

PostgreSQL databases are cloned with `CREATE DATABASE … TEMPLATE` (fast) and dropped
after the test. Where PostgreSQL cannot be reached, its tests are skipped — except in CI
(`CI=true`), where they fail: CI must test both.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from pathlib import Path

import asyncpg

from tests.support import migrate_database, sqlite_url

POSTGRES_ADMIN = os.environ.get(
    "GATEWAY_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"
)
_RUN = uuid.uuid4().hex[:8]
_NAMES = itertools.count(1)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def postgres_url(name: str) -> str:
    base, _, _ = POSTGRES_ADMIN.rpartition("/")
    return f"{base}/{name}"


class PostgresTemplate:
    def __init__(self, cwd: Path) -> None:
        self.name = f"gw_template_{_RUN}"
        asyncio.run(
            _admin(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')
        )
        migrate_database(postgres_url(self.name), cwd)

    def clone(self) -> str:
        return self._create(f'TEMPLATE "{self.name}"')

    def empty(self) -> str:
        """A new database with nothing in it (drop it with `drop`)."""
        return self._create("")

    @staticmethod
    def _create(options: str) -> str:
        name = f"gw_test_{_RUN}_{next(_NAMES)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}" {options}'.rstrip()))
        return name

    @staticmethod
    def url(name: str) -> str:
        return postgres_url(name)

    @staticmethod
    def drop(name: str) -> None:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.drop(self.name)


class SqliteTemplate:
    def __init__(self, cwd: Path) -> None:
        self.path = cwd / "template.db"
        migrate_database(sqlite_url(self.path), cwd)

    def clone(self, target: Path) -> str:
        shutil.copyfile(self.path, target)
        return sqlite_url(target)


REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_reachable(url: str = REDIS_URL) -> str | None:
    """None when Redis answers, else why not."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None
