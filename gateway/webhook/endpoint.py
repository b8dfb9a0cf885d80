"""`POST /api/webhook:trigger/{key}`: the answers of docs/webhooks.md, in this order of checks —
405, 404, 429 (failed-auth block, rate limit), 401 (basic auth), 413, 401 (signature),
400/415 (body), 400 (parse rules) — then run (sync) or accept (async).

An async call is answered only after its execution is committed; a database failure on
that path answers 503 with Retry-After, never a 2xx.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from time import perf_counter
from typing import Any

from gateway.engine.processor import utcnow
from gateway.engine.requests import parse_body, parse_headers, parse_query
from gateway.engine.rules import apply_rules
from gateway.errors import Rejected, StoreUnavailable
from gateway.runtime import Runtime
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
from gateway.webhook.auth import check_basic
from gateway.webhook.dispatch import Call, Dispatcher
from gateway.webhook.limits import client_address
from gateway.webhook.parsing import ClientGone, Receive, read_body
from gateway.workflows.compiled import CompiledWorkflow

log = logging.getLogger("gateway.webhook")
WORKFLOW_KEY = "gateway.workflow"
Scope = MutableMapping[str, Any]


def _content_length(headers: dict[str, str]) -> int | None:
    value = headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        raise Rejected(400, "invalid_request", "Content-Length is not a number") from None


async def _count_failure(
    runtime: Runtime, workflow: CompiledWorkflow, client: str | None, rejected: Rejected
) -> None:
    """A 401 counts as a failed attempt of `client` on this trigger."""
    if rejected.status == 401 and client is not None:
        await runtime.limits.failed(workflow.workflow_id, client)


async def read_call(
    scope: Scope, receive: Receive, workflow: CompiledWorkflow, runtime: Runtime
) -> Call:
    received_at = utcnow()
    visible, hidden = parse_headers(scope["headers"], workflow.named_headers)
    guarded = workflow.username is not None or workflow.signature is not None
    client = client_address(scope) if guarded else None
    await runtime.limits.admit(workflow.workflow_id, workflow.rate_limit, client)
    if workflow.username is not None:
        authorization = visible.get("authorization", hidden.get("authorization"))
        try:
            check_basic(authorization, workflow.username, workflow.password_hash)
        except Rejected as rejected:
            await _count_failure(runtime, workflow, client, rejected)
            raise
    settings = runtime.settings
    raw = await read_body(receive, settings.body_limit, _content_length(visible))
    if workflow.signature is not None:
        try:
            workflow.signature.verify(visible, raw, received_at.timestamp())
        except Rejected as rejected:
            await _count_failure(runtime, workflow, client, rejected)
            raise
    query = parse_query(scope.get("query_string", b""))
    body = parse_body(visible.get("content-type"), raw, settings.json_depth)
    data = {"headers": visible, "query": query, "body": body}
    problems = apply_rules(workflow.rules, data)
    if problems:
        raise Rejected(
            400, "invalid_request", f"{len(problems)} parse rule(s) failed", details=problems
        )
    context = {
        "method": scope["method"],
        "path": scope["path"],
        "headers": visible,
        "query": query,
        "body": data["body"],
        "receivedAt": received_at.isoformat(),
    }
    return Call(context, raw, received_at)


class WebhookEndpoint:
    """A raw ASGI endpoint (no Request object on the hot path)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.dispatch = Dispatcher(runtime)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = perf_counter()
        result = await self.handle(scope, receive)
        await result.send(send)
        workflow = scope.get(WORKFLOW_KEY, "")  # "" for unknown keys: no label per random key
        self.runtime.metrics.observe(workflow, result.status, perf_counter() - started)

    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        if scope["method"] != "POST":
            return rejected_answer(METHOD_NOT_ALLOWED)
        key = scope["path_params"]["key"]
        try:
            route = await self.runtime.registry.route(key)
            if route is None or not route.enabled:
                raise NOT_FOUND
            workflow = route.workflow
            scope[WORKFLOW_KEY] = workflow.workflow_key
            call = await read_call(scope, receive, workflow, self.runtime)
            if workflow.sync:
                return await self.dispatch.run_sync(workflow, call)
            return await self.dispatch.accept(workflow, call)
        except Rejected as rejected:
            return rejected_answer(rejected)
        except StoreUnavailable as exc:
            log.warning("webhook call refused, store unavailable: %s", exc, extra={"trigger": key})
            return unavailable(exc.retry_after)
        except ClientGone:
            return answer(400, [], {"error": "client_gone"})
        except Exception:
            log.exception("webhook call failed", extra={"trigger": key})
            return internal_error()
