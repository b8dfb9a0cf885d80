"""What every resolver gets: the runtime (settings, registry, executor) and this request's
DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from gateway.api.loaders import Loaders
from gateway.api.relations import RelationCache
from gateway.core.settings import Settings
from gateway.service.runtime import Runtime


@dataclass
class Context:
    runtime: Runtime
    relations: RelationCache = field(default_factory=RelationCache)
    loaders: Loaders = field(default_factory=Loaders)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def changed(self) -> None:
        """After a mutation: forget what this request loaded, and let the webhook routes of
        this process see the change at once."""
        self.loaders = Loaders()
        self.runtime.registry.invalidate()


Info = strawberry.Info[Context, None]
