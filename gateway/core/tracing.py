"""OpenTelemetry traces, off unless configured (docs/operations.md, Traces).

On when the environment sets `OTEL_TRACES_EXPORTER` (other than `none`) or an OTLP endpoint
(`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); the SDK then reads
the other standard `OTEL_*` variables (service name, headers, sampler). `console` prints
spans on stdout; `otlp` (the default with an endpoint) sends them over OTLP/HTTP.

Off, every instrumented place costs one test of the module global `ON`: nothing is
imported from the SDK, no span objects are made. On, one trace follows a webhook call:
its server span (continuing an incoming W3C `traceparent`), the execution (an async one
joined to the call that accepted it — through Redis when a `gateway worker` runs it), each
node, and each outbound call,
which carries `traceparent` to the downstream. Attributes name the workflow, its version,
the execution, the node and the status — never payloads or secrets.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

ON = False
_tracer: trace.Tracer | None = None
_accepted: OrderedDict[str, otel_context.Context] = OrderedDict()
MAX_ACCEPTED = 10_000  # async executions whose accepting call's context is kept
NAME = "webhook-gateway"


def wanted(env: Mapping[str, str]) -> bool:
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure(env: Mapping[str, str]) -> None:
    """Turn tracing on when the environment asks for it (idempotent)."""
    if ON or not wanted(env):
        return
    from opentelemetry.sdk.resources import OTELResourceDetector, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", NAME)}).merge(
        OTELResourceDetector().detect()
    )
    provider = TracerProvider(resource=resource)
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    install(provider)


def install(provider: trace.TracerProvider | None) -> None:
    """Trace to `provider` (tests: the SDK's in-memory exporter), or stop with None."""
    global ON, _tracer
    _tracer = provider.get_tracer("gateway") if provider is not None else None
    ON = provider is not None
    _accepted.clear()


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: otel_context.Context | None = None,
) -> Iterator[Span]:
    """A span, current for the block; an exception marks it as an error."""
    assert _tracer is not None
    with _tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=dict(attributes or {})
    ) as current:
        yield current


def failed(current: Span, description: str) -> None:
    current.set_status(Status(StatusCode.ERROR, description))


def incoming(headers: Mapping[str, str]) -> otel_context.Context:
    """The context an incoming `traceparent` (and `tracestate`) continues."""
    return propagate.extract(headers)


def outgoing(headers: list[tuple[str, str]]) -> None:
    """Add `traceparent` (and `tracestate`) of the current span to outgoing headers."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    present = {name.lower() for name, _ in headers}
    headers.extend((name, value) for name, value in carrier.items() if name not in present)


def accepted(execution_id: str) -> None:
    """Remember the current context for an async execution this process will run."""
    _accepted[execution_id] = otel_context.get_current()
    if len(_accepted) > MAX_ACCEPTED:
        _accepted.popitem(last=False)


def accepted_context(execution_id: str) -> otel_context.Context | None:
    """The context of the call that accepted `execution_id`, when this process took it."""
    return _accepted.pop(execution_id, None)


def carrier(execution_id: str) -> dict[str, str]:
    """The accepting call's context of `execution_id` as W3C headers, for the process
    that will run it (taken: this process will not)."""
    found = _accepted.pop(execution_id, None)
    headers: dict[str, str] = {}
    if found is not None:
        propagate.inject(headers, context=found)
    return headers


def adopt(execution_id: str, headers: Mapping[str, str]) -> None:
    """Run `execution_id` in the trace that `headers` (from `carrier`) continue."""
    if headers:
        _accepted[execution_id] = propagate.extract(headers)
        if len(_accepted) > MAX_ACCEPTED:
            _accepted.popitem(last=False)


def trace_id() -> str | None:
    """The current trace's id (32 hex digits), for log lines."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
