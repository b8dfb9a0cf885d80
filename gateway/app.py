"""The Starlette application: the webhook endpoint, the GraphQL API and the health check on
one runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from gateway.api.endpoint import GraphQLEndpoint
from gateway.console.serve import console_routes, with_graphiql
from gateway.core.settings import Settings, load_settings
from gateway.core.tuning import freeze_startup_objects
from gateway.ops import healthz, metrics, readyz
from gateway.service.runtime import Runtime
from gateway.webhook.endpoint import WebhookEndpoint

WEBHOOK_PREFIX = "/api/webhook:trigger/"
WEBHOOK_ROUTE = WEBHOOK_PREFIX + "{key}"


class Gateway(Starlette):
    """Starlette, except that webhook calls go straight to their endpoint: the hot path
    skips the middleware stack and route matching (the endpoint answers its own errors).
    The webhook route stays registered for everything else Starlette offers (url_for).

    Nothing redirects a trailing slash (senders such as Stripe and GitHub do not follow
    a 307): `…/{key}/` answers as `…/{key}`, and any other path under the webhook prefix
    gets the webhook's own 404 (docs/webhooks.md, The URL)."""

    webhook: WebhookEndpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(WEBHOOK_PREFIX):
            key = scope["path"][len(WEBHOOK_PREFIX) :]
            scope["app"] = self
            scope["path_params"] = {"key": key[:-1] if key.endswith("/") else key}
            await self.webhook(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> Gateway:
    runtime = Runtime(settings or load_settings())
    graphql = GraphQLEndpoint(runtime)
    webhook = WebhookEndpoint(runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            await graphql.start()  # refuses to start without an admin token (outside dev)
            freeze_startup_objects()
            yield
        finally:
            await runtime.stop()

    app = Gateway(
        routes=[
            Route(WEBHOOK_ROUTE, webhook),
            Route("/graphql", with_graphiql(graphql, graphql.ide)),
            WebSocketRoute("/graphql", graphql),  # subscriptions (graphql-transport-ws)
            Route("/healthz", healthz),
            Route("/readyz", readyz(runtime)),
            Route("/metrics", metrics(runtime.metrics)),
            *console_routes(),
        ],
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # `/graphql/` is a 404, not a redirect
    app.webhook = webhook
    app.state.runtime = runtime
    return app
