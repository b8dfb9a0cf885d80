"""The request node against real HTTP servers on 127.0.0.x."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway import outbound
from gateway.core.statuses import ExecutionStatus, JobStatus
from gateway.engine.processor import Processor, RunResult
from gateway.nodes import compile_plan
from gateway.nodes.request import idempotency_key
from tests.httpserver import Answer, Received, TestServer


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    await outbound.start(("127.0.0.0/8",))
    async with TestServer(host="127.0.0.2") as running:
        yield running
    await outbound.stop()


async def run(
    nodes: list[dict[str, Any]], body: Any = None, execution_id: str = "ex-1"
) -> RunResult:
    plan = compile_plan({"nodes": nodes})
    return await Processor(plan, {"body": body}, execution_id=execution_id).run()


def request(url: str, **config: Any) -> dict[str, Any]:
    return {"key": "call", "type": "request", "config": {"url": url, **config}}


@pytest.mark.parametrize(
    ("config", "method", "target", "content_type", "body"),
    [
        # POST JSON by default, the data rendered as a template
        ({"data": {"id": "{{$context.body.id}}"}}, "POST", "/x", "application/json", b'{"id":7}'),
        # query params are added to the URL's own
        (
            {"method": "GET", "params": [{"name": "q", "value": "{{$context.body.id}}"}]},
            "GET",
            "/x?a=1&q=7",
            None,
            b"",
        ),
        # a form body from an object, and from a {name, value} list
        (
            {
                "contentType": "application/x-www-form-urlencoded",
                "data": {"a": "1 2", "b": "{{$context.body.id}}"},
            },
            "POST",
            "/x",
            "application/x-www-form-urlencoded",
            b"a=1+2&b=7",
        ),
        (
            {
                "contentType": "application/x-www-form-urlencoded",
                "data": [{"name": "n", "value": "v"}],
            },
            "POST",
            "/x",
            "application/x-www-form-urlencoded",
            b"n=v",
        ),
        # text
        (
            {"method": "PUT", "contentType": "text/plain", "data": "id={{$context.body.id}}"},
            "PUT",
            "/x",
            "text/plain",
            b"id=7",
        ),
        # no data, no body
        ({"method": "DELETE"}, "DELETE", "/x", None, b""),
    ],
)
async def test_what_is_sent(
    server: TestServer,
    config: dict[str, Any],
    method: str,
    target: str,
    content_type: str | None,
    body: bytes,
) -> None:
    url = server.url("/x?a=1" if "params" in config else "/x")
    result = await run([request(url, **config)], {"id": 7})
    assert result.status is ExecutionStatus.RESOLVED
    [received] = server.received
    assert (received.method, received.target, received.body) == (method, target, body)
    assert received.headers.get("content-type") == content_type


async def test_headers_and_the_result(server: TestServer) -> None:
    config = {"method": "GET", "headers": [{"name": "X-Token", "value": "t-{{$context.body.id}}"}]}
    result = await run([request(server.url("/h"), **config)], {"id": 7})
    assert server.received[0].headers["x-token"] == "t-7"
    job = result.jobs[0].result
    assert job["status"] == 200
    assert job["headers"]["content-type"] == "application/json"
    assert job["data"] == {"method": "GET", "target": "/h", "body": ""}


@pytest.mark.parametrize(
    ("answer", "config", "status", "job_status", "result"),
    [
        # onlyData: the result is the data alone
        (Answer(200, {"ok": True}), {"onlyData": True}, "RESOLVED", "RESOLVED", {"ok": True}),
        # text stays text
        (
            Answer(200, "plain", [("content-type", "text/plain")]),
            {"onlyData": True},
            "RESOLVED",
            "RESOLVED",
            "plain",
        ),
        # a non-2xx answer fails the job and the execution
        (Answer(502, {"error": "down"}), {"onlyData": True}, "FAILED", "FAILED", {"error": "down"}),
        # unless ignoreFail
        (
            Answer(404, "nope"),
            {"ignoreFail": True, "onlyData": True},
            "RESOLVED",
            "RESOLVED",
            "nope",
        ),
    ],
)
async def test_answers(
    server: TestServer,
    answer: Answer,
    config: dict[str, Any],
    status: str,
    job_status: str,
    result: Any,
) -> None:
    async def reply(_: Received) -> Answer:
        return answer

    server.handler = reply
    outcome = await run(
        [request(server.url("/"), **config), {"key": "after", "type": "end", "config": {}}]
    )
    assert outcome.status == status
    assert (outcome.jobs[0].status, outcome.jobs[0].result) == (job_status, result)


async def test_a_timeout_fails_the_job(server: TestServer) -> None:
    async def never(_: Received) -> Answer:
        await asyncio.Event().wait()
        return Answer()

    server.handler = never
    result = await run([request(server.url("/slow"), timeout=50)])
    assert result.status is ExecutionStatus.FAILED
    assert result.jobs[0].status is JobStatus.FAILED
    assert "timed out" in result.jobs[0].result["error"]
    assert result.error is not None and result.error.startswith("node call:")


async def test_a_refused_connection_fails_or_is_ignored(server: TestServer) -> None:
    closed = server.url("/").replace(str(server.port), "1")
    failed = await run([request(closed)])
    assert failed.status is ExecutionStatus.FAILED
    ignored = await run([request(closed, ignoreFail=True)])
    assert ignored.status is ExecutionStatus.RESOLVED
    assert "failed" in ignored.jobs[0].result["error"]


async def test_idempotency_key_is_stable_per_node_run(server: TestServer) -> None:
    nodes = [
        request(server.url("/a")),
        {"key": "each", "type": "loop", "config": {"target": 2}},
        {**request(server.url("/b")), "key": "inner", "upstream": "each", "branchIndex": 0},
    ]
    await run(nodes, execution_id="ex-1")
    await run(nodes, execution_id="ex-1")  # a re-run of the same execution
    await run(nodes, execution_id="ex-2")
    keys = [r.headers["idempotency-key"] for r in server.received]
    assert keys[:3] == keys[3:6]  # the same on a re-run
    assert len(set(keys[:3])) == 3  # per node and per loop iteration
    assert not set(keys[:3]) & set(keys[6:])  # per execution
    assert keys[1] == idempotency_key("ex-1", "inner", (0,))


async def test_a_configured_idempotency_key_wins(server: TestServer) -> None:
    headers = [{"name": "Idempotency-Key", "value": "mine"}]
    await run([request(server.url("/"), headers=headers)])
    assert server.received[0].headers["idempotency-key"] == "mine"


async def test_cookies_are_not_kept_between_calls(server: TestServer) -> None:
    async def set_cookie(_: Received) -> Answer:
        return Answer(200, "ok", [("set-cookie", "session=secret; Path=/")])

    server.handler = set_cookie
    await run([request(server.url("/"))])
    await run([request(server.url("/"))])
    assert "cookie" not in server.received[1].headers
