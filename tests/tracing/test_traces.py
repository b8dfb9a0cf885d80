"""OpenTelemetry traces through the real app: a webhook call, its execution, its nodes and
the outbound calls they make in one trace, `traceparent` continued and propagated; nothing
when tracing is off. Spans are read from the SDK's in-memory exporter."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.core import tracing
from gateway.core.logs import JsonFormatter
from tests.conftest import SettingsFactory
from tests.executors.test_arq import run_workers
from tests.httpserver import TestServer
from tests.support import Gateway, running_gateway

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
FLOW = """
key: flow
sync: %(sync)s
nodes:
  - key: check
    type: condition
    config: {rejectOnFalse: false, calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$context.body.kind}}", a]}]}}}
  - {key: call, type: request, config: {url: "%(url)s", data: {secret: "{{$context.body.secret}}"}}}
"""


@pytest.fixture
def provider() -> TracerProvider:
    return TracerProvider()


@pytest.fixture
def spans(provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.install(None)


@pytest.fixture
async def downstream() -> AsyncIterator[TestServer]:
    async with TestServer() as server:
        yield server


@pytest.fixture
async def gateway(settings_factory: SettingsFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(settings_factory(outbound_allow=("127.0.0.0/8",))) as running:
        yield running


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


@pytest.mark.parametrize("sync", ["true", "false"])
async def test_one_trace_from_the_call_to_the_downstream(
    gateway: Gateway, downstream: TestServer, spans: InMemorySpanExporter, sync: str
) -> None:
    await gateway.apply(FLOW % {"sync": sync, "url": downstream.url("/hook")})

    answer = await gateway.post(
        "flow", json={"kind": "a", "secret": "s3cr3t"}, headers={"traceparent": INCOMING}
    )
    await gateway.drain()

    assert answer.is_success
    named = by_name(spans.get_finished_spans())
    call, execution = named["webhook call"], named["execution"]
    check, node, outbound = named["node check"], named["node call"], named["POST"]
    assert {format(s.context.trace_id, "032x") for s in named.values()} == {TRACE_ID}
    assert parent_of(call) == 0x00F067AA0BA902B7  # the caller's span, continued
    assert parent_of(execution) == call.context.span_id  # across the async hand-off too
    assert parent_of(check) == parent_of(node) == execution.context.span_id
    assert parent_of(outbound) == node.context.span_id
    assert (call.kind, outbound.kind) == (SpanKind.SERVER, SpanKind.CLIENT)
    [received] = downstream.received
    assert received.headers["traceparent"] == (f"00-{TRACE_ID}-{outbound.context.span_id:016x}-01")
    assert call.attributes is not None and call.attributes["gateway.workflow"] == "flow"
    assert execution.attributes is not None
    assert execution.attributes["gateway.execution_id"] == answer.headers["x-execution-id"]
    assert execution.attributes["gateway.execution.status"] == "RESOLVED"
    assert node.attributes == {
        "gateway.node.key": "call",
        "gateway.node.type": "request",
        "gateway.job.status": "RESOLVED",
    }
    assert (
        outbound.attributes is not None and outbound.attributes["http.response.status_code"] == 200
    )
    every = repr([dict(s.attributes or {}) for s in named.values()])
    assert "s3cr3t" not in every and "/hook" not in every  # no payloads, no paths


async def test_nothing_is_traced_or_propagated_when_off(
    gateway: Gateway, downstream: TestServer
) -> None:
    await gateway.apply(FLOW % {"sync": "true", "url": downstream.url("/hook")})

    answer = await gateway.post("flow", json={"kind": "a"}, headers={"traceparent": INCOMING})

    assert answer.is_success and not tracing.ON
    [received] = downstream.received
    assert "traceparent" not in received.headers


def test_log_lines_carry_the_trace_id(spans: InMemorySpanExporter) -> None:
    record = logging.LogRecord("gateway", logging.INFO, __file__, 1, "inside", None, None)
    with tracing.span("work") as span:
        line = JsonFormatter().format(record)
    assert f'"trace_id":"{span.get_span_context().trace_id:032x}"' in line


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),  # nothing configured: off
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_SERVICE_NAME": "gw"}, False),  # naming the service alone turns nothing on
    ],
)
def test_tracing_is_on_only_when_an_exporter_is_configured(env: dict[str, str], on: bool) -> None:
    assert tracing.wanted(env) is on


async def test_a_worker_continues_the_trace_of_the_call_it_runs(
    arq_settings: SettingsFactory,
    downstream: TestServer,
    spans: InMemorySpanExporter,
    provider: TracerProvider,
) -> None:
    settings = arq_settings(outbound_allow=("127.0.0.0/8",))
    async with running_gateway(settings) as server:
        await server.apply(FLOW % {"sync": "false", "url": downstream.url("/hook")})
        answer = await server.post("flow", json={"kind": "a"}, headers={"traceparent": INCOMING})
        await server.drain()  # handed to Redis with its trace context

        tracing.install(provider)  # as a new process: nothing of the server's kept here
        await run_workers(settings)  # a worker: reads the context from Redis

    named = by_name(spans.get_finished_spans())
    call, execution, node = named["webhook call"], named["execution"], named["node call"]
    assert answer.is_success
    assert {format(s.context.trace_id, "032x") for s in named.values()} == {TRACE_ID}
    assert parent_of(execution) == call.context.span_id
    assert parent_of(named["POST"]) == node.context.span_id
    [received] = downstream.received
    assert received.headers["traceparent"].split("-")[1] == TRACE_ID
