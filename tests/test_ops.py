from __future__ import annotations

import logging

import pytest
from prometheus_client import generate_latest
from tortoise import connections

from gateway.service.metrics import Metrics
from gateway.store.models import ExecutionRequest
from tests.conftest import SettingsFactory
from tests.support import Gateway, free_port, running_gateway

FLOW = "{key: flow, nodes: [{key: a, type: end, config: {endStatus: 1}}]}"


async def test_health_and_readiness(gateway: Gateway) -> None:
    health = await gateway.client.get("/healthz")
    ready = await gateway.client.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "database": "ok"})


async def test_readiness_checks_redis_when_it_is_configured(arq_settings: SettingsFactory) -> None:
    async with running_gateway(arq_settings()) as gateway:
        ready = await gateway.client.get("/readyz")
    async with running_gateway(
        arq_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    ) as down:
        not_ready = await down.client.get("/readyz")

    assert (ready.status_code, ready.json()["redis"]) == (200, "ok")
    assert not_ready.status_code == 503
    assert not_ready.json()["redis"].startswith("unavailable")
    assert not_ready.headers["retry-after"] == "5"


async def test_metrics_count_calls_and_executions(gateway: Gateway) -> None:
    await gateway.apply(FLOW)
    for _ in range(3):
        await gateway.post("flow", json={})
    await gateway.client.post("/api/webhook:trigger/no-such-key-0000000000000", json={})
    await gateway.drain()

    text = (await gateway.client.get("/metrics")).text

    assert 'gateway_webhook_requests_total{status="200",workflow="flow"} 3.0' in text
    assert 'gateway_webhook_requests_total{status="404",workflow=""} 1.0' in text
    assert 'gateway_webhook_request_seconds_count{workflow="flow"} 3.0' in text
    assert 'gateway_executions{status="RESOLVED"} 3.0' in text
    assert "gateway_queue_depth 0.0" in text
    assert "gateway_worker_lag_seconds 0.0" in text


def test_latency_histogram_buckets_are_cumulative_and_bounds_inclusive() -> None:
    metrics = Metrics()
    for seconds in (0.0005, 0.001, 0.02, 45.0):
        metrics.observe("flow", 200, seconds)
    metrics.observe("flow", 500, 0.2)

    text = generate_latest(metrics.registry).decode()

    bucket = 'gateway_webhook_request_seconds_bucket{le="%s",workflow="flow"} %s'
    assert bucket % ("0.001", "2.0") in text  # 0.0005 and 0.001 itself
    assert bucket % ("0.025", "3.0") in text
    assert bucket % ("0.25", "4.0") in text
    assert bucket % ("30.0", "4.0") in text
    assert bucket % ("+Inf", "5.0") in text
    assert 'gateway_webhook_request_seconds_sum{workflow="flow"} 45.2215' in text
    assert 'gateway_webhook_requests_total{status="500",workflow="flow"} 1.0' in text


async def test_credentials_are_neither_logged_nor_stored(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await gateway.apply(FLOW)
    secret = "Bearer s3cr3t-t0ken"

    await gateway.post("flow", json={}, headers={"authorization": secret, "cookie": "sid=c00kie"})
    await gateway.drain()

    [row] = await ExecutionRequest.all()
    assert "s3cr3t" not in caplog.text and "c00kie" not in caplog.text
    assert "authorization" not in row.context["headers"]
    assert "cookie" not in row.context["headers"]


@pytest.mark.sqlite_only  # PRAGMA query_only: SQLite refusing writes, as on a full disk
async def test_readiness_fails_while_the_database_refuses_writes(gateway: Gateway) -> None:
    await gateway.apply(FLOW)
    connection = connections.get("default")
    await connection.execute_script("PRAGMA query_only = 1")
    try:
        refused = await gateway.post("flow", json={})
        not_ready = await gateway.client.get("/readyz")
    finally:
        await connection.execute_script("PRAGMA query_only = 0")
    ready = await gateway.client.get("/readyz")

    assert refused.status_code == 503  # what every async call gets meanwhile
    assert not_ready.status_code == 503
    assert not_ready.json()["database"].startswith("unavailable")
    assert not_ready.headers["retry-after"] == "5"
    assert (ready.status_code, ready.json()["database"]) == (200, "ok")
