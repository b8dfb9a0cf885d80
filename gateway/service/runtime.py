"""The composition root: settings, store, registry, writer and executor, started and
stopped together. The server, the CLI and the tests all build the gateway through here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from gateway import outbound
from gateway.core import shortcuts, tracing
from gateway.core.errors import DefinitionInvalid
from gateway.core.settings import Settings
from gateway.executors.arq import ArqExecutor
from gateway.executors.base import Executor
from gateway.executors.embedded import EmbeddedExecutor
from gateway.executors.runner import Runner
from gateway.service import credentials, retry_metrics
from gateway.service.captures import Captures
from gateway.service.events import Events
from gateway.service.housekeeping import Housekeeper
from gateway.service.limits import Limits
from gateway.service.metrics import Metrics
from gateway.store.db import close_store, open_store
from gateway.store.writer import ExecutionWriter
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
    executor: Executor = field(init=False)
    env: dict[str, str] = field(init=False)
    housekeeper: Housekeeper = field(init=False)
    metrics: Metrics = field(init=False)
    limits: Limits = field(init=False)
    events: Events = field(init=False)
    captures: Captures = field(init=False)

    def __post_init__(self) -> None:
        self.env = self.settings.template_env_values
        self.registry = Registry(self.settings)
        self.limits = Limits.from_settings(self.settings)
        self.writer = ExecutionWriter()
        self.housekeeper = Housekeeper(self.settings)
        self.metrics = Metrics()
        self.events = Events(self.settings)
        self.metrics.subscriptions.set_function(self.events.__len__)
        self.captures = Captures(self.settings)
        self.captures.on_recorded = self.events.captured
        self.runner = Runner(self.registry, self.writer, self.env)
        retry_metrics.register(self.metrics, self.runner.metrics)
        self.executor = self._executor()
        self.runner.on_parked = self.executor.schedule
        self.runner.on_changed = self.events.publish

    def _executor(self) -> Executor:
        """arq when Redis is configured (workers run executions), else the embedded pool."""
        if self.settings.redis_url:
            return ArqExecutor(self.settings)
        return EmbeddedExecutor(
            self.runner, self.settings.executor_concurrency, self.settings.shutdown_grace
        )

    async def start(self) -> None:
        shortcuts.configure(self.settings.shortcuts)
        tracing.configure(self.settings.env)
        await open_store(self.settings)
        await self.housekeeper.start()
        await self.limits.start()
        if self.settings.workflows_dir:
            await self.apply_directory(self.settings.workflows_dir)
        await self.registry.start()
        await self.captures.start()
        await self.writer.start()
        await outbound.start(self.settings.outbound_allow, per_host=self.settings.outbound_per_host)
        await self.events.start()
        credentials.install(self.settings)
        await self.executor.start()

    async def stop(self) -> None:
        await self.housekeeper.stop()
        await self.executor.stop()
        await self.events.stop()
        await outbound.stop()
        await self.writer.stop()
        await self.registry.stop()
        await self.captures.stop()
        await self.limits.close()
        await close_store()

    async def redis_status(self) -> str:
        if isinstance(self.executor, ArqExecutor):
            return await self.executor.ping()
        return "not used"

    async def apply_directory(self, directory: str) -> None:
        sources, problems = read_sources([directory])
        if problems:
            raise DefinitionInvalid(problems)
        for change in await apply_documents(sources, self.settings):
            log.info("workflows: %s", change.describe())
        self.registry.invalidate()
