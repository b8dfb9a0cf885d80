"""Test runs: a workflow (stored, or an unsaved document) run against a given request,
with the full trace and no side effects unless asked (docs/testing.md, Test run).

The request goes through what a webhook call goes through — basic authentication and the
signature (unless skipped), the body limit, body parsing, parse rules, the workflow
timeout — and the answer is the one the sender would get, a refusal included. A test run
never counts in metrics, rate limits, failed-authentication blocks or de-duplication, and
is stored as an execution only when asked (`record`).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from gateway import outbound
from gateway.core.clock import utcnow
from gateway.core.errors import DefinitionInvalid, NotFound, Problem, Rejected
from gateway.core.ids import new_id
from gateway.core.records import JobRecord
from gateway.core.settings import Settings
from gateway.engine.processor import Processor, RunResult
from gateway.engine.requests import parse_headers
from gateway.executors.runner import run_plan
from gateway.security.basic_auth import check_basic
from gateway.security.secrets import SecretBox
from gateway.security.signed import SignedRequest
from gateway.service.calls import Call, ran_execution, sync_answer
from gateway.service.captures import captured_call
from gateway.service.intake import Headers, parse_call
from gateway.store import definitions, lookups
from gateway.store.writer import ExecutionWriter
from gateway.workflows.apply import WEBHOOK_PATH, prepare, stored_form
from gateway.workflows.compiled import CompiledWorkflow, compile_workflow, snapshot
from gateway.workflows.documents import Source
from gateway.workflows.rehearsal import NodeTrace, Rehearsal


@dataclass(frozen=True)
class TestRequest:
    """A request to test with. `credentials` False: a stored request (a captured call, a
    past execution), whose secrets are gone, so authentication is not checked."""

    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()
    query: str = ""
    raw: bytes = b""
    credentials: bool = True
    origin: str = "request"


@dataclass(frozen=True)
class Target:
    workflow: CompiledWorkflow
    definition: dict[str, Any]
    trigger_key: str | None
    version: int | None


@dataclass
class TestRun:
    workflow: str
    version: int | None
    sync: bool
    origin: str
    authentication: str
    status: str
    answer: dict[str, Any]
    rejected: bool = False
    error: str | None = None
    reason: str | None = None
    context: dict[str, Any] | None = None
    nodes: list[dict[str, Any]] = field(default_factory=list)
    execution_id: str | None = None
    request: TestRequest | None = None
    skipped_authentication: bool = False

    def as_json(self) -> dict[str, Any]:
        """The `--json` shape (camelCase, as the GraphQL fields)."""
        return {
            "workflow": self.workflow,
            "version": self.version,
            "sync": self.sync,
            "origin": self.origin,
            "authentication": self.authentication,
            "status": self.status,
            "rejected": self.rejected,
            "error": self.error,
            "reason": self.reason,
            "answer": self.answer,
            "context": self.context,
            "nodes": self.nodes,
            "executionId": self.execution_id,
        }


def given_request(
    method: str | None = None,
    headers: Mapping[str, Any] | None = None,
    query: str | None = None,
    body: Any = None,
    raw_body: str | None = None,
    has_body: bool = False,
) -> TestRequest:
    """A request from its parts; `body` (JSON, `has_body`) or `raw_body` (text), not both.
    A JSON body gets `content-type: application/json` unless the headers say otherwise."""
    if has_body and raw_body is not None:
        raise DefinitionInvalid([Problem("request.rawBody", "give either body or rawBody")])
    pairs = [(str(k).lower(), _header_text(v)) for k, v in (headers or {}).items()]
    raw = raw_body.encode() if raw_body is not None else b""
    if has_body:
        raw = orjson.dumps(body)
        if not any(name == "content-type" for name, _ in pairs):
            pairs.append(("content-type", "application/json"))
    verb = (method or "POST").upper()
    return TestRequest(verb, tuple(pairs), (query or "").lstrip("?"), raw)


def _header_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


async def captured_request(call_id: int) -> tuple[TestRequest, int]:
    """A captured call as a request, and its workflow id."""
    call, workflow_id = await captured_call(call_id)
    headers = tuple((k, v) for k, v in call.headers.items() if k != "content-length")
    request = TestRequest(
        call.method, headers, call.query, call.body, False, f"captured call {call_id}"
    )
    return request, workflow_id


async def execution_request(execution_id: uuid.UUID) -> tuple[TestRequest, int]:
    """A past execution's request, and its workflow id."""
    rows = await lookups.requests_by_execution([execution_id])
    executions = await lookups.executions_by_id([execution_id])
    if not rows or not executions:
        raise NotFound(f"no execution with id {execution_id} (or its request is not kept)")
    context = rows[0].context or {}
    headers = tuple(
        (str(k), str(v)) for k, v in (context.get("headers") or {}).items() if k != "content-length"
    )
    request = TestRequest(
        str(context.get("method") or "POST"),
        headers,
        encode_query(context.get("query") or {}),
        bytes(rows[0].raw_body),
        False,
        f"execution {execution_id}",
    )
    return request, executions[0].workflow_id


def encode_query(value: Any, prefix: str = "") -> str:
    """A parsed query back as text, in the `a[0][b]=1` form it is parsed from."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        parts = [
            encode_query(child, f"{prefix}[{key}]" if prefix else str(key)) for key, child in items
        ]
        return "&".join(p for p in parts if p)
    text = "" if value is None else str(value)
    return f"{quote(prefix, safe='[]')}={quote(text, safe='')}"


async def stored_target(key: str, settings: Settings, box: SecretBox) -> Target:
    """The current version of stored workflow `key`."""
    documents = await definitions.load_documents([key])
    if not documents:
        raise NotFound(f"no workflow {key!r}")
    trigger_key = documents[0]["trigger"]["key"]
    found = await definitions.find_trigger(trigger_key)
    if found is None:
        raise NotFound(f"workflow {key!r} has no current version")
    workflow = compile_workflow(
        found.workflow_id,
        found.workflow_key,
        found.version_id,
        dict(found.definition),
        settings.sync_timeout,
        box,
    )
    return Target(workflow, found.definition, trigger_key, documents[0]["version"])


async def stored_document(key: str) -> dict[str, Any] | None:
    """The stored document of workflow `key` (its secrets in their stored form), if any."""
    documents = await definitions.load_documents([key])
    return documents[0] if documents else None


async def workflow_key_of(workflow_id: int) -> str:
    key = await lookups.workflow_key(workflow_id)
    if key is None:
        raise NotFound(f"no workflow {workflow_id}")
    return key


def document_target(
    source: Source,
    settings: Settings,
    box: SecretBox,
    stored: dict[str, Any] | None = None,
) -> Target:
    """An unsaved document, validated as `gateway apply` would; a password or secret it
    leaves out is taken from `stored` (the stored workflow of the same key)."""
    doc = prepare([source], settings)[0]
    problems: list[Problem] = []
    new = stored_form(doc, stored, problems, settings)
    if problems:
        raise DefinitionInvalid(problems)
    definition = snapshot(new)
    workflow_id = stored["id"] if stored else 0
    workflow = compile_workflow(workflow_id, doc["key"], 0, definition, settings.sync_timeout, box)
    return Target(workflow, definition, new["trigger"]["key"], None)


class Tester:
    """Runs test runs with one set of settings (`env`: what `$env` holds)."""

    def __init__(
        self, settings: Settings, env: dict[str, str], writer: ExecutionWriter | None = None
    ) -> None:
        self.settings = settings
        self.env = env
        self.writer = writer

    async def run(
        self,
        target: Target,
        request: TestRequest,
        *,
        side_effects: bool = False,
        skip_authentication: bool = False,
        record: bool = False,
    ) -> TestRun:
        rehearsal = Rehearsal(target.definition, side_effects)
        plan = rehearsal.plan
        workflow = dataclasses.replace(
            target.workflow, plan=plan, untimed=plan.instant or target.workflow.timeout is None
        )
        received_at = utcnow()
        run = TestRun(
            workflow=workflow.workflow_key,
            version=target.version,
            sync=workflow.sync,
            origin=request.origin,
            authentication="none",
            status="REJECTED",
            answer={},
            request=request,
            skipped_authentication=skip_authentication,
        )
        path = WEBHOOK_PATH + (target.trigger_key or "")
        try:
            headers = self._admit(workflow, request, path, run, skip_authentication)
            call = parse_call(
                workflow,
                request.method,
                path,
                headers,
                request.query.encode(),
                request.raw,
                received_at,
                self.settings.json_depth,
            )
        except Rejected as rejected:
            run.rejected = True
            run.answer = _answer(rejected.status, list(rejected.headers.items()), rejected.body())
            return run
        execution_id = new_id()
        run.context = call.context
        result = await self._run(workflow, call, str(execution_id))
        run.status = result.status.value
        run.error, run.reason = result.error, result.reason
        parents = {n["key"]: n.get("upstream") for n in target.definition.get("nodes") or []}
        run.nodes = [
            _node(job, trace, parents.get(job.node_key))
            for job, trace in zip(result.jobs, rehearsal.traces, strict=False)
        ]
        run.answer = self._answer(workflow, call, result, str(execution_id))
        if record:
            await self._record(workflow, call, execution_id, result, run.answer)
            run.execution_id = str(execution_id)
        return run

    def _admit(
        self,
        workflow: CompiledWorkflow,
        request: TestRequest,
        path: str,
        run: TestRun,
        skip: bool,
    ) -> Headers:
        pairs = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers]
        visible, hidden = parse_headers(pairs, workflow.named_headers)
        if workflow.username is None and workflow.signature is None:
            run.authentication = "none"
        elif skip or not request.credentials:
            run.authentication = (
                "skipped" if skip else "not checked: a stored request keeps no credentials"
            )
        else:
            if workflow.username is not None:
                authorization = visible.get("authorization", hidden.get("authorization"))
                check_basic(authorization, workflow.username, workflow.password_hash)
            if workflow.signature is not None:
                url = self.settings.public_url.rstrip("/") + path
                if request.query:
                    url += "?" + request.query
                signed = SignedRequest(visible, request.raw, url)
                workflow.signature.verify(signed, utcnow().timestamp())
            run.authentication = "passed"
        if len(request.raw) > self.settings.body_limit:
            raise Rejected(
                413, "body_too_large", f"the body is larger than {self.settings.body_limit} bytes"
            )
        return Headers(visible, hidden)

    async def _run(self, workflow: CompiledWorkflow, call: Call, execution_id: str) -> RunResult:
        processor = Processor(
            workflow.plan, call.scope_context(), self.env, execution_id=execution_id
        )
        return await run_plan(workflow, processor)

    def _answer(
        self, workflow: CompiledWorkflow, call: Call, result: RunResult, execution_id: str
    ) -> dict[str, Any]:
        if workflow.sync:
            return _answer(*sync_answer(result, execution_id))
        scope = {
            "$context": call.scope_context(),
            "$system": {"now": utcnow().isoformat()},
            "$env": self.env,
        }
        return _answer(
            workflow.response_status,
            workflow.response_headers.render(scope),
            workflow.response_body.render(scope),
        )

    async def _record(
        self,
        workflow: CompiledWorkflow,
        call: Call,
        execution_id: uuid.UUID,
        result: RunResult,
        answer: dict[str, Any],
    ) -> None:
        if self.writer is None or not workflow.workflow_id or not workflow.version_id:
            raise DefinitionInvalid(
                [Problem("record", "only a stored workflow's test run can be recorded")]
            )
        await self.writer.write(
            ran_execution(workflow, call, execution_id, call.received_at, result, answer)
        )


def _answer(status: int, headers: list[tuple[str, str]], body: Any) -> dict[str, Any]:
    return {"status": status, "headers": dict(headers), "body": body}


def _node(job: JobRecord, trace: NodeTrace, upstream: str | None) -> dict[str, Any]:
    result = job.result
    error = None
    if job.status.value in ("ERROR", "FAILED") and isinstance(result, dict):
        error = result.get("error")
    return {
        "key": job.node_key,
        "type": job.node_type,
        "upstream": upstream,
        "position": list(job.position),
        "status": job.status.value,
        "result": result,
        "error": error,
        "durationMs": trace.duration_ms,
        "branch": trace.branch,
        "rendered": trace.rendered,
        "note": trace.note,
        "request": trace.request,
    }


@asynccontextmanager
async def sending(settings: Settings) -> AsyncIterator[None]:
    """The outbound client (and its guard) open for test runs with side effects, as the
    server opens it."""
    await outbound.start(settings.outbound_allow)
    try:
        yield
    finally:
        await outbound.stop()
