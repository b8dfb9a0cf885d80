"""What every command prints the same way: validation problems, and the database it uses."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gateway.core.errors import ConfigError, DefinitionInvalid
from gateway.core.settings import Settings
from gateway.service import database


def print_problems(error: DefinitionInvalid) -> None:
    print(f"error: {len(error.problems)} problem(s); nothing was changed", file=sys.stderr)
    for problem in error.problems:
        print(f"  - {problem}", file=sys.stderr)


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file of `GATEWAY_DATABASE_URL`, absolute; None for PostgreSQL or memory."""
    url = settings.database_url
    if not url.startswith("sqlite://") or ":memory:" in url:
        return None
    parts = urlsplit(url)
    return Path(parts.netloc + parts.path).resolve()


def database_name(settings: Settings) -> str:
    """`/abs/path/data/gateway.db`, or the PostgreSQL URL without its password."""
    path = sqlite_path(settings)
    if path is not None:
        return str(path)
    parts = urlsplit(settings.database_url)
    if parts.password is not None:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def require_database(settings: Settings) -> None:
    """ConfigError, before anything is created, when the SQLite file does not exist: a
    command run outside the project directory must not leave a stray `data/gateway.db`."""
    path = sqlite_path(settings)
    if path is not None and not path.exists():
        raise ConfigError(
            f"no database at {path} (GATEWAY_DATABASE_URL={settings.database_url}, "
            "relative to the current directory): run the command from the project "
            "directory, set GATEWAY_DATABASE_URL, or run `gateway migrate` to create it"
        )


async def with_store(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    """`work` with the store open around it."""
    async with database.session(settings):
        return await work()
