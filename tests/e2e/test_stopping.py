"""`gateway serve` and `gateway worker` on PostgreSQL and Redis stop within a second of
SIGTERM when nothing is in flight, and exit 0: their background loops (housekeeping, the
revision poll, sweeps, the writer) stop between queries instead of being cancelled in one,
which left a pooled connection busy and made closing the pool wait out its timeout."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from pathlib import Path

import httpx
import pytest

from gateway.core.settings import Settings
from gateway.service import database, executions
from tests.conftest import SettingsFactory
from tests.httpserver import Answer, Received, TestServer
from tests.processes import Server, serve, start_worker, stop

pytestmark = pytest.mark.postgres_only

PAYMENTS = "/api/webhook:trigger/example-payment-events-key-0001"
SLACK = "/api/webhook:trigger/example-slack-events-key-0001"
AUTH = {"authorization": "Basic " + base64.b64encode(b"payments:dev-only-password").decode()}
STOP_WITHIN = 1.0  # seconds from the signal to the exit


async def stopped(process: Server) -> tuple[float, int]:
    """SIGTERM, then the seconds until the process exited, and its exit code."""
    signalled = time.monotonic()
    process.terminate()
    code = await process.process.wait()
    seconds = time.monotonic() - signalled
    await process.wait()  # the rest of its log
    return seconds, code


async def test_serve_and_worker_stop_within_a_second_of_sigterm(
    database_url: str, tmp_path: Path, redis_url: str
) -> None:
    env = {"GATEWAY_REDIS_URL": redis_url, "GATEWAY_REDIS_QUEUE": f"arq:test:{uuid.uuid4().hex}"}
    async with serve(database_url, tmp_path, **env) as server:
        worker = await start_worker(database_url, tmp_path, **env)
        try:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
                accepted = [
                    await client.post(PAYMENTS, json={"id": f"evt_{n}", "type": "x"}, headers=AUTH)
                    for n in range(3)
                ]
                answered = await client.post(
                    SLACK, json={"type": "url_verification", "challenge": "c"}
                )
            await worker.wait_logged("execution finished", count=len(accepted))
        finally:
            worker_seconds, worker_code = await stopped(worker)
        server_seconds, server_code = await stopped(server)

    assert [r.status_code for r in accepted] == [200] * 3 and answered.status_code == 200
    assert worker_code == 0 and worker_seconds < STOP_WITHIN, (worker_seconds, worker.log)
    assert server_code == 0 and server_seconds < STOP_WITHIN, (server_seconds, server.log)


HANGING = """
key: hanging
sync: false
trigger: {{key: hanging-key-0000000000000001}}
nodes:
  - {{key: call, type: request, config: {{method: GET, url: "{url}", timeout: 60000}}}}
"""


async def test_a_stopped_worker_hands_back_what_it_was_running(
    database_url: str, tmp_path: Path, redis_url: str, settings_factory: SettingsFactory
) -> None:
    # Still running when the shutdown grace ends: the job is cancelled and its execution
    # re-queued at once, not left STARTED until its lease runs out.
    called = asyncio.Event()

    async def never(_: Received) -> Answer:
        called.set()
        await asyncio.Event().wait()  # the test never sets it
        return Answer()

    async with TestServer(never) as service:
        workflows = tmp_path / "workflows"
        workflows.mkdir()
        (workflows / "hanging.yaml").write_text(HANGING.format(url=service.url("/slow")))
        env = {
            "GATEWAY_REDIS_URL": redis_url,
            "GATEWAY_REDIS_QUEUE": f"arq:test:{uuid.uuid4().hex}",
            "GATEWAY_WORKFLOWS_DIR": str(workflows),
            "GATEWAY_OUTBOUND_ALLOW": "127.0.0.0/8",
            "GATEWAY_SHUTDOWN_GRACE": "1",
            "GATEWAY_LEASE": "600",
        }
        async with serve(database_url, tmp_path, **env) as server:
            worker = await start_worker(database_url, tmp_path, **env)
            try:
                async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
                    accepted = await client.post(
                        "/api/webhook:trigger/hanging-key-0000000000000001", json={}
                    )
                async with asyncio.timeout(30):
                    await called.wait()  # the worker runs it
            finally:
                code = await stop(worker)

    statuses = await stored_statuses(settings_factory())
    assert accepted.status_code == 200 and code == 0
    assert statuses[accepted.headers["x-execution-id"]] == "QUEUED"


async def stored_statuses(settings: Settings) -> dict[str, str]:
    async with database.session(settings):
        rows = await executions.recent(limit=100)
    return {row["id"]: row["status"] for row in rows}
