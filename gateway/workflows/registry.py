"""Compiled workflows, cached: trigger key → current version, version id → compiled form.

Versions are immutable, so a compiled version is cached for good (bounded LRU). Which
version a trigger key points at changes with edits: every definition change bumps a
revision counter in the database; this process drops its routes at once when it made the
change itself (`invalidate`) and otherwise within `revision_poll` seconds, when its poller
sees the counter move. A load that raced with an invalidation is not cached.

Whatever a caller sends cannot grow the cache without bound: a key longer than any stored
trigger key is refused before any lookup and never cached, and unknown keys are remembered
in a small LRU of their own (`max_unknown`), apart from the routes of real triggers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from gateway.core.errors import GatewayError
from gateway.core.settings import Settings
from gateway.core.stopping import Stop, stop_task
from gateway.security.secrets import SecretBox
from gateway.store import definitions
from gateway.workflows.compiled import CompiledWorkflow, compile_workflow

log = logging.getLogger("gateway.registry")


@dataclass(frozen=True, slots=True)
class Route:
    enabled: bool
    workflow: CompiledWorkflow


class Registry:
    def __init__(
        self, settings: Settings, max_versions: int = 50_000, max_unknown: int = 1_024
    ) -> None:
        self.settings = settings
        self.max_versions = max_versions
        self.max_unknown = max_unknown
        self.secret_box = SecretBox.from_settings(settings)  # ConfigError: key unset
        self._routes: dict[str, Route] = {}
        self._unknown: OrderedDict[str, None] = OrderedDict()
        self._versions: OrderedDict[int, CompiledWorkflow] = OrderedDict()
        self._generation = 0
        self._revision: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = Stop()

    @property
    def generation(self) -> int:
        """Moves with every definition change seen by this process."""
        return self._generation

    @property
    def cached_keys(self) -> tuple[int, int]:
        """(how many trigger keys are cached, their total length): what callers can grow."""
        keys = [*self._routes, *self._unknown]
        return len(keys), sum(len(key) for key in keys)

    def invalidate(self) -> None:
        self._generation += 1
        self._routes.clear()
        self._unknown.clear()

    async def route(self, trigger_key: str) -> Route | None:
        route = self._routes.get(trigger_key)
        if route is not None:
            return route
        if trigger_key in self._unknown or not definitions.trigger_key_fits(trigger_key):
            return None
        generation = self._generation
        target = await definitions.find_trigger(trigger_key)
        if target is not None:
            compiled = self._compiled(
                target.version_id, target.workflow_id, target.workflow_key, target.definition
            )
            route = Route(target.enabled, compiled)
        if generation == self._generation:
            self._remember(trigger_key, route)
        return route

    def _remember(self, trigger_key: str, route: Route | None) -> None:
        if route is None:
            self._unknown[trigger_key] = None
            if len(self._unknown) > self.max_unknown:
                self._unknown.popitem(last=False)
            return
        if len(self._routes) >= self.max_versions:
            self._routes.clear()
        self._routes[trigger_key] = route

    async def version(self, version_id: int) -> CompiledWorkflow | None:
        cached = self._versions.get(version_id)
        if cached is not None:
            self._versions.move_to_end(version_id)
            return cached
        loaded = await definitions.load_version(version_id)
        if loaded is None:
            return None
        return self._compiled(version_id, *loaded)

    def _compiled(
        self, version_id: int, workflow_id: int, workflow_key: str, definition: dict[str, object]
    ) -> CompiledWorkflow:
        cached = self._versions.get(version_id)
        if cached is not None:
            return cached
        compiled = compile_workflow(
            workflow_id,
            workflow_key,
            version_id,
            dict(definition),
            self.settings.sync_timeout,
            self.secret_box,
        )
        self._versions[version_id] = compiled
        if len(self._versions) > self.max_versions:
            self._versions.popitem(last=False)
        return compiled

    async def start(self) -> None:
        self._revision = await definitions.current_revision()
        self._stop = Stop()
        self._task = asyncio.create_task(self._poll(), name="revision-poller")

    async def stop(self) -> None:
        """Stop after the poll at hand (core/stopping.py)."""
        if self._task is not None:
            await stop_task(self._task, self._stop)
            self._task = None

    async def _poll(self) -> None:
        while not await self._stop.wait(self.settings.revision_poll):
            await self.check_revision()

    async def check_revision(self) -> None:
        try:
            revision = await definitions.current_revision()
        except GatewayError as exc:
            log.warning("cannot read the definitions revision: %s", exc)
            return
        if revision != self._revision:
            self._revision = revision
            self.invalidate()
