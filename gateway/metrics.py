"""Prometheus metrics: webhook calls by workflow and status, their latency, and — read from
the database at scrape time — executions by status, the queue's depth and how far behind it
is. One registry per application, so several apps can live in one process (tests)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gateway.store import claims

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self._children: dict[tuple[str, int], tuple[Any, Any]] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gateway_webhook_requests",
            "Webhook calls answered, by workflow and HTTP status",
            ["workflow", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_webhook_request_seconds",
            "Time from the start of a webhook call to its answer",
            ["workflow"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.executions = Gauge(
            "gateway_executions", "Stored executions by status", ["status"], registry=self.registry
        )
        self.queue_depth = Gauge(
            "gateway_queue_depth", "Executions waiting to run (due now)", registry=self.registry
        )
        self.lag = Gauge(
            "gateway_worker_lag_seconds",
            "Age of the oldest execution waiting to run: how far behind the executors are",
            registry=self.registry,
        )

    def observe(self, workflow: str, status: int, seconds: float) -> None:
        key = (workflow, status)
        children = self._children.get(key)
        if children is None:  # labels() validates and locks on every call: look up once
            children = (self.requests.labels(workflow, str(status)), self.latency.labels(workflow))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    async def render(self) -> bytes:
        """The text exposition, with the database-backed gauges refreshed first."""
        counts = await claims.count_by_status()
        self.executions.clear()
        for status, count in counts.items():
            self.executions.labels(status).set(count)
        depth, oldest = await claims.backlog()
        self.queue_depth.set(depth)
        self.lag.set(oldest)
        return generate_latest(self.registry)
