"""`POST /api/webhook:trigger/{key}`: the answers of SPEC §3, in this order of checks —
405, 404, 401, 413, 400/415 (body), 400 (parse rules) — then run (sync) or accept (async).

An async call is answered only after its execution is committed; a database failure on
that path answers 503 with Retry-After, never a 2xx.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from gateway.engine.processor import Processor, RunResult, utcnow
from gateway.engine.rules import apply_rules
from gateway.errors import Rejected, StoreUnavailable
from gateway.executors.runner import raw_text, run_plan
from gateway.runtime import Runtime
from gateway.statuses import ExecutionStatus
from gateway.store.executions import NewExecution
from gateway.store.ids import new_id
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
from gateway.webhook.parsing import (
    ClientGone,
    Receive,
    parse_body,
    parse_headers,
    parse_query,
    read_body,
)
from gateway.workflows.compiled import CompiledWorkflow

log = logging.getLogger("gateway.webhook")
Scope = MutableMapping[str, Any]


class Call:
    """One parsed webhook call: the `$context` data and the raw body."""

    __slots__ = ("context", "raw", "received_at")

    def __init__(self, context: dict[str, Any], raw: bytes, received_at: datetime) -> None:
        self.context = context
        self.raw = raw
        self.received_at = received_at

    def scope_context(self) -> dict[str, Any]:
        return {**self.context, "rawBody": raw_text(self.raw)}


def _content_length(headers: dict[str, str]) -> int | None:
    value = headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        raise Rejected(400, "invalid_request", "Content-Length is not a number") from None


async def read_call(
    scope: Scope, receive: Receive, workflow: CompiledWorkflow, runtime: Runtime
) -> Call:
    received_at = utcnow()
    visible, hidden = parse_headers(scope["headers"], workflow.named_headers)
    if workflow.username is not None:
        authorization = visible.get("authorization", hidden.get("authorization"))
        check_basic(authorization, workflow.username, workflow.password_hash)
    settings = runtime.settings
    raw = await read_body(receive, settings.body_limit, _content_length(visible))
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


def sync_answer(result: RunResult, execution_id: str) -> tuple[int, list[tuple[str, str]], Any]:
    if result.response is not None:
        response = result.response
        return response.status_code, response.headers, response.body
    body: dict[str, Any] = {"executionId": execution_id, "status": result.status.value}
    if result.reason == "timeout":
        return 408, [], {**body, "error": "timeout"}
    return (200 if result.status is ExecutionStatus.RESOLVED else 500), [], body


def keeps(policy: str, status: ExecutionStatus) -> bool:
    return policy == "all" or (policy == "failed" and status is not ExecutionStatus.RESOLVED)


class WebhookEndpoint:
    """A raw ASGI endpoint (no Request object on the hot path)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        result = await self.handle(scope, receive)
        await result.send(send)

    async def handle(self, scope: Scope, receive: Receive) -> Answer:
        if scope["method"] != "POST":
            return rejected_answer(METHOD_NOT_ALLOWED)
        key = scope["path_params"]["key"]
        try:
            route = await self.runtime.registry.route(key)
            if route is None or not route.enabled:
                raise NOT_FOUND
            workflow = route.workflow
            call = await read_call(scope, receive, workflow, self.runtime)
            if workflow.sync:
                return await self.run_sync(workflow, call)
            return await self.accept(workflow, call)
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

    async def accept(self, workflow: CompiledWorkflow, call: Call) -> Answer:
        execution_id = new_id()
        scope = {
            "$context": call.scope_context(),
            "$system": {"now": utcnow().isoformat()},
            "$env": self.runtime.env,
        }
        headers = workflow.response_headers.render(scope)
        body = workflow.response_body.render(scope)
        status = workflow.response_status
        await self.runtime.writer.write(
            NewExecution(
                id=execution_id,
                workflow_id=workflow.workflow_id,
                version_id=workflow.version_id,
                status=ExecutionStatus.QUEUED,
                context=call.context,
                raw_body=call.raw,
                created_at=call.received_at,
                response={"status": status, "headers": dict(headers), "body": body},
            )
        )
        self.runtime.executor.submit(execution_id)
        return answer(status, headers, body, str(execution_id))

    async def run_sync(self, workflow: CompiledWorkflow, call: Call) -> Answer:
        execution_id = new_id()
        started_at = utcnow()
        processor = Processor(
            workflow.plan, call.scope_context(), self.runtime.env, execution_id=str(execution_id)
        )
        result = await run_plan(workflow, processor)
        status, headers, body = sync_answer(result, str(execution_id))
        if keeps(workflow.keep_executions, result.status):
            await self._record(
                workflow, call, execution_id, started_at, result, (status, headers, body)
            )
        return answer(status, headers, body, str(execution_id))

    async def _record(
        self,
        workflow: CompiledWorkflow,
        call: Call,
        execution_id: uuid.UUID,
        started_at: datetime,
        result: RunResult,
        sent: tuple[int, list[tuple[str, str]], Any],
    ) -> None:
        await self.runtime.writer.write(
            NewExecution(
                id=execution_id,
                workflow_id=workflow.workflow_id,
                version_id=workflow.version_id,
                status=result.status,
                context=call.context,
                raw_body=call.raw,
                created_at=call.received_at,
                started_at=started_at,
                finished_at=utcnow(),
                response={"status": sent[0], "headers": dict(sent[1]), "body": sent[2]},
                error=result.error,
                reason=result.reason,
                jobs=result.jobs,
            )
        )
