"""The Starlette application: the webhook endpoint, the GraphQL API and the health check on
one runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from gateway.api.endpoint import GraphQLEndpoint
from gateway.ops import healthz, metrics, readyz
from gateway.runtime import Runtime
from gateway.settings import Settings, load_settings
from gateway.webhook.endpoint import WebhookEndpoint

WEBHOOK_ROUTE = "/api/webhook:trigger/{key}"


def create_app(settings: Settings | None = None) -> Starlette:
    runtime = Runtime(settings or load_settings())
    graphql = GraphQLEndpoint(runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            await graphql.start()  # refuses to start without an admin token (outside dev)
            yield
        finally:
            await runtime.stop()

    app = Starlette(
        routes=[
            Route(WEBHOOK_ROUTE, WebhookEndpoint(runtime)),
            Route("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz(runtime)),
            Route("/metrics", metrics(runtime.metrics)),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
