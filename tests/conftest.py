from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.core import shortcuts
from gateway.core.settings import Settings
from tests.api.client import Statements
from tests.databases import (
    REDIS_URL,
    PostgresTemplate,
    SqliteTemplate,
    in_ci,
    postgres_reachable,
    redis_reachable,
)
from tests.support import Gateway, make_settings, running_gateway

SettingsFactory = Callable[..., Settings]
BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a database runs on both backends, unless marked for one."""
    if "backend" not in metafunc.fixturenames:
        return
    backends = list(BACKENDS)
    if metafunc.definition.get_closest_marker("sqlite_only"):
        backends.remove("postgres")
    if metafunc.definition.get_closest_marker("postgres_only"):
        backends.remove("sqlite")
    metafunc.parametrize("backend", backends)


@pytest.fixture(scope="session", autouse=True)
def shortcuts_as_asked() -> None:
    """`GATEWAY_SHORTCUTS=false` (`make test`'s second run) turns the shortcuts off for the
    whole session, also in tests that start no runtime (which is what sets the switch)."""
    shortcuts.configure(make_settings("sqlite://unused.db").shortcuts)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    """One SQLite database migrated by `gateway migrate`; each test gets a copy."""
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresTemplate]:
    problem = postgres_reachable()
    if problem is not None:
        if in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    template = PostgresTemplate(tmp_path_factory.mktemp("postgres-template"))
    yield template
    template.close()


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        template: SqliteTemplate = request.getfixturevalue("sqlite_template")
        yield template.clone(tmp_path / "gateway.db")
        return
    postgres: PostgresTemplate = request.getfixturevalue("postgres_template")
    name = postgres.clone()
    try:
        yield postgres.url(name)
    finally:
        postgres.drop(name)


@pytest.fixture
def settings_factory(database_url: str) -> SettingsFactory:
    def build(**overrides: Any) -> Settings:
        return make_settings(database_url, **overrides)

    return build


@pytest.fixture
async def gateway(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory()) as running:
        yield running


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis; tests keep apart by queue name, never by flushing."""
    problem = redis_reachable()
    if problem is not None:
        if in_ci():
            pytest.fail(f"Redis is required in CI: {problem}")
        pytest.skip(f"Redis not reachable: {problem}")
    return REDIS_URL


@pytest.fixture
def arq_settings(settings_factory: SettingsFactory, redis_url: str) -> SettingsFactory:
    """Settings for the arq executor on a queue of this test's own."""
    queue = f"arq:test:{uuid.uuid4().hex}"

    def build(**overrides: Any) -> Settings:
        return settings_factory(**{"redis_url": redis_url, "redis_queue": queue, **overrides})

    return build


@pytest.fixture
def statements() -> Iterator[Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
