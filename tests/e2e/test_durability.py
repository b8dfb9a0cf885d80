"""No accepted call is lost: a real server process killed with SIGKILL or stopped with
SIGTERM in the middle of a burst, then restarted."""

from __future__ import annotations

import asyncio
import base64
import uuid
from pathlib import Path
from typing import Any

import httpx

from gateway.core.settings import Settings
from gateway.core.statuses import ExecutionStatus
from gateway.store import claims
from gateway.store.db import close_store, open_store
from gateway.store.models import Execution
from tests.conftest import SettingsFactory
from tests.processes import Server, serve
from tests.support import running_gateway

PAYMENTS = "/api/webhook:trigger/example-payment-events-key-0001"
AUTH = {"authorization": "Basic " + base64.b64encode(b"payments:dev-only-password").decode()}


def event(n: int) -> dict[str, Any]:
    return {
        "id": f"evt_{n}",
        "type": "payment_intent.succeeded",
        "data": {"object": {"amount": n + 1}},
    }


async def stored_statuses(settings: Settings) -> dict[str, str]:
    """Every stored execution's status, read straight from the database."""
    await open_store(settings)
    try:
        rows = await Execution.all().values_list("id", "status")
    finally:
        await close_store()
    return {str(row[0]): str(row[1]) for row in rows}


async def burst(server: Server, calls: int, stop_after: int, stop: str) -> list[str]:
    """Fire `calls` async calls; once `stop_after` are answered, signal the server.
    Returns the execution ids of every 2xx answer."""
    accepted: list[str] = []
    answered = 0
    limits = httpx.Limits(max_connections=32)

    async def one(client: httpx.AsyncClient, n: int) -> None:
        nonlocal answered
        try:
            response = await client.post(PAYMENTS, json=event(n), headers=AUTH)
        except httpx.TransportError:
            return  # the server died under this call: no answer, nothing promised
        answered += 1
        if 200 <= response.status_code < 300:
            accepted.append(response.headers["x-execution-id"])
        if answered == stop_after:
            server.kill() if stop == "kill" else server.terminate()

    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:
        await asyncio.gather(*(one(client, n) for n in range(calls)))
    return accepted


async def test_served_over_real_http(database_url: str, tmp_path: Path) -> None:
    async with serve(database_url, tmp_path) as server, httpx.AsyncClient() as client:
        response = await client.post(
            f"{server.base_url}/api/webhook:trigger/example-slack-events-key-0001",
            json={"type": "url_verification", "challenge": "c-123"},
        )
        wrong_method = await client.get(f"{server.base_url}{PAYMENTS}")

    assert (response.status_code, response.json()) == (200, {"challenge": "c-123"})
    assert response.headers["x-execution-id"]
    assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "POST")


async def test_kill_9_mid_burst_loses_no_accepted_call(
    database_url: str, tmp_path: Path, settings_factory: SettingsFactory
) -> None:
    async with serve(database_url, tmp_path, GATEWAY_EXECUTOR_CONCURRENCY="2") as server:
        accepted = await burst(server, calls=400, stop_after=150, stop="kill")
        assert await server.wait() == -9

    stored = await stored_statuses(settings_factory())
    assert len(accepted) >= 150
    assert set(accepted) <= set(stored), "a 2xx was sent for an execution that is not stored"

    async with running_gateway(settings_factory()) as restarted:  # the next start-up
        await restarted.drain()
        finished = {row["id"]: row["status"] for row in await restarted.executions(jobs=False)}

    assert {finished[i] for i in accepted} == {"RESOLVED"}
    assert set(finished.values()) == {"RESOLVED"}


async def test_sigterm_finishes_running_executions_and_answers_in_flight_calls(
    database_url: str, tmp_path: Path, settings_factory: SettingsFactory
) -> None:
    async with serve(database_url, tmp_path, GATEWAY_EXECUTOR_CONCURRENCY="2") as server:
        accepted = await burst(server, calls=300, stop_after=100, stop="term")
        assert await server.wait() == 0  # a graceful stop, as asked

    stored = await stored_statuses(settings_factory())
    assert set(accepted) <= set(stored)
    assert "STARTED" not in stored.values()  # running executions finished before exit
    assert "Application shutdown complete." in "".join(server.log)


FLOWS = (
    "{key: flow, nodes: [{key: done, type: end, config: {endStatus: 1}}]}",
    "{key: flow-lost, options: {onWorkerLost: error}, nodes: [{key: done, type: end, config: {endStatus: 1}}]}",
)


async def test_start_up_recovers_executions_a_dead_process_left_started(
    settings_factory: SettingsFactory,
) -> None:
    async with running_gateway(settings_factory(executor_concurrency=0)) as first:
        await first.apply(*FLOWS)
        rerun_id = (await first.post("flow", json={})).headers["x-execution-id"]
        lost_id = (await first.post("flow-lost", json={})).headers["x-execution-id"]
        for execution_id in (rerun_id, lost_id):  # a worker claims both, then dies
            assert await claims.claim(uuid.UUID(execution_id))

    async with running_gateway(settings_factory()) as second:
        await second.drain()
        rerun = await second.execution(rerun_id)
        lost = await second.execution(lost_id)

    assert rerun["status"] == ExecutionStatus.RESOLVED
    assert (lost["status"], lost["reason"]) == (ExecutionStatus.ERROR, "worker lost")
