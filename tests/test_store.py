from __future__ import annotations

from tortoise import connections

from gateway.settings import Settings
from gateway.store.db import database_url, model_changes
from tests.conftest import SettingsFactory
from tests.support import Gateway


async def test_models_and_migrations_agree(settings_factory: SettingsFactory) -> None:
    assert await model_changes(settings_factory()) == []


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
