"""Captures and test runs in GraphQL (docs/testing.md): `openCapture`, `closeCapture`,
`captures`, `capturedCall` and `testRunWorkflow`. A live stream of captured calls is not
here: clients list a capture's calls after the last id they have (`after`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from gateway.api.context import Info
from gateway.api.errors import bad_input
from gateway.api.queries import execution_id, item_id
from gateway.core.clock import utcnow
from gateway.core.errors import NotFound
from gateway.service import captures as capture_service
from gateway.service import reads, testruns, workflow_tests
from gateway.service.captures import CallRow, CaptureRow
from gateway.service.testruns import Target, TestRequest, TestRun
from gateway.workflows.documents import Source

MAX_LISTED = 100


@strawberry.type(description="One call a capture recorded; secret headers read [redacted]")
class CapturedCall:
    id: strawberry.ID
    capture_id: strawberry.ID
    received_at: datetime
    method: str
    path: str
    headers: JSON
    query: str = strawberry.field(description="The query string, without `?`")
    body: str = strawberry.field(description="The body as text (decoded, cut when truncated)")
    size: int = strawberry.field(description="The body's size as received, in bytes")
    truncated: bool
    answer_status: int | None = strawberry.field(description="What the sender was answered")

    @classmethod
    def from_row(cls, row: CallRow) -> CapturedCall:
        return cls(
            id=strawberry.ID(str(row.id)),
            capture_id=strawberry.ID(str(row.capture_id)),
            received_at=row.received_at,
            method=row.method,
            path=row.path,
            headers=cast(Any, row.headers),
            query=row.query,
            body=row.body.decode("utf-8", errors="replace"),
            size=row.size,
            truncated=row.truncated,
            answer_status=row.answer_status,
        )


@strawberry.type(description="A capture of a workflow's calls (bounded in calls and time)")
class Capture:
    id: strawberry.ID
    workflow_id: strawberry.ID
    opened_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    max_calls: int
    calls_count: int
    open: bool = strawberry.field(description="Still recording calls")

    @strawberry.field(description="Its calls, oldest first; `after`: only those after that id")
    async def calls(self, after: strawberry.ID | None = None) -> list[CapturedCall]:
        since = item_id(after, "after", "captured call") if after is not None else 0
        rows = await capture_service.calls_of([int(self.id)], since, MAX_LISTED)
        return [CapturedCall.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: CaptureRow) -> Capture:
        return cls(
            id=strawberry.ID(str(row.id)),
            workflow_id=strawberry.ID(str(row.workflow_id)),
            opened_at=row.opened_at,
            expires_at=row.expires_at,
            closed_at=row.closed_at,
            max_calls=row.max_calls,
            calls_count=row.calls_count,
            open=row.is_open(utcnow()),
        )


@strawberry.input(description="A request to test with; `body` (JSON) or `rawBody`, not both")
class TestRequestInput:
    method: str = "POST"
    headers: JSON | None = strawberry.field(default=None, description="Name → value")
    query: str | None = strawberry.field(default=None, description="A query string")
    body: JSON | None = strawberry.UNSET
    raw_body: str | None = None


@strawberry.type(description="The answer the sender would get")
class TestAnswer:
    status: int
    headers: JSON
    body: JSON | None


@strawberry.type(description="One node run of a test run, in the order it ran")
class TestRunNode:
    key: str
    type: str
    upstream: str | None = strawberry.field(description="The node whose branch it is on")
    position: list[int] = strawberry.field(description="The enclosing loops' iterations")
    status: str
    result: JSON | None
    error: str | None
    duration_ms: float | None
    branch: int | None = strawberry.field(description="The branch it took, if any")
    rendered: JSON | None = strawberry.field(description="Its config with every template rendered")
    note: str | None = strawberry.field(description="A side effect held back, a wait skipped")
    request: JSON | None = strawberry.field(description="A request node's request, when not sent")


@strawberry.type(description="A workflow run against a request, with its full trace")
class TestRunResult:
    workflow: str
    version: int | None = strawberry.field(description="null for an unsaved document")
    sync: bool
    origin: str = strawberry.field(description="request, captured call N or execution ID")
    authentication: str = strawberry.field(
        description="none, passed, skipped, or not checked (a stored request)"
    )
    status: str = strawberry.field(description="The run's status; REJECTED when refused")
    rejected: bool = strawberry.field(description="Refused before running (4xx answer)")
    error: str | None
    reason: str | None
    answer: TestAnswer
    context: JSON | None = strawberry.field(description="`$context` as the nodes saw it")
    nodes: list[TestRunNode]
    execution_id: str | None = strawberry.field(description="Set when recorded (`record`)")
    test_case: str = strawberry.field(
        description="This run as a workflow test case (YAML, an item of a test file's `cases`)"
    )

    @classmethod
    def from_run(cls, run: TestRun) -> TestRunResult:
        return cls(
            workflow=run.workflow,
            version=run.version,
            sync=run.sync,
            origin=run.origin,
            authentication=run.authentication,
            status=run.status,
            rejected=run.rejected,
            error=run.error,
            reason=run.reason,
            answer=TestAnswer(**run.answer),
            context=cast(Any, run.context),
            nodes=[_node(node) for node in run.nodes],
            execution_id=run.execution_id,
            test_case=workflow_tests.case_text(workflow_tests.case_from(run, case_name(run))),
        )


def case_name(run: TestRun) -> str:
    return f"{run.workflow}: {run.origin} answers {run.answer.get('status')}"


def _node(node: dict[str, Any]) -> TestRunNode:
    return TestRunNode(
        key=node["key"],
        type=node["type"],
        upstream=node["upstream"],
        position=node["position"],
        status=node["status"],
        result=node["result"],
        error=node["error"],
        duration_ms=node["durationMs"],
        branch=node["branch"],
        rendered=node["rendered"],
        note=node["note"],
        request=node["request"],
    )


async def _workflow_id(key: str) -> int:
    row = await reads.workflow_by_key(key)
    if row is None:
        raise NotFound(f"no workflow {key!r}")
    return int(row["id"])


@strawberry.type
class TestingQuery:
    @strawberry.field(description="A workflow's captures, newest first")
    async def captures(self, workflow_key: str) -> list[Capture]:
        workflow = await _workflow_id(workflow_key)
        rows = await capture_service.workflow_captures(workflow, MAX_LISTED)
        return [Capture.from_row(row) for row in rows]

    @strawberry.field(description="One capture; null when there is none")
    async def capture(self, id: strawberry.ID) -> Capture | None:
        row = await capture_service.get_capture(item_id(id, what="capture"))
        return Capture.from_row(row) if row is not None else None

    @strawberry.field(description="One captured call; null when there is none")
    async def captured_call(self, id: strawberry.ID) -> CapturedCall | None:
        try:
            row, _ = await capture_service.captured_call(item_id(id, what="captured call"))
        except NotFound:
            return None
        return CapturedCall.from_row(row)


@strawberry.type
class TestingMutation:
    @strawberry.mutation(
        description="Record the next calls to a workflow's URL, enabled or not (defaults: "
        "10 calls, 300 seconds); an open capture of the workflow is closed"
    )
    async def open_capture(
        self,
        info: Info,
        workflow_key: str,
        max_calls: Annotated[int | None, strawberry.argument(description="1 to 100")] = None,
        seconds: Annotated[int | None, strawberry.argument(description="1 to 3600")] = None,
    ) -> Capture:
        workflow = await _workflow_id(workflow_key)
        row = await info.context.runtime.captures.open_capture(workflow, max_calls, seconds)
        return Capture.from_row(row)

    @strawberry.mutation(description="Stop a capture; its calls are kept until it is pruned")
    async def close_capture(self, info: Info, id: strawberry.ID) -> Capture:
        row = await info.context.runtime.captures.close(item_id(id, what="capture"))
        return Capture.from_row(row)

    @strawberry.mutation(
        description="Run a workflow (stored, or an unsaved `document`) against a request, a "
        "captured call or a past execution's request, with side effects off unless asked"
    )
    async def test_run_workflow(
        self,
        info: Info,
        workflow_key: str | None = None,
        document: JSON | None = None,
        request: TestRequestInput | None = None,
        captured_call_id: strawberry.ID | None = None,
        execution_id: strawberry.ID | None = None,
        side_effects: bool = False,
        skip_authentication: bool = False,
        record: Annotated[
            bool, strawberry.argument(description="Store the run as an execution")
        ] = False,
    ) -> TestRunResult:
        test_request, from_workflow = await _request(request, captured_call_id, execution_id)
        target = await _target(info, workflow_key, document, from_workflow)
        runtime = info.context.runtime
        tester = testruns.Tester(runtime.settings, runtime.env, runtime.writer)
        run = await tester.run(
            target,
            test_request,
            side_effects=side_effects,
            skip_authentication=skip_authentication,
            record=record,
        )
        return TestRunResult.from_run(run)


async def _request(
    given: TestRequestInput | None,
    captured: strawberry.ID | None,
    execution: strawberry.ID | None,
) -> tuple[TestRequest, int | None]:
    if sum(x is not None for x in (given, captured, execution)) != 1:
        raise bad_input("request", "give one of request, capturedCallId or executionId")
    if captured is not None:
        return await testruns.captured_request(item_id(captured, "capturedCallId", "call"))
    if execution is not None:
        return await testruns.execution_request(execution_id(execution, "executionId"))
    assert given is not None
    if given.headers is not None and not isinstance(given.headers, dict):
        raise bad_input("request.headers", "must be an object of name → value")
    has_body = given.body is not strawberry.UNSET
    request = testruns.given_request(
        given.method,
        given.headers,
        given.query,
        given.body if has_body else None,
        given.raw_body,
        has_body,
    )
    return request, None


async def _target(
    info: Info, key: str | None, document: JSON | None, from_workflow: int | None
) -> Target:
    settings = info.context.settings
    box = info.context.runtime.registry.secret_box
    if document is not None:
        if not isinstance(document, dict):
            raise bad_input("document", "must be a workflow document (an object)")
        key = document.get("key")
        stored = await testruns.stored_document(key) if isinstance(key, str) else None
        return testruns.document_target(
            Source("graphql", document, environment=False), settings, box, stored
        )
    if key is None:
        if from_workflow is None:
            raise bad_input("workflowKey", "give workflowKey or document")
        key = await testruns.workflow_key_of(from_workflow)
    return await testruns.stored_target(key, settings, box)
