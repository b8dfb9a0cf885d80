"""Test harness: a real gateway app on a fresh migrated database, driven over ASGI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.core.settings import Settings, load_settings
from gateway.service.runtime import Runtime
from gateway.store import definitions, reads
from gateway.workflows.apply import Change, apply_documents
from gateway.workflows.documents import Source

ROOT = Path(__file__).resolve().parent.parent
# Real webhook payloads, copied from the team's shared collection (a clone has no ../shared).
PAYLOADS = ROOT / "tests" / "fixtures"
GATEWAY_BIN = str(Path(sys.executable).parent / "gateway")
TEST_SECRET_KEY = "test-only-secret-key-not-for-production-0123456789"
TEST_ADMIN_TOKEN = "test-admin-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def migrate_database(url: str, cwd: Path) -> None:
    """Create a schema through the real CLI (`gateway migrate`)."""
    env = {**os.environ, "GATEWAY_DATABASE_URL": url}
    subprocess.run([GATEWAY_BIN, "migrate"], cwd=cwd, env=env, check=True, capture_output=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite://{path}"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    env = {"GATEWAY_CONFIG": "/nonexistent/gateway.toml", **overrides.pop("env", {})}
    if "GATEWAY_SHORTCUTS" in os.environ:  # `make test` runs the suite with them off too
        env.setdefault("GATEWAY_SHORTCUTS", os.environ["GATEWAY_SHORTCUTS"])
    overrides.setdefault("secret_key", TEST_SECRET_KEY)
    overrides.setdefault("admin_tokens", (TEST_ADMIN_TOKEN,))
    return load_settings(env, database_url=database_url, **overrides)


class Gateway:
    """A running app: `client` talks to it over ASGI; helpers apply workflows and drain."""

    def __init__(self, app: Starlette, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.runtime: Runtime = app.state.runtime
        self.settings = self.runtime.settings

    async def apply(self, *documents: dict[str, Any] | str, prune: bool = False) -> list[Change]:
        sources = [
            Source(f"doc{i}", yaml.safe_load(d) if isinstance(d, str) else d)
            for i, d in enumerate(documents)
        ]
        changes = await apply_documents(sources, self.settings, prune=prune)
        self.runtime.registry.invalidate()
        return changes

    async def url(self, workflow_key: str) -> str:
        [doc] = await definitions.load_documents([workflow_key])
        return f"/api/webhook:trigger/{doc['trigger']['key']}"

    async def post(self, workflow_key: str, **kwargs: Any) -> httpx.Response:
        """Call a workflow's webhook."""
        return await self.client.post(await self.url(workflow_key), **kwargs)

    async def drain(self) -> None:
        """Wait until the embedded executor has run everything submitted, and every write
        queued so far is committed."""
        await self.runtime.executor.join()
        await self.runtime.writer.settled()

    async def executions(
        self, workflow_key: str | None = None, jobs: bool = True
    ) -> list[dict[str, Any]]:
        await self.runtime.writer.settled()
        return await reads.list_executions(workflow_key, limit=10_000, with_jobs=jobs)

    async def execution(self, execution_id: str) -> dict[str, Any]:
        rows = await self.executions()
        [row] = [r for r in rows if r["id"] == execution_id]
        return row


class SettlingTransport(httpx.ASGITransport):
    """Returns each answer once what the call queued for writing is committed: a sync call
    answers before its record's group commit, and tests read the database right after."""

    def __init__(self, app: Starlette) -> None:
        super().__init__(app=app)
        self.runtime: Runtime = app.state.runtime

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        await self.runtime.writer.settled()
        return response


@asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[Gateway]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = SettlingTransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Gateway(app, client)
