"""`POST /api/webhook:trigger/{key}`: the answers of docs/webhooks.md, in this order of
checks — 405, 404, 429 (failed-auth block, rate limit), 401 (basic auth), 415 (a
content coding it cannot decode), 413 (body size, then decoded size), 401 (signature),
400/415 (body), 400 (parse rules) — then run (sync) or accept (async).
The checks and the run are the service's (`service/intake.py`, `service/calls.py`); this
adapter reads the request, sends the answer and counts it.

An async call is answered only after its execution is committed; a database failure on
that path answers 503 with Retry-After, never a 2xx.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from time import perf_counter
from typing import Any

from opentelemetry.trace import SpanKind

from gateway.core import tracing
from gateway.core.clock import utcnow
from gateway.core.errors import Rejected, StoreUnavailable
from gateway.service.calls import Call, Calls, Reply
from gateway.service.captures import CaptureRow
from gateway.service.intake import Intake
from gateway.service.runtime import Runtime
from gateway.webhook.answers import (
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    Answer,
    Send,
    answer,
    internal_error,
    rejected_answer,
    unavailable,
)
from gateway.webhook.capturing import Teed, captured_answer, header_dict, record
from gateway.webhook.clients import client_address
from gateway.webhook.parsing import (
    ClientGone,
    Receive,
    content_codings,
    decode_body,
    read_body,
)
from gateway.workflows.compiled import CompiledWorkflow
from gateway.workflows.registry import Route

log = logging.getLogger("gateway.webhook")
WORKFLOW_KEY = "gateway.workflow"
Scope = MutableMapping[str, Any]


def _content_length(headers: dict[str, str]) -> int | None:
    value = headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        raise Rejected(400, "invalid_request", "Content-Length is not a number") from None


def _answer(reply: Reply) -> Answer:
    return answer(reply.status, reply.headers, reply.body, reply.execution_id)


class WebhookEndpoint:
    """A raw ASGI endpoint (no Request object on the hot path)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.calls = Calls(runtime)
        self.intake = Intake(runtime.limits, runtime.settings.json_depth)

    async def read_call(self, scope: Scope, receive: Receive, workflow: CompiledWorkflow) -> Call:
        received_at = utcnow()
        client = client_address(scope) if self.intake.guarded(workflow) else None
        headers = await self.intake.admit(workflow, scope["headers"], client)
        limit = self.runtime.settings.body_limit
        declared = _content_length(headers.visible)
        codings = content_codings(headers.visible.get("content-encoding"))
        raw = await read_body(receive, limit, declared)
        if codings:
            raw = decode_body(raw, codings, limit)
        query_string = scope.get("query_string", b"")
        url = self._public_url(scope["path"], query_string)
        await self.intake.verify(workflow, headers, raw, received_at, client, url)
        return self.intake.call(
            workflow, scope["method"], scope["path"], headers, query_string, raw, received_at
        )

    def _public_url(self, path: str, query_string: bytes) -> str:
        """The URL the sender called, as it was given it: `GATEWAY_PUBLIC_URL` + path."""
        base = self.runtime.settings.public_url.rstrip("/") + path
        return f"{base}?{query_string.decode('latin-1')}" if query_string else base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = perf_counter()
        if tracing.ON:
            result = await self._traced(scope, receive)
        else:
            result = await self.handle(scope, receive)
        await result.send(send)
        workflow = scope.get(WORKFLOW_KEY, "")  # "" for unknown keys: no label per random key
        self.runtime.metrics.observe(workflow, result.status, perf_counter() - started)

    async def _traced(self, scope: Scope, receive: Receive) -> Answer:
        """`handle` in a server span continuing the caller's `traceparent`."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = tracing.incoming(headers)
        with tracing.span("webhook call", kind=SpanKind.SERVER, parent=parent) as span:
            result = await self.handle(scope, receive)
            span.set_attribute("gateway.workflow", scope.get(WORKFLOW_KEY, ""))
            span.set_attribute("http.response.status_code", result.status)
            if result.status >= 500:
                tracing.failed(span, f"answered {result.status}")
        return result

    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        if scope["method"] != "POST":
            return rejected_answer(METHOD_NOT_ALLOWED)
        key = scope["path_params"]["key"]
        try:
            if not key or "/" in key:
                raise NOT_FOUND
            route = await self.runtime.registry.route(key)
            if route is None:
                raise NOT_FOUND
            if self.runtime.captures.open:
                capture = self.runtime.captures.watching(route.workflow.workflow_id)
                if capture is not None:
                    return await self.captured(scope, receive, route, capture)
            if not route.enabled:
                raise NOT_FOUND
            workflow = route.workflow
            scope[WORKFLOW_KEY] = workflow.workflow_key
            call = await self.read_call(scope, receive, workflow)
            if workflow.sync:
                return _answer(await self.calls.run_sync(workflow, call))
            return _answer(await self.calls.accept(workflow, call))
        except Exception as exc:
            return self.failed(exc, key)

    async def run(self, workflow: CompiledWorkflow, call: Call) -> Answer:
        if workflow.sync:
            return _answer(await self.calls.run_sync(workflow, call))
        return _answer(await self.calls.accept(workflow, call))

    def failed(self, exc: Exception, key: str) -> Answer:
        if isinstance(exc, Rejected):
            return rejected_answer(exc)
        if isinstance(exc, StoreUnavailable):
            log.warning("webhook call refused, store unavailable: %s", exc, extra={"trigger": key})
            return unavailable(exc.retry_after)
        if isinstance(exc, ClientGone):
            return answer(400, [], {"error": "client_gone"})
        log.error("webhook call failed", exc_info=exc, extra={"trigger": key})
        return internal_error()

    async def captured(
        self, scope: Scope, receive: Receive, route: Route, capture: CaptureRow
    ) -> Answer:
        """A call while its workflow's capture is open: answered as usual (202 when the
        workflow is disabled) and recorded; a disabled workflow's 202 is only sent once
        the call is stored."""
        teed = Teed(receive)
        workflow = route.workflow
        scope[WORKFLOW_KEY] = workflow.workflow_key
        limit = self.runtime.settings.body_limit
        try:
            if route.enabled:
                result = await self.run(workflow, await self.read_call(scope, teed, workflow))
            else:
                declared = _content_length(header_dict(scope["headers"]))
                await read_body(teed, limit, declared)
                result = captured_answer(workflow.workflow_key)
        except Exception as exc:
            result = self.failed(exc, scope["path_params"]["key"])
        stored = await record(self.runtime.captures, capture, scope, teed, result.status, limit)
        if not route.enabled and result.status == 202 and not stored:
            return rejected_answer(NOT_FOUND)  # the capture closed meanwhile: as if none
        return result
