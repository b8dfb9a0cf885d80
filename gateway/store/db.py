"""Database lifecycle: the Tortoise config built from settings, init, migrate, close."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor
from tortoise.transactions import in_transaction

from gateway.core.errors import ConfigError, GatewayError
from gateway.core.settings import Settings
from gateway.store.errors import translated

APP = "gateway"
# journal_size_limit: Tortoise's default (16 KB) truncates the WAL after every checkpoint
# (every 1,000 pages), so the file is regrown all the time; kept up to 64 MB, its space is
# reused and each COMMIT is cheaper.
_SQLITE_PRAGMAS = {"journal_mode": "WAL", "synchronous": "FULL", "journal_size_limit": "67108864"}
# PostgreSQL: every statement planned with its own values. asyncpg prepares each statement
# once per connection, and after five runs PostgreSQL may keep a generic plan for it for the
# connection's life. A generic plan made while the executions table was nearly empty scans
# the status index (an entry per version of every row) once the table has grown, so claims
# and finishes slow down as the backlog grows, worst where statistics lag (no autovacuum).
# Planning each run costs far less than such a scan.
_POSTGRES_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


async def _keep_session(connection: Any) -> None:
    """A pooled connection's reset on release: none beyond asyncpg's own.

    Before this runs asyncpg rolls back a transaction left open and drops listeners. Its
    default reset query also runs `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL;`, one more round trip on every release. The gateway takes no advisory
    locks, opens no cursors, never LISTENs, and sets its session settings only at connect
    (`_POSTGRES_SETTINGS`), so that query has nothing to undo, and skipping it spares the
    round trip a worker's claim and finish would each wait on (measured with `bench/cpu.py`,
    docs/performance.md).
    """


def database_url(settings: Settings) -> str:
    """The Tortoise URL with SQLite's durability pragmas: an accepted call survives a crash.

    `sqlite://data/gateway.db` → `sqlite://data/gateway.db?journal_mode=WAL&synchronous=FULL&…`
    (pragmas already in the URL win).
    """
    url = settings.database_url
    if not url.startswith("sqlite://"):
        return url.replace("postgresql://", "postgres://", 1)
    parts = urlsplit(url)
    query = dict(_SQLITE_PRAGMAS) | dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _connection(settings: Settings) -> str | dict[str, Any]:
    url = database_url(settings)
    if url.startswith("sqlite://"):
        return url
    config = expand_db_url(url)
    config["credentials"]["server_settings"] = dict(_POSTGRES_SETTINGS)
    config["credentials"]["reset"] = _keep_session
    return config


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(settings)},
        "apps": {
            APP: {
                "models": ["gateway.store.models"],
                "migrations": "migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_dir(settings: Settings) -> None:
    url = settings.database_url
    if url.startswith("sqlite://") and ":memory:" not in url:
        path = urlsplit(url).netloc + urlsplit(url).path
        Path(path).parent.mkdir(parents=True, exist_ok=True)


async def pending_migrations(settings: Settings) -> list[str]:
    """Names of the migrations not yet applied to the database (Tortoise must be open)."""
    config = tortoise_config(settings)
    executor = MigrationExecutor(get_connection("default"), config["apps"])
    async with translated("read migration state"):
        steps = await executor.plan()
    return [step.migration.name for step in steps if not step.backward]


async def open_store(settings: Settings) -> None:
    """Connect, and refuse to go on with a database that `gateway migrate` has not set up."""
    _ensure_sqlite_dir(settings)
    # Tortoise caches compiled INSERT/UPDATE statements per connection *name*; a process that
    # reconnects to another kind of database under the same name must not reuse them. Not a
    # shortcut (it saves nothing, and Tortoise offers no public way to reset the cache).
    EXECUTOR_CACHE.clear()
    # Global fallback: the server opens the store in its lifespan task, requests run in others.
    # Not a shortcut: it is how Tortoise's own Starlette integration (`RegisterTortoise`) opens
    # it; the alternative, entering the returned context per request, is not safe for
    # concurrent requests (the context keeps one token).
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    pending = await pending_migrations(settings)
    if pending:
        await close_store()
        raise ConfigError(
            f"the database needs migrations {', '.join(pending)}: run `gateway migrate`"
        )


async def close_store() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> list[str]:
    """Apply every migration in `migrations/` (Tortoise's built-in migration engine); the
    names of those it applied."""
    _ensure_sqlite_dir(settings)
    applied: list[str] = []

    def report(connection: str, plan: list[Any], fake: bool, dry_run: bool) -> None:
        applied.extend(step.migration.name for step in plan if not step.backward)

    try:
        await tortoise_migrate(config=tortoise_config(settings), reporter=report)
    finally:
        await Tortoise.close_connections()
    return applied


async def model_changes(settings: Settings) -> list[str]:
    """Migrations `makemigrations` would write for model changes not yet in `migrations/`:
    empty when the models and the migrations agree."""
    config = tortoise_config(settings)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        if ctx.apps is None:
            raise ConfigError("Tortoise did not load the gateway's models")
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    return [f"{writer.app_label}.{writer.name}" for writer in writers]


async def ping() -> str:
    """ "ok" when the database answers a query and commits a write, else why not.

    The write rewrites the revision counter's row with its own value: a database that
    answers reads but refuses writes (full disk, read-only) is not ready, since every
    async call would be refused."""
    try:
        async with translated("readiness check"):
            await get_connection("default").execute_query("SELECT 1")
        async with translated("readiness write check"), in_transaction() as connection:
            await connection.execute_query('UPDATE "revision" SET "value" = "value"')
    except GatewayError as exc:
        return f"unavailable: {exc}"
    return "ok"
