"""Prometheus metrics: webhook calls by workflow and status, their latency, and — read from
the database at scrape time — executions by status, the queue's depth and how far behind it
is. One registry per application, so several apps can live in one process (tests).

The per-workflow series are plain counters kept by `WebhookCalls` and turned into metric
families only when scraped: prometheus_client's own labelled children take a lock per
observation and hold a lock and a value object per histogram bucket for every workflow,
which with thousands of workflows dominates the server's memory (docs/performance.md,
scenario 6).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from gateway.store import claims

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BOUNDS = (*(floatToGoString(b) for b in LATENCY_BUCKETS), "+Inf")  # type: ignore[no-untyped-call]


class WebhookCalls(Collector):
    """Calls answered by (workflow, status) and a latency histogram per workflow.

    Observed on the event loop only; a histogram is one list: a count per bucket (the last
    one +Inf, not cumulative) and the sum of the observed seconds.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.latency: dict[str, list[float]] = {}

    def observe(self, workflow: str, status: int, seconds: float) -> None:
        key = (workflow, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        histogram = self.latency.get(workflow)
        if histogram is None:
            histogram = self.latency[workflow] = [0] * (len(_BOUNDS) + 1)
        histogram[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        histogram[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "gateway_webhook_requests",
            "Webhook calls answered, by workflow and HTTP status",
            labels=["workflow", "status"],
        )
        for (workflow, status), count in self.counts.items():
            requests.add_metric([workflow, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "gateway_webhook_request_seconds",
            "Time from the start of a webhook call to its answer",
            labels=["workflow"],
        )
        for workflow, histogram in self.latency.items():
            cumulative = accumulate(histogram[:-1])
            latency.add_metric(
                [workflow], list(zip(_BOUNDS, cumulative, strict=True)), histogram[-1]
            )
        yield latency


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.calls = WebhookCalls()
        self.registry.register(self.calls)
        self.observe = self.calls.observe
        self.executions = Gauge(
            "gateway_executions", "Stored executions by status", ["status"], registry=self.registry
        )
        self.queue_depth = Gauge(
            "gateway_queue_depth", "Executions waiting to run (due now)", registry=self.registry
        )
        self.refreshers: list[Callable[[], Awaitable[None]]] = []
        """Read before each scrape (database-backed series of other modules)."""
        self.lag = Gauge(
            "gateway_worker_lag_seconds",
            "Age of the oldest execution waiting to run: how far behind the executors are",
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "gateway_subscriptions",
            "GraphQL subscriptions open on this server",
            registry=self.registry,
        )

    async def render(self) -> bytes:
        """The text exposition, with the database-backed gauges refreshed first."""
        counts = await claims.count_by_status()
        self.executions.clear()
        for status, count in counts.items():
            self.executions.labels(status).set(count)
        depth, oldest = await claims.backlog()
        self.queue_depth.set(depth)
        self.lag.set(oldest)
        for refresh in self.refreshers:
            await refresh()
        return generate_latest(self.registry)
