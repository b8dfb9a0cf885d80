"""What every resolver gets: the runtime (settings, registry, executor) and this request's
DataLoaders; on a WebSocket, the connection's authentication too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import strawberry

from gateway.api.loaders import Loaders
from gateway.api.relations import RelationCache
from gateway.core.errors import StoreUnavailable
from gateway.core.settings import Settings
from gateway.service.runtime import Runtime
from gateway.service.tokens import AdminTokens

FORBIDDEN = 4403  # graphql-transport-ws: the connection's token is refused


class Closable(Protocol):
    async def close(self, code: int = ..., reason: str | None = ...) -> None: ...


class Connection:
    """A WebSocket's admin token, from its `connection_init` payload
    (`{"authorization": "Bearer <token>"}`), checked again while the socket stays open."""

    def __init__(self, socket: Closable, tokens: AdminTokens) -> None:
        self.socket = socket
        self.tokens = tokens
        self.token: str | None = None

    def take(self, params: object) -> None:
        value = params.get("authorization") if isinstance(params, dict) else None
        scheme, _, token = value.partition(" ") if isinstance(value, str) else ("", "", "")
        token = token.strip()
        self.token = token if scheme.lower() == "bearer" and token else None

    async def accepted(self) -> bool:
        """The token is still valid (False as well when the database cannot say)."""
        if self.token is None:
            return False
        try:
            return await self.tokens.accepts(self.token)
        except StoreUnavailable:
            return False

    async def refuse(self) -> None:
        await self.socket.close(FORBIDDEN, "Forbidden")


@dataclass
class Context:
    runtime: Runtime
    relations: RelationCache = field(default_factory=RelationCache)
    loaders: Loaders = field(default_factory=Loaders)
    connection: Connection | None = None
    connection_params: Any = None  # set by Strawberry from a WebSocket's connection_init

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def changed(self) -> None:
        """After a mutation: forget what this request loaded, and let the webhook routes of
        this process see the change at once."""
        self.loaders = Loaders()
        self.runtime.registry.invalidate()


Info = strawberry.Info[Context, None]
