"""The composition root: settings, store, registry, writer and executor, started and
stopped together. The server, the CLI and the tests all build the gateway through here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from gateway.errors import DefinitionInvalid
from gateway.executors.embedded import EmbeddedExecutor
from gateway.executors.runner import Runner
from gateway.settings import Settings
from gateway.store.db import close_store, open_store
from gateway.store.executions import ExecutionWriter
from gateway.workflows.apply import apply_documents
from gateway.workflows.documents import read_sources
from gateway.workflows.registry import Registry

log = logging.getLogger("gateway")


@dataclass
class Runtime:
    settings: Settings
    registry: Registry = field(init=False)
    writer: ExecutionWriter = field(init=False)
    runner: Runner = field(init=False)
    executor: EmbeddedExecutor = field(init=False)
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.env = self.settings.template_env_values
        self.registry = Registry(self.settings)
        self.writer = ExecutionWriter()
        self.runner = Runner(self.registry, self.writer, self.env)
        self.executor = EmbeddedExecutor(
            self.runner, self.settings.executor_concurrency, self.settings.shutdown_grace
        )

    async def start(self) -> None:
        await open_store(self.settings)
        if self.settings.workflows_dir:
            await self.apply_directory(self.settings.workflows_dir)
        await self.registry.start()
        await self.writer.start()
        await self.executor.start()

    async def stop(self) -> None:
        await self.executor.stop()
        await self.writer.stop()
        await self.registry.stop()
        await close_store()

    async def apply_directory(self, directory: str) -> None:
        sources, problems = read_sources([directory])
        if problems:
            raise DefinitionInvalid(problems)
        for change in await apply_documents(sources, self.settings):
            log.info("workflows: %s", change.describe())
        self.registry.invalidate()
