from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import Settings
from tests.support import (
    Gateway,
    copy_database,
    make_settings,
    migrate_database,
    running_gateway,
    sqlite_url,
)

SettingsFactory = Callable[..., Settings]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated by `gateway migrate`; each test gets a copy."""
    directory = tmp_path_factory.mktemp("template")
    path = directory / "template.db"
    migrate_database(sqlite_url(path), directory)
    return path


@pytest.fixture
def database_url(template_db: Path, tmp_path: Path) -> str:
    return copy_database(template_db, tmp_path / "gateway.db")


@pytest.fixture
def settings_factory(database_url: str) -> SettingsFactory:
    def build(**overrides: Any) -> Settings:
        return make_settings(database_url, **overrides)

    return build


@pytest.fixture
async def gateway(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory()) as running:
        yield running
