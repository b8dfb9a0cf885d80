"""Operations endpoints: `/healthz` (the process is alive), `/readyz` (it can serve: the
database answers, and Redis when configured) and `/metrics` (Prometheus)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.core.errors import GatewayError
from gateway.service.database import readiness
from gateway.service.metrics import Metrics
from gateway.service.runtime import Runtime

Endpoint = Callable[[Request], Awaitable[Response]]


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def readyz(runtime: Runtime) -> Endpoint:
    async def endpoint(request: Request) -> JSONResponse:
        checks = {"database": await readiness()}
        if runtime.settings.redis_url:
            checks["redis"] = await runtime.redis_status()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", **checks},
            status_code=200 if ready else 503,
            headers=None if ready else {"retry-after": "5"},
        )

    return endpoint


def metrics(registry: Metrics) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            body = await registry.render()
        except GatewayError as exc:
            return Response(f"# database unavailable: {exc}\n", status_code=503)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return endpoint
