"""The Starlette application: the webhook endpoint and health check on one runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.runtime import Runtime
from gateway.settings import Settings, load_settings
from gateway.webhook.endpoint import WebhookEndpoint

WEBHOOK_ROUTE = "/api/webhook:trigger/{key}"


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    runtime = Runtime(settings or load_settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = Starlette(
        routes=[
            Route(WEBHOOK_ROUTE, WebhookEndpoint(runtime)),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
