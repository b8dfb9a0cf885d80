"""Prometheus series of retries and dead letters (docs/scaling.md):

- `gateway_request_attempts_total{workflow, outcome}`: tries of request nodes run in this
  process (`ok`, `status`, `network`, `timeout`, `other`);
- `gateway_execution_retries_total{workflow}`: execution retries scheduled in this process;
- `gateway_dead_letters_total{workflow}`: executions that became dead letters in this process;
- `gateway_dead_letters_stored{workflow}`: dead letters stored (the database, at scrape);
- `gateway_retries_waiting`: executions waiting for their next retry (database).

With workers, the per-process counters of the runs are each worker's; the two gauges read
the shared database and are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Gauge
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.executors.runner import RetryCounts
from gateway.service.metrics import Metrics
from gateway.store import retries


class RetryCounters(Collector):
    def __init__(self, counts: RetryCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        attempts = CounterMetricFamily(
            "gateway_request_attempts",
            "Tries of request nodes, by workflow and outcome",
            labels=["workflow", "outcome"],
        )
        for (workflow, outcome), count in self.counts.attempts.items():
            attempts.add_metric([workflow, outcome], count)
        yield attempts
        for name, text, counter in (
            ("gateway_execution_retries", "Execution retries scheduled", self.counts.retries),
            (
                "gateway_dead_letters",
                "Executions that became dead letters",
                self.counts.dead_letters,
            ),
        ):
            family = CounterMetricFamily(name, text, labels=["workflow"])
            for workflow, count in counter.items():
                family.add_metric([workflow], count)
            yield family


def register(metrics: Metrics, counts: RetryCounts) -> None:
    """Add the retry series to `metrics`, the stored ones refreshed at each scrape."""
    metrics.registry.register(RetryCounters(counts))
    stored = Gauge(
        "gateway_dead_letters_stored",
        "Dead letters stored, by workflow",
        ["workflow"],
        registry=metrics.registry,
    )
    waiting = Gauge(
        "gateway_retries_waiting",
        "Executions waiting for their next execution retry",
        registry=metrics.registry,
    )

    async def refresh() -> None:
        stored.clear()
        for workflow, count in (await retries.dead_letters_by_workflow()).items():
            stored.labels(workflow).set(count)
        waiting.set(await retries.waiting_retries())

    metrics.refreshers.append(refresh)
